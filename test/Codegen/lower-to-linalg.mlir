// RUN: lmc-opt %s --lm-lower-to-linalg --split-input-file --verify-diagnostics | FileCheck %s

// A contraction over the input features, initialised with the broadcast bias;
// the output features are the outermost loop (d0), so a weight row is reused
// by every token of a prompt.
// CHECK-DAG: #[[LX:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d2, d3)>
// CHECK-DAG: #[[LW:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3)>
// CHECK-DAG: #[[LO:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d2, d0)>
// CHECK-LABEL: func.func @linear
// CHECK: %[[BIAS:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<4xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[LX]], #[[LW]], #[[LO]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<?x?x8xf32>, tensor<4x8xbf16>) outs(%[[BIAS]] : tensor<?x?x4xf32>)
// CHECK: arith.extf
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK-NOT: lm.linear
func.func @linear(%x: tensor<?x?x8xf32>, %w: tensor<4x8xbf16>, %b: tensor<4xf32>) -> tensor<?x?x4xf32> {
  %0 = lm.linear %x, %w, %b : tensor<?x?x8xf32>, tensor<4x8xbf16>, tensor<4xf32> -> tensor<?x?x4xf32>
  return %0 : tensor<?x?x4xf32>
}

// -----

// CHECK-LABEL: func.func @rms_norm
// Sum of squares over the last dimension, then the scaled, offset weight.
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: math.rsqrt
// CHECK: arith.addf %{{.*}}, %[[ONE]] : f32
// CHECK-NOT: lm.rms_norm
func.func @rms_norm(%x: tensor<?x?x8xf32>, %w: tensor<8xf32>) -> tensor<?x?x8xf32> {
  %0 = lm.rms_norm %x, %w {epsilon = 1.0e-06 : f64, weight_offset = 1.0 : f64} : tensor<?x?x8xf32>, tensor<8xf32> -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

// Scores contract the head dim; query head h reads KV head h floordiv 2,
// for the keys and again for the values.
// CHECK-DAG: affine_map<(d0, d1, d2, d3, d4) -> (d0, d3, d1 floordiv 2, d4)>
// CHECK-DAG: affine_map<(d0, d1, d2, d3, d4) -> (d0, d4, d2 floordiv 2, d3)>
// CHECK-LABEL: func.func @attention
// CHECK: %[[NEG_INF:.*]] = arith.constant 0xFF800000 : f32
// The mask compares key and query positions (and the window).
// CHECK: arith.cmpi sle
// CHECK: arith.cmpi sgt
// CHECK: arith.select %{{.*}}, %{{.*}}, %[[NEG_INF]] : f32
// CHECK: math.exp
// CHECK-NOT: lm.attention
func.func @attention(%q: tensor<?x?x4x8xf32>, %k: tensor<?x?x2x8xf32>, %v: tensor<?x?x2x8xf32>, %pos: tensor<?x?xi64>) -> tensor<?x?x4x8xf32> {
  %0 = lm.attention %q, %k, %v, %pos {scale = 0.35 : f64, sliding_window = 4 : i64}
     : (tensor<?x?x4x8xf32>, tensor<?x?x2x8xf32>, tensor<?x?x2x8xf32>, tensor<?x?xi64>) -> tensor<?x?x4x8xf32>
  return %0 : tensor<?x?x4x8xf32>
}

// -----

// CHECK-LABEL: func.func @router
// Routing loops over buffers, tokens in parallel, each with its own scratch
// rows (scores, choices: 8 experts; group scores and kept groups: 4), and
// returns tensors.
// CHECK: bufferization.to_buffer
// CHECK-COUNT-2: memref.alloc(%{{.*}}, %{{.*}}) : memref<?x?x8xf32>
// CHECK-COUNT-2: memref.alloc(%{{.*}}, %{{.*}}) : memref<?x?x4xf32>
// CHECK: scf.parallel (%[[B:.*]], %[[T:.*]]) =
// CHECK: memref.subview %{{.*}}[%[[B]], %[[T]], 0] [1, 1, 8] [1, 1, 1] : memref<?x?x8xf32> to memref<8xf32, strided<[1], offset: ?>>
// CHECK: scf.for
// CHECK: scf.reduce
// CHECK: bufferization.to_tensor {{.*}} restrict writable
// CHECK-NOT: lm.router
func.func @router(%l: tensor<?x?x8xf32>, %b: tensor<8xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>) {
  %w, %i = lm.router %l bias %b {scoring = #lm.scoring<sigmoid>, top_k = 2 : i64, num_groups = 4 : i64, top_k_groups = 2 : i64, normalize}
      : (tensor<?x?x8xf32>, tensor<8xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  return %w, %i : tensor<?x?x2xf32>, tensor<?x?x2xi64>
}

// -----

// CHECK-LABEL: func.func @gated_rms_norm
// Grouped: the channels split into groups of 4, normalised, merged back.
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1], [2, 3]] {{.*}} : tensor<?x?x8xf32> into tensor<?x?x2x4xf32>
// CHECK: math.rsqrt
// CHECK: tensor.collapse_shape
// CHECK-NOT: lm.gated_rms_norm
func.func @gated_rms_norm(%x: tensor<?x?x8xf32>, %z: tensor<?x?x8xf32>, %w: tensor<8xf32>) -> tensor<?x?x8xf32> {
  %0 = lm.gated_rms_norm %x, %z, %w {epsilon = 1.0e-05 : f64, group_size = 4 : i64}
     : tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<8xf32> -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

func.func @unsupported() -> tensor<4x4xf32> {
  // expected-error @+1 {{cannot lower 'lm.weight' for the host (weights and state must be arguments first: lm-weights-to-arguments, lm-lower-state)}}
  %0 = lm.weight "w" : tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}
