// RUN: lmc-opt %s --lm-lower-to-linalg --split-input-file | FileCheck %s

// Pointwise, shape and lookup ops (lib/Codegen/LMToLinalg/Pointwise.cpp).

// An activation is one elementwise generic; exact GELU goes through erf:
// 0.5 x (1 + erf(x / sqrt(2))).
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @activation_gelu
// CHECK-DAG: %[[HALF:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG: %[[RSQRT2:.*]] = arith.constant 0.707106769 : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%{{.*}} : tensor<?x?x8xf32>) outs(%{{.*}} : tensor<?x?x8xf32>)
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[S:.*]] = arith.mulf %[[X]], %[[RSQRT2]] : f32
// CHECK: %[[E:.*]] = math.erf %[[S]] : f32
// CHECK: %[[H:.*]] = arith.mulf %[[X]], %[[HALF]] : f32
// CHECK: %[[P:.*]] = arith.addf %[[E]], %{{.*}} : f32
// CHECK: %[[R:.*]] = arith.mulf %[[H]], %[[P]] : f32
// CHECK: linalg.yield %[[R]] : f32
// CHECK-NOT: lm.activation
func.func @activation_gelu(%x: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  %0 = lm.activation %x {kind = #lm.activation<gelu>} : tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

// SwiGLU: silu(g) * u, with silu(g) = g * 1 / (1 + exp(-g)).
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @glu_swiglu
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ID]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<?x?x8xf32>, tensor<?x?x8xf32>)
// CHECK: ^bb0(%[[G:.*]]: f32, %[[U:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[NEG:.*]] = arith.negf %[[G]] : f32
// CHECK: math.exp %[[NEG]] : f32
// CHECK: %[[SIG:.*]] = arith.divf
// CHECK: %[[SILU:.*]] = arith.mulf %[[G]], %[[SIG]] : f32
// CHECK: %[[R:.*]] = arith.mulf %[[SILU]], %[[U]] : f32
// CHECK: linalg.yield %[[R]] : f32
// CHECK-NOT: lm.glu
func.func @glu_swiglu(%g: tensor<?x?x8xf32>, %u: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  %0 = lm.glu %g, %u {kind = #lm.glu<swiglu>} : tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

// GPT-OSS: g' = min(g, limit), u' = clamp(u, -limit, limit),
// (u' + 1) * g' * sigmoid(alpha * g').
// CHECK-LABEL: func.func @glu_gpt_oss_swiglu
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[ALPHA:.*]] = arith.constant 1.702000e+00 : f32
// CHECK-DAG: %[[NLIMIT:.*]] = arith.constant -7.000000e+00 : f32
// CHECK-DAG: %[[LIMIT:.*]] = arith.constant 7.000000e+00 : f32
// CHECK: linalg.generic
// CHECK: ^bb0(%[[G:.*]]: f32, %[[U:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[GC:.*]] = arith.minimumf %[[G]], %[[LIMIT]] : f32
// CHECK: %[[UHI:.*]] = arith.minimumf %[[U]], %[[LIMIT]] : f32
// CHECK: %[[UC:.*]] = arith.maximumf %[[UHI]], %[[NLIMIT]] : f32
// CHECK: %[[AG:.*]] = arith.mulf %[[GC]], %[[ALPHA]] : f32
// CHECK: arith.negf %[[AG]] : f32
// CHECK: %[[SIG:.*]] = arith.divf %[[ONE]], %{{.*}} : f32
// CHECK: %[[GLU:.*]] = arith.mulf %[[GC]], %[[SIG]] : f32
// CHECK: %[[U1:.*]] = arith.addf %[[UC]], %[[ONE]] : f32
// CHECK: %[[R:.*]] = arith.mulf %[[U1]], %[[GLU]] : f32
// CHECK: linalg.yield %[[R]] : f32
// CHECK-NOT: lm.glu
func.func @glu_gpt_oss_swiglu(%g: tensor<?x?x8xf32>, %u: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  %0 = lm.glu %g, %u {kind = #lm.glu<gpt_oss_swiglu>, alpha = 1.702 : f64, limit = 7.0 : f64} : tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

// A gate with last dim 1 is broadcast over the channels: its map reads
// column 0 of every token.
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[BCAST:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
// CHECK-LABEL: func.func @gate_broadcast
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[BCAST]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<?x?x8xf32>, tensor<?x?x1xf32>) outs(%{{.*}} : tensor<?x?x8xf32>)
// CHECK: ^bb0(%[[X:.*]]: f32, %[[G:.*]]: f32, %{{.*}}: f32):
// CHECK: arith.negf %[[G]] : f32
// CHECK: math.exp
// CHECK: %[[SIG:.*]] = arith.divf
// CHECK: %[[R:.*]] = arith.mulf %[[X]], %[[SIG]] : f32
// CHECK: linalg.yield %[[R]] : f32
// CHECK-NOT: lm.gate
func.func @gate_broadcast(%x: tensor<?x?x8xf32>, %g: tensor<?x?x1xf32>) -> tensor<?x?x8xf32> {
  %0 = lm.gate %x, %g {kind = #lm.activation<sigmoid>} : tensor<?x?x8xf32>, tensor<?x?x1xf32> -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

// cap * tanh(x / cap).
// CHECK-LABEL: func.func @softcap
// CHECK: %[[CAP:.*]] = arith.constant 3.000000e+01 : f32
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel"]
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[D:.*]] = arith.divf %[[X]], %[[CAP]] : f32
// CHECK: %[[T:.*]] = math.tanh %[[D]] : f32
// CHECK: %[[R:.*]] = arith.mulf %[[T]], %[[CAP]] : f32
// CHECK: linalg.yield %[[R]] : f32
// CHECK-NOT: lm.softcap
func.func @softcap(%x: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  %0 = lm.softcap %x {cap = 30.0 : f64} : tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

// A generic over [B, T, D] reads the id of (b, t) and gathers
// table[id, d], widened to f32 and scaled.
// CHECK-DAG: #[[IDS:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @embed
// CHECK-SAME: %[[TABLE:[a-z0-9]+]]: tensor<16x8xbf16>
// CHECK: %[[SCALE:.*]] = arith.constant 2.000000e+00 : f32
// CHECK: linalg.generic {indexing_maps = [#[[IDS]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%{{.*}} : tensor<?x?xi64>) outs(%{{.*}} : tensor<?x?x8xf32>)
// CHECK: ^bb0(%[[TOK:.*]]: i64, %{{.*}}: f32):
// CHECK: %[[ROW:.*]] = arith.index_cast %[[TOK]] : i64 to index
// CHECK: %[[COL:.*]] = linalg.index 2 : index
// CHECK: %[[V:.*]] = tensor.extract %[[TABLE]][%[[ROW]], %[[COL]]] : tensor<16x8xbf16>
// CHECK: %[[W:.*]] = arith.extf %[[V]] : bf16 to f32
// CHECK: %[[R:.*]] = arith.mulf %[[W]], %[[SCALE]] : f32
// CHECK: linalg.yield %[[R]] : f32
// CHECK-NOT: lm.embed
func.func @embed(%t: tensor<16x8xbf16>, %ids: tensor<?x?xi64>) -> tensor<?x?x8xf32> {
  %0 = lm.embed %t, %ids {scale = 2.0 : f64} : tensor<16x8xbf16>, tensor<?x?xi64> -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

// CHECK-LABEL: func.func @transpose
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<4x8x6xf32>
// CHECK: linalg.transpose ins(%{{.*}} : tensor<4x6x8xf32>) outs(%[[INIT]] : tensor<4x8x6xf32>) permutation = [0, 2, 1]
// CHECK-NOT: lm.transpose
func.func @transpose(%w: tensor<4x6x8xf32>) -> tensor<4x8x6xf32> {
  %0 = lm.transpose %w [0, 2, 1] : tensor<4x6x8xf32> -> tensor<4x8x6xf32>
  return %0 : tensor<4x8x6xf32>
}

// -----

// Heads are head-major slices of the channels: an expand_shape of the last
// dimension.
// CHECK-LABEL: func.func @split_heads
// CHECK-DAG: %[[B:.*]] = tensor.dim %{{.*}}, %c0 : tensor<?x?x8xf32>
// CHECK-DAG: %[[T:.*]] = tensor.dim %{{.*}}, %c1 : tensor<?x?x8xf32>
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1], [2, 3]] output_shape [%[[B]], %[[T]], 2, 4] : tensor<?x?x8xf32> into tensor<?x?x2x4xf32>
// CHECK-NOT: lm.split_heads
func.func @split_heads(%x: tensor<?x?x8xf32>) -> tensor<?x?x2x4xf32> {
  %0 = lm.split_heads %x : tensor<?x?x8xf32> -> tensor<?x?x2x4xf32>
  return %0 : tensor<?x?x2x4xf32>
}

// -----

// CHECK-LABEL: func.func @merge_heads
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1], [2, 3]] : tensor<?x?x2x4xf32> into tensor<?x?x8xf32>
// CHECK-NOT: lm.merge_heads
func.func @merge_heads(%x: tensor<?x?x2x4xf32>) -> tensor<?x?x8xf32> {
  %0 = lm.merge_heads %x : tensor<?x?x2x4xf32> -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

// Channels [6, 10) of the last dimension; the leading ones are whole.
// CHECK-LABEL: func.func @slice
// CHECK-DAG: %[[B:.*]] = tensor.dim %{{.*}}, %c0 : tensor<?x?x10xf32>
// CHECK-DAG: %[[T:.*]] = tensor.dim %{{.*}}, %c1 : tensor<?x?x10xf32>
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 6] [%[[B]], %[[T]], 4] [1, 1, 1] : tensor<?x?x10xf32> to tensor<?x?x4xf32>
// CHECK-NOT: lm.slice
func.func @slice(%x: tensor<?x?x10xf32>) -> tensor<?x?x4xf32> {
  %0 = lm.slice %x [6, 4] : tensor<?x?x10xf32> -> tensor<?x?x4xf32>
  return %0 : tensor<?x?x4xf32>
}

// -----

// Along the last dimension (3 for per-head tensors), in operand order.
// CHECK-LABEL: func.func @concat
// CHECK-SAME: %[[A:[a-z0-9]+]]: tensor<?x?x2x8xf32>, %[[B:[a-z0-9]+]]: tensor<?x?x2x4xf32>
// CHECK: tensor.concat dim(3) %[[A]], %[[B]] : (tensor<?x?x2x8xf32>, tensor<?x?x2x4xf32>) -> tensor<?x?x2x12xf32>
// CHECK-NOT: lm.concat
func.func @concat(%a: tensor<?x?x2x8xf32>, %b: tensor<?x?x2x4xf32>) -> tensor<?x?x2x12xf32> {
  %0 = lm.concat %a, %b : tensor<?x?x2x8xf32>, tensor<?x?x2x4xf32> -> tensor<?x?x2x12xf32>
  return %0 : tensor<?x?x2x12xf32>
}

// -----

// lm.select_rows: a generic over [B, L, D] reading row rows[b, l] of
// sequence b, clamped into [0, T).
// CHECK-LABEL: func.func @select_rows
// CHECK-SAME: (%[[H:.*]]: tensor<?x?x8xf32>, %[[ROWS:.*]]: tensor<?x?xi64>)
// CHECK: %[[T:.*]] = tensor.dim %[[H]], %{{.*}} : tensor<?x?x8xf32>
// CHECK: %[[LAST:.*]] = arith.subi %[[T]], %{{.*}} : index
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[ROWS]] : tensor<?x?xi64>)
// CHECK: ^bb0(%[[ROW:.*]]: i64, %{{.*}}: f32):
// CHECK: %[[NONNEG:.*]] = arith.maxsi %[[ROW]], %{{.*}} : i64
// CHECK: %[[INDEX:.*]] = arith.index_cast %[[NONNEG]] : i64 to index
// CHECK: %[[CLAMPED:.*]] = arith.minui %[[INDEX]], %[[LAST]] : index
// CHECK: %[[B:.*]] = linalg.index 0 : index
// CHECK: %[[D:.*]] = linalg.index 2 : index
// CHECK: %[[V:.*]] = tensor.extract %[[H]][%[[B]], %[[CLAMPED]], %[[D]]] : tensor<?x?x8xf32>
// CHECK: linalg.yield %[[V]] : f32
// CHECK-NOT: lm.select_rows
func.func @select_rows(%h: tensor<?x?x8xf32>, %rows: tensor<?x?xi64>) -> tensor<?x?x8xf32> {
  %0 = lm.select_rows %h, %rows : tensor<?x?x8xf32>, tensor<?x?xi64> -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}
