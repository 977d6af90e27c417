// RUN: lmc-opt %s --lm-lower-to-linalg --split-input-file | FileCheck %s

// Recurrent mixers (lib/Codegen/LMToLinalg/Recurrent.cpp): the defining
// recurrences (and, for prefill, their chunked forms) as loops over buffers,
// the state buffer (seen through the cast lm-lower-state leaves) read and
// updated in place. lm.gated_rms_norm
// is covered in lower-to-linalg.mlir.

// Kernel 3 over 4 channels: y[t, c] = silu(bias[c] + sum_j w[c, 0, j] x'[t - 2 + j, c])
// where x' reads the state [b, c, t + j] before the sequence, in parallel
// over (batch, token, channel); the state then becomes the last 2 inputs,
// computed aside (in parallel) and copied back.
// CHECK-LABEL: func.func @causal_conv1d
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<?x?x4xf32>, %[[W:[a-z0-9]+]]: tensor<4x1x3xf32>, %[[BIAS:[a-z0-9]+]]: tensor<4xf32>, %[[STATE:[a-z0-9]+]]: memref<?x4x2xf32>
// CHECK: %[[VIEW:.*]] = builtin.unrealized_conversion_cast %[[STATE]]
// CHECK: %[[XB:.*]] = bufferization.to_buffer %[[X]] read_only
// CHECK: %[[WB:.*]] = bufferization.to_buffer %[[W]] read_only
// CHECK: %[[BB:.*]] = bufferization.to_buffer %[[BIAS]] read_only
// CHECK: %[[BATCH:.*]] = memref.dim %[[XB]], %c0
// CHECK: %[[TOKENS:.*]] = memref.dim %[[XB]], %c1
// CHECK: %[[OUT:.*]] = memref.alloc(%{{.*}}, %{{.*}}) : memref<?x?x4xf32>
// CHECK: scf.parallel (%[[B:.*]], %[[T:.*]], %[[C:.*]]) = (%c0, %c0, %c0) to (%[[BATCH]], %[[TOKENS]], %c4) step (%c1, %c1, %c1) {
// CHECK: %[[B0:.*]] = memref.load %[[BB]][%[[C]]] : memref<4xf32>
// CHECK: %[[ACC:.*]] = scf.for %[[J:.*]] = %c0 to %c3 step %c1 iter_args(%[[A:.*]] = %[[B0]]) -> (f32) {
// CHECK: %[[TJ:.*]] = arith.addi %[[T]], %[[J]] : index
// CHECK: %[[TAU:.*]] = arith.subi %[[TJ]], %c2 : index
// CHECK: %[[WV:.*]] = memref.load %[[WB]][%[[C]], %c0, %[[J]]] : memref<4x1x3xf32>
// CHECK: %[[BEFORE:.*]] = arith.cmpi slt, %[[TAU]], %c0 : index
// CHECK: %[[IN:.*]] = scf.if %[[BEFORE]] -> (f32) {
// CHECK: %[[SV:.*]] = memref.load %[[STATE]][%[[B]], %[[C]], %[[TJ]]] : memref<?x4x2xf32>
// CHECK: scf.yield %[[SV]] : f32
// CHECK: } else {
// CHECK: %[[XV:.*]] = memref.load %[[XB]][%[[B]], %[[TAU]], %[[C]]] : memref<?x?x4xf32>
// CHECK: scf.yield %[[XV]] : f32
// CHECK: %[[P:.*]] = arith.mulf %[[WV]], %[[IN]] : f32
// CHECK: arith.addf %[[A]], %[[P]] : f32
// CHECK: arith.negf %[[ACC]] : f32
// CHECK: %[[SIG:.*]] = arith.divf
// CHECK: %[[Y:.*]] = arith.mulf %[[ACC]], %[[SIG]] : f32
// CHECK: memref.store %[[Y]], %[[OUT]][%[[B]], %[[T]], %[[C]]] : memref<?x?x4xf32>
// CHECK: %[[NEXT:.*]] = memref.alloc(%[[BATCH]]) : memref<?x4x2xf32>
// CHECK: scf.parallel (%[[B2:.*]], %[[C2:.*]], %[[I:.*]]) = (%c0, %c0, %c0) to (%[[BATCH]], %c4, %c2) step (%c1, %c1, %c1) {
// CHECK: %[[TI:.*]] = arith.addi %[[TOKENS]], %[[I]] : index
// CHECK: %[[TAU2:.*]] = arith.subi %[[TI]], %c2 : index
// CHECK: arith.cmpi slt, %[[TAU2]], %c0 : index
// CHECK: memref.load %[[STATE]][%[[B2]], %[[C2]], %[[TI]]]
// CHECK: memref.load %[[XB]][%[[B2]], %[[TAU2]], %[[C2]]]
// CHECK: memref.store %{{.*}}, %[[NEXT]][%[[B2]], %[[C2]], %[[I]]] : memref<?x4x2xf32>
// CHECK: memref.copy %[[NEXT]], %[[STATE]] : memref<?x4x2xf32> to memref<?x4x2xf32>
// CHECK: %[[RES:.*]] = bufferization.to_tensor %[[OUT]] restrict writable : memref<?x?x4xf32> to tensor<?x?x4xf32>
// CHECK: return %[[RES]], %[[VIEW]]
// CHECK-NOT: lm.causal_conv1d
func.func @causal_conv1d(%x: tensor<?x?x4xf32>, %w: tensor<4x1x3xf32>, %b: tensor<4xf32>, %buf: memref<?x4x2xf32>)
    -> (tensor<?x?x4xf32>, !lm.recurrent_state<[4, 2], f32>) {
  %s = builtin.unrealized_conversion_cast %buf : memref<?x4x2xf32> to !lm.recurrent_state<[4, 2], f32>
  %y, %s1 = lm.causal_conv1d %x, %w bias %b, %s {activation = #lm.activation<silu>}
      : (tensor<?x?x4xf32>, tensor<4x1x3xf32>, tensor<4xf32>, !lm.recurrent_state<[4, 2], f32>)
      -> (tensor<?x?x4xf32>, !lm.recurrent_state<[4, 2], f32>)
  return %y, %s1 : tensor<?x?x4xf32>, !lm.recurrent_state<[4, 2], f32>
}

// -----

// A ragged batch (lengths[b] tokens of sequence b are real): a padding
// token's output is zero, and the state becomes the last 2 inputs before the
// sequence's own end (the old state for length 0).
// CHECK-LABEL: func.func @causal_conv1d_ragged
// CHECK-SAME: %[[STATE:[a-z0-9]+]]: memref<?x4x2xf32>, %[[LENGTHS:[a-z0-9]+]]: tensor<?xi64>
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[XB:.*]] = bufferization.to_buffer
// CHECK: %[[LB:.*]] = bufferization.to_buffer %[[LENGTHS]] read_only : tensor<?xi64> to memref<?xi64>
// CHECK: %[[TOKENS:.*]] = memref.dim %[[XB]], %c1
// CHECK: scf.parallel (%[[B:.*]], %[[T:.*]], %[[C:.*]]) =
// CHECK: arith.divf
// CHECK: %[[Y:.*]] = arith.mulf
// CHECK: %[[L:.*]] = memref.load %[[LB]][%[[B]]] : memref<?xi64>
// CHECK: %[[LI:.*]] = arith.index_cast %[[L]] : i64 to index
// CHECK: %[[LEN:.*]] = arith.minui %[[LI]], %[[TOKENS]] : index
// CHECK: %[[REAL:.*]] = arith.cmpi ult, %[[T]], %[[LEN]] : index
// CHECK: %[[YP:.*]] = arith.select %[[REAL]], %[[Y]], %[[ZERO]] : f32
// CHECK: memref.store %[[YP]]
// CHECK: scf.parallel (%[[B2:.*]], %[[C2:.*]], %[[I:.*]]) =
// CHECK: %[[L2:.*]] = memref.load %[[LB]][%[[B2]]] : memref<?xi64>
// CHECK: %[[LI2:.*]] = arith.index_cast %[[L2]] : i64 to index
// CHECK: %[[END:.*]] = arith.minui %[[LI2]], %[[TOKENS]] : index
// CHECK: %[[TI:.*]] = arith.addi %[[END]], %[[I]] : index
// CHECK: arith.subi %[[TI]], %c2 : index
func.func @causal_conv1d_ragged(%x: tensor<?x?x4xf32>, %w: tensor<4x1x3xf32>, %buf: memref<?x4x2xf32>, %lengths: tensor<?xi64>)
    -> (tensor<?x?x4xf32>, !lm.recurrent_state<[4, 2], f32>) {
  %s = builtin.unrealized_conversion_cast %buf : memref<?x4x2xf32> to !lm.recurrent_state<[4, 2], f32>
  %y, %s1 = lm.causal_conv1d %x, %w, %s lengths %lengths {activation = #lm.activation<silu>}
      : (tensor<?x?x4xf32>, tensor<4x1x3xf32>, !lm.recurrent_state<[4, 2], f32>, tensor<?xi64>)
      -> (tensor<?x?x4xf32>, !lm.recurrent_state<[4, 2], f32>)
  return %y, %s1 : tensor<?x?x4xf32>, !lm.recurrent_state<[4, 2], f32>
}

// -----

// One decay per head: -exp(a_log[h]) * softplus(a + dt_bias[h]), softplus
// linear above 20.
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @decay_gate_per_head
// CHECK-SAME: %[[A:[a-z0-9]+]]: tensor<?x?x4xf32>, %[[ALOG:[a-z0-9]+]]: tensor<4xf32>, %[[DTB:[a-z0-9]+]]: tensor<4xf32>
// CHECK: %[[TWENTY:.*]] = arith.constant 2.000000e+01 : f32
// CHECK: %[[AL:.*]] = bufferization.to_buffer %[[ALOG]] read_only
// CHECK: %[[DB:.*]] = bufferization.to_buffer %[[DTB]] read_only
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[A]] : tensor<?x?x4xf32>)
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[H:.*]] = linalg.index 2 : index
// CHECK: %[[ALV:.*]] = memref.load %[[AL]][%[[H]]] : memref<4xf32>
// CHECK: %[[DECAY:.*]] = math.exp %[[ALV]] : f32
// CHECK: %[[DBV:.*]] = memref.load %[[DB]][%[[H]]] : memref<4xf32>
// CHECK: %[[Z:.*]] = arith.addf %[[IN]], %[[DBV]] : f32
// CHECK: %[[EZ:.*]] = math.exp %[[Z]] : f32
// CHECK: %[[LZ:.*]] = math.log1p %[[EZ]] : f32
// CHECK: %[[BIG:.*]] = arith.cmpf ogt, %[[Z]], %[[TWENTY]] : f32
// CHECK: %[[SP:.*]] = arith.select %[[BIG]], %[[Z]], %[[LZ]] : f32
// CHECK: %[[M:.*]] = arith.mulf %[[DECAY]], %[[SP]] : f32
// CHECK: %[[R:.*]] = arith.negf %[[M]] : f32
// CHECK: linalg.yield %[[R]] : f32
// CHECK-NOT: lm.decay_gate
func.func @decay_gate_per_head(%a: tensor<?x?x4xf32>, %al: tensor<4xf32>, %dtb: tensor<4xf32>) -> tensor<?x?x4xf32> {
  %g = lm.decay_gate %a, %al, %dtb : tensor<?x?x4xf32>, tensor<4xf32>, tensor<4xf32> -> tensor<?x?x4xf32>
  return %g : tensor<?x?x4xf32>
}

// -----

// One decay per channel (KDA): a_log still per head h, dt_bias [2, 4] read
// flat at h * 4 + d.
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @decay_gate_per_channel
// CHECK-SAME: %[[A:[a-z0-9]+]]: tensor<?x?x2x4xf32>, %[[ALOG:[a-z0-9]+]]: tensor<2xf32>, %[[DTB:[a-z0-9]+]]: tensor<2x4xf32>
// CHECK: %[[AL:.*]] = bufferization.to_buffer %[[ALOG]] read_only
// CHECK: %[[DB:.*]] = bufferization.to_buffer %[[DTB]] read_only
// CHECK: %[[FLAT:.*]] = memref.collapse_shape %[[DB]] {{\[\[}}0, 1]] : memref<2x4xf32> into memref<8xf32>
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[A]] : tensor<?x?x2x4xf32>)
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-DAG: %[[H:.*]] = linalg.index 2 : index
// CHECK-DAG: %[[D:.*]] = linalg.index 3 : index
// CHECK-DAG: %[[HD:.*]] = arith.muli %[[H]], %c4 : index
// CHECK: %[[E:.*]] = arith.addi %[[HD]], %[[D]] : index
// CHECK: %[[ALV:.*]] = memref.load %[[AL]][%[[H]]] : memref<2xf32>
// CHECK: %[[DECAY:.*]] = math.exp %[[ALV]] : f32
// CHECK: %[[DBV:.*]] = memref.load %[[FLAT]][%[[E]]] : memref<8xf32>
// CHECK: %[[Z:.*]] = arith.addf %[[IN]], %[[DBV]] : f32
// CHECK: %[[SP:.*]] = arith.select %{{.*}}, %[[Z]], %{{.*}} : f32
// CHECK: %[[M:.*]] = arith.mulf %[[DECAY]], %[[SP]] : f32
// CHECK: arith.negf %[[M]] : f32
// CHECK-NOT: lm.decay_gate
func.func @decay_gate_per_channel(%a: tensor<?x?x2x4xf32>, %al: tensor<2xf32>, %dtb: tensor<2x4xf32>) -> tensor<?x?x2x4xf32> {
  %g = lm.decay_gate %a, %al, %dtb : tensor<?x?x2x4xf32>, tensor<2xf32>, tensor<2x4xf32> -> tensor<?x?x2x4xf32>
  return %g : tensor<?x?x2x4xf32>
}

// -----

// Per sequence b and value head h (key head h / 2), token by token, on the
// state S [Dk = 4, Dv = 3] in place: S *= exp(g); u = beta (v - S^T k);
// S += k u^T; o = scale S^T q.
// CHECK-LABEL: func.func @gated_delta_rule
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<?x?x2x4xf32>, %[[K:[a-z0-9]+]]: tensor<?x?x2x4xf32>, %[[V:[a-z0-9]+]]: tensor<?x?x4x3xf32>, %[[G:[a-z0-9]+]]: tensor<?x?x4xf32>, %[[BETA:[a-z0-9]+]]: tensor<?x?x4xf32>, %[[S:[a-z0-9]+]]: memref<?x4x4x3xf32>
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[QB:.*]] = bufferization.to_buffer %[[Q]] read_only
// CHECK: %[[KB:.*]] = bufferization.to_buffer %[[K]] read_only
// CHECK: %[[VB:.*]] = bufferization.to_buffer %[[V]] read_only
// CHECK: %[[GB:.*]] = bufferization.to_buffer %[[G]] read_only
// CHECK: %[[BB:.*]] = bufferization.to_buffer %[[BETA]] read_only
// CHECK: %[[OUT:.*]] = memref.alloc(%{{.*}}, %{{.*}}) : memref<?x?x4x3xf32>
// Decode (one token) runs the recurrence; prefill the chunked (WY) form.
// Both run every (sequence, value head) in parallel, with its own scratch.
// CHECK: %[[DECODE:.*]] = arith.cmpi eq, %{{.*}}, %c1 : index
// CHECK: scf.if %[[DECODE]] {
// CHECK: %[[US:.*]] = memref.alloc(%{{.*}}) : memref<?x4x3xf32>
// CHECK: scf.parallel (%[[B:.*]], %[[H:.*]]) = (%c0, %c0) to (%{{.*}}, %c4) step (%c1, %c1) {
// CHECK: %[[U:.*]] = memref.subview %[[US]][%[[B]], %[[H]], 0] [1, 1, 3] [1, 1, 1]
// CHECK: %[[HK:.*]] = arith.divui %[[H]], %c2 : index
// CHECK: scf.for %[[T:.*]] = %c0 to
// Decay.
// CHECK: scf.for %[[I:.*]] = %c0 to %c4 step %c1 {
// CHECK: %[[GV:.*]] = memref.load %[[GB]][%[[B]], %[[T]], %[[H]]] : memref<?x?x4xf32>
// CHECK: %[[F:.*]] = math.exp %[[GV]] : f32
// CHECK: scf.for %[[J:.*]] = %c0 to %c3 step %c1 {
// CHECK: %[[SV:.*]] = memref.load %[[S]][%[[B]], %[[H]], %[[I]], %[[J]]]
// CHECK: %[[SD:.*]] = arith.mulf %[[SV]], %[[F]] : f32
// CHECK: memref.store %[[SD]], %[[S]][%[[B]], %[[H]], %[[I]], %[[J]]]
// u = beta (v - S^T k).
// CHECK: %[[BV:.*]] = memref.load %[[BB]][%[[B]], %[[T]], %[[H]]] : memref<?x?x4xf32>
// CHECK: scf.for %[[J:.*]] = %c0 to %c3 step %c1 {
// CHECK: %[[READ:.*]] = scf.for %[[I:.*]] = %c0 to %c4 step %c1 iter_args(%[[ACC:.*]] = %[[ZERO]]) -> (f32) {
// CHECK-DAG: %[[KV:.*]] = memref.load %[[KB]][%[[B]], %[[T]], %[[HK]], %[[I]]]
// CHECK-DAG: %[[SV:.*]] = memref.load %[[S]][%[[B]], %[[H]], %[[I]], %[[J]]]
// CHECK: %[[SK:.*]] = arith.mulf %[[SV]], %[[KV]] : f32
// CHECK: arith.addf %[[ACC]], %[[SK]] : f32
// CHECK: %[[VV:.*]] = memref.load %[[VB]][%[[B]], %[[T]], %[[H]], %[[J]]]
// CHECK: %[[DIFF:.*]] = arith.subf %[[VV]], %[[READ]] : f32
// CHECK: %[[UV:.*]] = arith.mulf %[[BV]], %[[DIFF]] : f32
// CHECK: memref.store %[[UV]], %[[U]][%[[J]]] : memref<3xf32, strided<[1], offset: ?>>
// S += k u^T.
// CHECK: scf.for %[[I:.*]] = %c0 to %c4 step %c1 {
// CHECK: %[[KI:.*]] = memref.load %[[KB]][%[[B]], %[[T]], %[[HK]], %[[I]]]
// CHECK: scf.for %[[J:.*]] = %c0 to %c3 step %c1 {
// CHECK: %[[SV:.*]] = memref.load %[[S]][%[[B]], %[[H]], %[[I]], %[[J]]]
// CHECK: %[[UJ:.*]] = memref.load %[[U]][%[[J]]]
// CHECK: %[[KU:.*]] = arith.mulf %[[KI]], %[[UJ]] : f32
// CHECK: %[[SN:.*]] = arith.addf %[[SV]], %[[KU]] : f32
// CHECK: memref.store %[[SN]], %[[S]][%[[B]], %[[H]], %[[I]], %[[J]]]
// o = scale S^T q.
// CHECK: scf.for %[[J:.*]] = %c0 to %c3 step %c1 {
// CHECK: %[[O:.*]] = scf.for %[[I:.*]] = %c0 to %c4 step %c1 iter_args(%[[ACC:.*]] = %[[ZERO]]) -> (f32) {
// CHECK-DAG: %[[QV:.*]] = memref.load %[[QB]][%[[B]], %[[T]], %[[HK]], %[[I]]]
// CHECK-DAG: %[[SV:.*]] = memref.load %[[S]][%[[B]], %[[H]], %[[I]], %[[J]]]
// CHECK: %[[SQ:.*]] = arith.mulf %[[SV]], %[[QV]] : f32
// CHECK: arith.addf %[[ACC]], %[[SQ]] : f32
// CHECK: %[[OS:.*]] = arith.mulf %[[O]], %[[SCALE]] : f32
// CHECK: memref.store %[[OS]], %[[OUT]][%[[B]], %[[T]], %[[H]], %[[J]]]
// Chunks of up to 64 tokens: scratch for G (cumulative log decay), the
// triangular solve T, U, W and the corrected values.
// CHECK: } else {
// CHECK: memref.alloc(%{{.*}}) : memref<?x4x64x4xf32>
// CHECK: memref.alloc(%{{.*}}) : memref<?x4x64x64xf32>
// CHECK: memref.alloc(%{{.*}}) : memref<?x4x64x3xf32>
// CHECK: memref.alloc(%{{.*}}) : memref<?x4x64x4xf32>
// CHECK: memref.alloc(%{{.*}}) : memref<?x4x64x3xf32>
// CHECK: scf.parallel
// CHECK: %[[CHUNKS:.*]] = arith.ceildivui %{{.*}}, %c64 : index
// CHECK-COUNT-5: memref.subview
// CHECK: scf.for %{{.*}} = %c0 to %[[CHUNKS]] step %c1 {
// CHECK: arith.minui %{{.*}}, %c64 : index
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable : memref<?x?x4x3xf32> to tensor<?x?x4x3xf32>
// CHECK-NOT: lm.gated_delta_rule
func.func @gated_delta_rule(%q: tensor<?x?x2x4xf32>, %k: tensor<?x?x2x4xf32>, %v: tensor<?x?x4x3xf32>, %g: tensor<?x?x4xf32>,
                            %beta: tensor<?x?x4xf32>, %buf: memref<?x4x4x3xf32>) -> tensor<?x?x4x3xf32> {
  %s = builtin.unrealized_conversion_cast %buf : memref<?x4x4x3xf32> to !lm.recurrent_state<[4, 4, 3], f32>
  %o, %s1 = lm.gated_delta_rule %q, %k, %v, %g, %beta, %s {scale = 0.5 : f64}
      : (tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<?x?x4x3xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>,
         !lm.recurrent_state<[4, 4, 3], f32>)
      -> (tensor<?x?x4x3xf32>, !lm.recurrent_state<[4, 4, 3], f32>)
  return %o : tensor<?x?x4x3xf32>
}

// -----

// A ragged batch: each (sequence, value head) runs its own count of tokens,
// min(lengths[b], tokens), in either form; then one pass over the output
// zeroes the padding tokens.
// CHECK-LABEL: func.func @gated_delta_rule_ragged
// CHECK-SAME: %[[LENGTHS:[a-z0-9]+]]: tensor<?xi64>
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[OUT:.*]] = memref.alloc(%{{.*}}, %{{.*}}) : memref<?x?x4x3xf32>
// CHECK: %[[TOKENS:.*]] = memref.dim %{{.*}}, %c1 : memref<?x?x2x4xf32>
// CHECK: %[[LB:.*]] = bufferization.to_buffer %[[LENGTHS]] read_only
// CHECK: scf.if
// CHECK: scf.parallel (%[[B:.*]], %[[H:.*]]) =
// CHECK: %[[L:.*]] = memref.load %[[LB]][%[[B]]] : memref<?xi64>
// CHECK: %[[LI:.*]] = arith.index_cast %[[L]] : i64 to index
// CHECK: %[[COUNT:.*]] = arith.minui %[[LI]], %[[TOKENS]] : index
// CHECK: scf.for %{{.*}} = %c0 to %[[COUNT]] step %c1 {
// CHECK: } else {
// CHECK: scf.parallel (%[[B:.*]], %[[H:.*]]) =
// CHECK: %[[L:.*]] = memref.load %[[LB]][%[[B]]] : memref<?xi64>
// CHECK: %[[LI:.*]] = arith.index_cast %[[L]] : i64 to index
// CHECK: %[[COUNT:.*]] = arith.minui %[[LI]], %[[TOKENS]] : index
// CHECK: arith.ceildivui %[[COUNT]], %c64 : index
// CHECK: scf.parallel (%[[B:.*]], %[[T:.*]], %[[H:.*]], %[[J:.*]]) = (%c0, %c0, %c0, %c0) to (%{{.*}}, %{{.*}}, %c4, %c3)
// CHECK: %[[L:.*]] = memref.load %[[LB]][%[[B]]] : memref<?xi64>
// CHECK: %[[LI:.*]] = arith.index_cast %[[L]] : i64 to index
// CHECK: %[[COUNT:.*]] = arith.minui %[[LI]], %[[TOKENS]] : index
// CHECK: %[[PAD:.*]] = arith.cmpi uge, %[[T]], %[[COUNT]] : index
// CHECK: scf.if %[[PAD]] {
// CHECK: memref.store %[[ZERO]], %[[OUT]][%[[B]], %[[T]], %[[H]], %[[J]]]
// CHECK-NOT: lm.gated_delta_rule
func.func @gated_delta_rule_ragged(%q: tensor<?x?x2x4xf32>, %k: tensor<?x?x2x4xf32>, %v: tensor<?x?x4x3xf32>, %g: tensor<?x?x4xf32>,
                                   %beta: tensor<?x?x4xf32>, %buf: memref<?x4x4x3xf32>, %lengths: tensor<?xi64>) -> tensor<?x?x4x3xf32> {
  %s = builtin.unrealized_conversion_cast %buf : memref<?x4x4x3xf32> to !lm.recurrent_state<[4, 4, 3], f32>
  %o, %s1 = lm.gated_delta_rule %q, %k, %v, %g, %beta, %s lengths %lengths {scale = 0.5 : f64}
      : (tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<?x?x4x3xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>,
         !lm.recurrent_state<[4, 4, 3], f32>, tensor<?xi64>)
      -> (tensor<?x?x4x3xf32>, !lm.recurrent_state<[4, 4, 3], f32>)
  return %o : tensor<?x?x4x3xf32>
}

// -----

// KDA: the log decay is per key channel (diagonal), g[b, t, h, i] scaling
// row i of the state.
// CHECK-LABEL: func.func @gated_delta_rule_per_channel
// CHECK-SAME: %[[G:[a-z0-9]+]]: tensor<?x?x4x4xf32>
// CHECK: %[[GB:.*]] = bufferization.to_buffer %[[G]] read_only
// CHECK: scf.parallel (%[[B:.*]], %[[H:.*]]) = (%c0, %c0) to (%{{.*}}, %c4)
// CHECK: scf.for %[[T:.*]] = %c0 to
// CHECK: scf.for %[[I:.*]] = %c0 to %c4 step %c1 {
// CHECK: %[[GV:.*]] = memref.load %[[GB]][%[[B]], %[[T]], %[[H]], %[[I]]] : memref<?x?x4x4xf32>
// CHECK: math.exp %[[GV]] : f32
// CHECK-NOT: lm.gated_delta_rule
func.func @gated_delta_rule_per_channel(%q: tensor<?x?x2x4xf32>, %k: tensor<?x?x2x4xf32>, %v: tensor<?x?x4x3xf32>, %g: tensor<?x?x4x4xf32>,
                                        %beta: tensor<?x?x4xf32>, %buf: memref<?x4x4x3xf32>) -> tensor<?x?x4x3xf32> {
  %s = builtin.unrealized_conversion_cast %buf : memref<?x4x4x3xf32> to !lm.recurrent_state<[4, 4, 3], f32>
  %o, %s1 = lm.gated_delta_rule %q, %k, %v, %g, %beta, %s {scale = 0.5 : f64}
      : (tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<?x?x4x3xf32>, tensor<?x?x4x4xf32>, tensor<?x?x4xf32>,
         !lm.recurrent_state<[4, 4, 3], f32>)
      -> (tensor<?x?x4x3xf32>, !lm.recurrent_state<[4, 4, 3], f32>)
  return %o : tensor<?x?x4x3xf32>
}

// -----

// Mamba-2 per sequence b and head h (group h / 2), token by token, on the
// state S [P = 3, N = 5] in place: dt' = clamp(softplus(dt + dt_bias),
// 0.001, 0.1), A = -exp(a_log), S = exp(dt' A) S + dt' x B^T,
// y = S C + D x.
// CHECK-LABEL: func.func @selective_scan
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<?x?x4x3xf32>, %[[DT:[a-z0-9]+]]: tensor<?x?x4xf32>, %[[DTB:[a-z0-9]+]]: tensor<4xf32>, %[[ALOG:[a-z0-9]+]]: tensor<4xf32>, %[[BM:[a-z0-9]+]]: tensor<?x?x2x5xf32>, %[[CM:[a-z0-9]+]]: tensor<?x?x2x5xf32>, %[[D:[a-z0-9]+]]: tensor<4xf32>, %[[S:[a-z0-9]+]]: memref<?x4x3x5xf32>
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[DTMAX:.*]] = arith.constant 1.000000e-01 : f32
// CHECK-DAG: %[[DTMIN:.*]] = arith.constant 1.000000e-03 : f32
// CHECK: %[[XB:.*]] = bufferization.to_buffer %[[X]] read_only
// CHECK: %[[DTBUF:.*]] = bufferization.to_buffer %[[DT]] read_only
// CHECK: %[[DTBB:.*]] = bufferization.to_buffer %[[DTB]] read_only
// CHECK: %[[ALB:.*]] = bufferization.to_buffer %[[ALOG]] read_only
// CHECK: %[[BB:.*]] = bufferization.to_buffer %[[BM]] read_only
// CHECK: %[[CB:.*]] = bufferization.to_buffer %[[CM]] read_only
// CHECK: %[[DB:.*]] = bufferization.to_buffer %[[D]] read_only
// CHECK: %[[OUT:.*]] = memref.alloc(%{{.*}}, %{{.*}}) : memref<?x?x4x3xf32>
// Every (sequence, head) in parallel, with its own chunk scratch.
// CHECK: memref.alloc(%{{.*}}) : memref<?x4x64xf32>
// CHECK: memref.alloc(%{{.*}}) : memref<?x4x64xf32>
// CHECK: scf.parallel (%[[B:.*]], %[[H:.*]]) = (%c0, %c0) to (%{{.*}}, %c4)
// CHECK: %[[G:.*]] = arith.divui %[[H]], %c2 : index
// CHECK: %[[AL:.*]] = memref.load %[[ALB]][%[[H]]] : memref<4xf32>
// CHECK: %[[EA:.*]] = math.exp %[[AL]] : f32
// CHECK: %[[A:.*]] = arith.negf %[[EA]] : f32
// Decode (one token) runs the recurrence; prefill the chunked (SSD) form.
// CHECK: %[[DECODE:.*]] = arith.cmpi eq, %{{.*}}, %c1 : index
// CHECK: scf.if %[[DECODE]] {
// CHECK: scf.for %[[T:.*]] = %c0 to
// CHECK-DAG: %[[BIAS:.*]] = memref.load %[[DTBB]][%[[H]]] : memref<4xf32>
// CHECK-DAG: %[[DTV:.*]] = memref.load %[[DTBUF]][%[[B]], %[[T]], %[[H]]] : memref<?x?x4xf32>
// CHECK: %[[Z:.*]] = arith.addf %[[DTV]], %[[BIAS]] : f32
// CHECK: %[[SP:.*]] = arith.select %{{.*}}, %[[Z]], %{{.*}} : f32
// CHECK: %[[LO:.*]] = arith.maximumf %[[SP]], %[[DTMIN]] : f32
// CHECK: %[[STEP:.*]] = arith.minimumf %[[LO]], %[[DTMAX]] : f32
// CHECK: %[[SA:.*]] = arith.mulf %[[STEP]], %[[A]] : f32
// CHECK: %[[DECAY:.*]] = math.exp %[[SA]] : f32
// CHECK: %[[SKIP:.*]] = memref.load %[[DB]][%[[H]]] : memref<4xf32>
// CHECK: scf.for %[[P:.*]] = %c0 to %c3 step %c1 {
// CHECK: %[[XV:.*]] = memref.load %[[XB]][%[[B]], %[[T]], %[[H]], %[[P]]]
// CHECK: %[[DX:.*]] = arith.mulf %[[STEP]], %[[XV]] : f32
// CHECK: %[[Y:.*]] = scf.for %[[N:.*]] = %c0 to %c5 step %c1 iter_args(%[[ACC:.*]] = %[[ZERO]]) -> (f32) {
// CHECK-DAG: %[[SV:.*]] = memref.load %[[S]][%[[B]], %[[H]], %[[P]], %[[N]]]
// CHECK-DAG: %[[BV:.*]] = memref.load %[[BB]][%[[B]], %[[T]], %[[G]], %[[N]]]
// CHECK-DAG: %[[DXB:.*]] = arith.mulf %[[DX]], %[[BV]] : f32
// CHECK-DAG: %[[SD:.*]] = arith.mulf %[[SV]], %[[DECAY]] : f32
// CHECK: %[[SN:.*]] = arith.addf %[[SD]], %[[DXB]] : f32
// CHECK: memref.store %[[SN]], %[[S]][%[[B]], %[[H]], %[[P]], %[[N]]]
// CHECK: %[[CV:.*]] = memref.load %[[CB]][%[[B]], %[[T]], %[[G]], %[[N]]]
// CHECK: %[[SC:.*]] = arith.mulf %[[SN]], %[[CV]] : f32
// CHECK: arith.addf %[[ACC]], %[[SC]] : f32
// CHECK: %[[DXS:.*]] = arith.mulf %[[SKIP]], %[[XV]] : f32
// CHECK: %[[YV:.*]] = arith.addf %[[Y]], %[[DXS]] : f32
// CHECK: memref.store %[[YV]], %[[OUT]][%[[B]], %[[T]], %[[H]], %[[P]]]
// CHECK: } else {
// CHECK: %[[CHUNKS:.*]] = arith.ceildivui %{{.*}}, %c64 : index
// CHECK: scf.for %{{.*}} = %c0 to %[[CHUNKS]] step %c1 {
// CHECK: arith.minui %{{.*}}, %c64 : index
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable : memref<?x?x4x3xf32> to tensor<?x?x4x3xf32>
// CHECK-NOT: lm.selective_scan
func.func @selective_scan(%x: tensor<?x?x4x3xf32>, %dt: tensor<?x?x4xf32>, %dtb: tensor<4xf32>, %alog: tensor<4xf32>,
                          %b: tensor<?x?x2x5xf32>, %c: tensor<?x?x2x5xf32>, %d: tensor<4xf32>, %buf: memref<?x4x3x5xf32>)
    -> tensor<?x?x4x3xf32> {
  %s = builtin.unrealized_conversion_cast %buf : memref<?x4x3x5xf32> to !lm.recurrent_state<[4, 3, 5], f32>
  %y, %s1 = lm.selective_scan %x, %dt, %dtb, %alog, %b, %c, %d, %s {dt_min = 0.001 : f64, dt_max = 0.1 : f64}
      : (tensor<?x?x4x3xf32>, tensor<?x?x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<?x?x2x5xf32>, tensor<?x?x2x5xf32>,
         tensor<4xf32>, !lm.recurrent_state<[4, 3, 5], f32>)
      -> (tensor<?x?x4x3xf32>, !lm.recurrent_state<[4, 3, 5], f32>)
  return %y : tensor<?x?x4x3xf32>
}
