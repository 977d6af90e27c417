// RUN: lmc-opt %s --lm-lower-to-linalg --split-input-file | FileCheck %s

// Rotary embeddings and attention temperature
// (lib/Codegen/LMToLinalg/Rope.cpp). RoPE is one generic over [B, T, H, D]
// that reads each channel's rotation partner from the input and its
// frequency from a constant table of rotary_dim / 2 entries.

// Half-split pairs (i, i + 4) of rotary_dim 8, theta 1e4:
// inv_freq = 1e4^(-2i/8) = [1, 0.1, 0.01, 0.001]. The first half of a pair
// gets a cos - b sin, the second b cos + a sin.
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[POS:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// CHECK-LABEL: func.func @rope_half_split
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<?x?x2x8xf32>
// CHECK: %[[TABLE:.*]] = arith.constant dense<[1.000000e+00, 1.000000e-01, 0.00999999977, 1.000000e-03]> : tensor<4xf32>
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[POS]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%[[X]], %{{.*}} : tensor<?x?x2x8xf32>, tensor<?x?xi64>)
// CHECK: ^bb0(%[[SELF:.*]]: f32, %[[P:.*]]: i64, %{{.*}}: f32):
// CHECK: %[[D:.*]] = linalg.index 3 : index
// CHECK-DAG: %[[LT:.*]] = arith.cmpi slt, %[[D]], %c8 : index
// CHECK-DAG: %[[GE:.*]] = arith.cmpi sge, %[[D]], %c0 : index
// CHECK: %[[INSIDE:.*]] = arith.andi %[[GE]], %[[LT]] : i1
// CHECK: %[[I:.*]] = arith.select %[[INSIDE]], %[[D]], %c0 : index
// CHECK: %[[FIRST:.*]] = arith.cmpi slt, %[[I]], %c4 : index
// CHECK: %[[PAIR:.*]] = arith.select %[[FIRST]], %[[I]], %{{.*}} : index
// CHECK-DAG: %[[UP:.*]] = arith.addi %[[I]], %c4 : index
// CHECK-DAG: %[[DOWN:.*]] = arith.subi %[[I]], %c4 : index
// CHECK: %[[PARTNER:.*]] = arith.select %[[FIRST]], %[[UP]], %[[DOWN]] : index
// CHECK: %[[FREQ:.*]] = tensor.extract %[[TABLE]][%[[PAIR]]] : tensor<4xf32>
// CHECK: %[[PF:.*]] = arith.sitofp %[[P]] : i64 to f32
// CHECK: %[[ANGLE:.*]] = arith.mulf %[[PF]], %[[FREQ]] : f32
// CHECK-DAG: %[[COS:.*]] = math.cos %[[ANGLE]] : f32
// CHECK-DAG: %[[SIN:.*]] = math.sin %[[ANGLE]] : f32
// CHECK: %[[OTHER:.*]] = tensor.extract %[[X]][%{{.*}}, %{{.*}}, %{{.*}}, %[[PARTNER]]] : tensor<?x?x2x8xf32>
// CHECK-DAG: %[[SUB:.*]] = arith.subf %[[AC1:[a-z0-9_]+]], %[[BS1:[a-z0-9_]+]] : f32
// CHECK-DAG: %[[AC1]] = arith.mulf %[[SELF]], %[[COS]] : f32
// CHECK-DAG: %[[BS1]] = arith.mulf %[[OTHER]], %[[SIN]] : f32
// CHECK-DAG: %[[ADD:.*]] = arith.addf %[[AC2:[a-z0-9_]+]], %[[BS2:[a-z0-9_]+]] : f32
// CHECK-DAG: %[[AC2]] = arith.mulf %[[SELF]], %[[COS]] : f32
// CHECK-DAG: %[[BS2]] = arith.mulf %[[OTHER]], %[[SIN]] : f32
// CHECK: %[[ROT:.*]] = arith.select %[[FIRST]], %[[SUB]], %[[ADD]] : f32
// CHECK: %[[R:.*]] = arith.select %[[INSIDE]], %[[ROT]], %[[SELF]] : f32
// CHECK: linalg.yield %[[R]] : f32
// CHECK-NOT: lm.rope
func.func @rope_half_split(%x: tensor<?x?x2x8xf32>, %pos: tensor<?x?xi64>) -> tensor<?x?x2x8xf32> {
  %0 = lm.rope %x, %pos {rotary_dim = 8 : i64, theta = 1.0e+04 : f64} : tensor<?x?x2x8xf32>, tensor<?x?xi64>
  return %0 : tensor<?x?x2x8xf32>
}

// -----

// Interleaved pairs (2i, 2i+1) of the 8 channels from offset 6 of a 16-wide
// head (the others pass through), rotated by -angle (inverse: sin negated).
// CHECK-LABEL: func.func @rope_interleaved_offset_inverse
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<?x?x2x16xf32>
// CHECK: %[[TABLE:.*]] = arith.constant dense<[1.000000e+00, 1.000000e-01, 0.00999999977, 1.000000e-03]> : tensor<4xf32>
// CHECK: linalg.generic
// CHECK: ^bb0(%[[SELF:.*]]: f32, %[[P:.*]]: i64, %{{.*}}: f32):
// CHECK: %[[D:.*]] = linalg.index 3 : index
// CHECK: %[[I0:.*]] = arith.subi %[[D]], %c6 : index
// CHECK-DAG: %[[LT:.*]] = arith.cmpi slt, %[[I0]], %c8 : index
// CHECK-DAG: %[[GE:.*]] = arith.cmpi sge, %[[I0]], %c0 : index
// CHECK: %[[INSIDE:.*]] = arith.andi %[[GE]], %[[LT]] : i1
// CHECK: %[[I:.*]] = arith.select %[[INSIDE]], %[[I0]], %c0 : index
// CHECK: %[[PAIR:.*]] = arith.divui %[[I]], %c2 : index
// CHECK: %[[PARITY:.*]] = arith.remui %[[I]], %c2 : index
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[PARITY]], %c0 : index
// CHECK-DAG: %[[UP:.*]] = arith.addi %[[I]], %c1 : index
// CHECK-DAG: %[[DOWN:.*]] = arith.subi %[[I]], %c1 : index
// CHECK: %[[PARTNER:.*]] = arith.select %[[FIRST]], %[[UP]], %[[DOWN]] : index
// CHECK: %[[FREQ:.*]] = tensor.extract %[[TABLE]][%[[PAIR]]] : tensor<4xf32>
// CHECK: %[[PF:.*]] = arith.sitofp %[[P]] : i64 to f32
// CHECK: %[[ANGLE:.*]] = arith.mulf %[[PF]], %[[FREQ]] : f32
// CHECK-DAG: %[[COS:.*]] = math.cos %[[ANGLE]] : f32
// CHECK-DAG: %[[SIN0:.*]] = math.sin %[[ANGLE]] : f32
// CHECK: %[[SIN:.*]] = arith.negf %[[SIN0]] : f32
// CHECK: %[[COL:.*]] = arith.addi %[[PARTNER]], %c6 : index
// CHECK: %[[OTHER:.*]] = tensor.extract %[[X]][%{{.*}}, %{{.*}}, %{{.*}}, %[[COL]]] : tensor<?x?x2x16xf32>
// CHECK-DAG: %[[SUB:.*]] = arith.subf %[[AC1:[a-z0-9_]+]], %[[BS1:[a-z0-9_]+]] : f32
// CHECK-DAG: %[[AC1]] = arith.mulf %[[SELF]], %[[COS]] : f32
// CHECK-DAG: %[[BS1]] = arith.mulf %[[OTHER]], %[[SIN]] : f32
// CHECK-DAG: %[[ADD:.*]] = arith.addf %[[AC2:[a-z0-9_]+]], %[[BS2:[a-z0-9_]+]] : f32
// CHECK-DAG: %[[AC2]] = arith.mulf %[[SELF]], %[[COS]] : f32
// CHECK-DAG: %[[BS2]] = arith.mulf %[[OTHER]], %[[SIN]] : f32
// CHECK: %[[ROT:.*]] = arith.select %[[FIRST]], %[[SUB]], %[[ADD]] : f32
// CHECK: %[[R:.*]] = arith.select %[[INSIDE]], %[[ROT]], %[[SELF]] : f32
// CHECK: linalg.yield %[[R]] : f32
// CHECK-NOT: lm.rope
func.func @rope_interleaved_offset_inverse(%x: tensor<?x?x2x16xf32>, %pos: tensor<?x?xi64>) -> tensor<?x?x2x16xf32> {
  %0 = lm.rope %x, %pos {rotary_dim = 8 : i64, rotary_offset = 6 : i64, interleaved, inverse, theta = 1.0e+04 : f64}
     : tensor<?x?x2x16xf32>, tensor<?x?xi64>
  return %0 : tensor<?x?x2x16xf32>
}

// -----

// YaRN, factor 4 over 64 original positions, beta_fast 32, beta_slow 1: the
// correction range is [0, 2], so inv_freq[i] is kept (i = 0), blended half
// way (i = 1: 0.1 * (0.5 / 4 + 0.5)) or divided by the factor (i >= 2). Cos
// and sin are multiplied by the attention factor 0.1 ln(4) + 1.
// CHECK-LABEL: func.func @rope_yarn
// CHECK-DAG: %[[FACTOR:.*]] = arith.constant 1.13862944 : f32
// CHECK-DAG: %[[TABLE:.*]] = arith.constant dense<[1.000000e+00, 6.250000e-02, 2.500000e-03, 2.500000e-04]> : tensor<4xf32>
// CHECK: linalg.generic
// CHECK: ^bb0(%[[SELF:.*]]: f32, %[[P:.*]]: i64, %{{.*}}: f32):
// CHECK: %[[FREQ:.*]] = tensor.extract %[[TABLE]][%{{.*}}] : tensor<4xf32>
// CHECK: %[[PF:.*]] = arith.sitofp %[[P]] : i64 to f32
// CHECK: %[[ANGLE:.*]] = arith.mulf %[[PF]], %[[FREQ]] : f32
// CHECK-DAG: %[[COS0:.*]] = math.cos %[[ANGLE]] : f32
// CHECK-DAG: %[[SIN0:.*]] = math.sin %[[ANGLE]] : f32
// CHECK: %[[COS:.*]] = arith.mulf %[[COS0]], %[[FACTOR]] : f32
// CHECK: %[[SIN:.*]] = arith.mulf %[[SIN0]], %[[FACTOR]] : f32
// CHECK-NOT: arith.negf
// CHECK: %[[OTHER:.*]] = tensor.extract
// CHECK-DAG: arith.mulf %[[SELF]], %[[COS]] : f32
// CHECK-DAG: arith.mulf %[[OTHER]], %[[SIN]] : f32
// CHECK: linalg.yield
// CHECK-NOT: lm.rope
func.func @rope_yarn(%x: tensor<?x?x2x8xf32>, %pos: tensor<?x?xi64>) -> tensor<?x?x2x8xf32> {
  %0 = lm.rope %x, %pos {rotary_dim = 8 : i64, theta = 1.0e+04 : f64,
                         scaling = {rope_type = "yarn", factor = 4.0 : f64, original_max_position_embeddings = 64 : i64,
                                    beta_fast = 32.0 : f64, beta_slow = 1.0 : f64}}
     : tensor<?x?x2x8xf32>, tensor<?x?xi64>
  return %0 : tensor<?x?x2x8xf32>
}

// -----

// q * (1 + attn_scale * ln(1 + floor((p + 1) / floor_scale))), the scale
// computed per token from the positions.
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[POS:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// CHECK-LABEL: func.func @attention_temperature
// CHECK-DAG: %[[S:.*]] = arith.constant 1.000000e-01 : f32
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[F:.*]] = arith.constant 8.192000e+03 : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[POS]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<?x?x2x8xf32>, tensor<?x?xi64>)
// CHECK: ^bb0(%[[Q:.*]]: f32, %[[P:.*]]: i64, %{{.*}}: f32):
// CHECK: %[[PF:.*]] = arith.sitofp %[[P]] : i64 to f32
// CHECK: %[[P1:.*]] = arith.addf %[[PF]], %[[ONE]] : f32
// CHECK: %[[DIV:.*]] = arith.divf %[[P1]], %[[F]] : f32
// CHECK: %[[FL:.*]] = math.floor %[[DIV]] : f32
// CHECK: %[[LOG:.*]] = math.log1p %[[FL]] : f32
// CHECK: %[[M:.*]] = arith.mulf %[[LOG]], %[[S]] : f32
// CHECK: %[[SCALE:.*]] = arith.addf %[[M]], %[[ONE]] : f32
// CHECK: %[[R:.*]] = arith.mulf %[[Q]], %[[SCALE]] : f32
// CHECK: linalg.yield %[[R]] : f32
// CHECK-NOT: lm.attention_temperature
func.func @attention_temperature(%q: tensor<?x?x2x8xf32>, %pos: tensor<?x?xi64>) -> tensor<?x?x2x8xf32> {
  %0 = lm.attention_temperature %q, %pos {attn_scale = 1.0e-01 : f64, floor_scale = 8.192e+03 : f64}
     : tensor<?x?x2x8xf32>, tensor<?x?xi64>
  return %0 : tensor<?x?x2x8xf32>
}
