// RUN: lmc-opt %s --lm-lower-to-linalg --split-input-file | FileCheck %s

// Projections (lib/Codegen/LMToLinalg/Projections.cpp); lm.linear is covered
// in lower-to-linalg.mlir.

// Group g of [B, T, G, K] is contracted over K with weight rows
// g*N .. g*N+N-1 of the [G*N, K] weight (N = 6 here): the weight map is
// (g * 6 + n, k), accumulating in f32 from zeros.
// CHECK-DAG: #[[X:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[W:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d2 * 6 + d3, d4)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @grouped_linear
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<?x?x2x6xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<?x?x2x8xf32>, tensor<12x8xbf16>) outs(%[[INIT]] : tensor<?x?x2x6xf32>)
// CHECK: ^bb0(%[[XV:.*]]: f32, %[[WV:.*]]: bf16, %[[ACC:.*]]: f32):
// CHECK: %[[WF:.*]] = arith.extf %[[WV]] : bf16 to f32
// CHECK: %[[P:.*]] = arith.mulf %[[XV]], %[[WF]] : f32
// CHECK: %[[R:.*]] = arith.addf %[[ACC]], %[[P]] : f32
// CHECK: linalg.yield %[[R]] : f32
// CHECK-NOT: lm.grouped_linear
func.func @grouped_linear(%x: tensor<?x?x2x8xf32>, %w: tensor<12x8xbf16>) -> tensor<?x?x2x6xf32> {
  %0 = lm.grouped_linear %x, %w : tensor<?x?x2x8xf32>, tensor<12x8xbf16> -> tensor<?x?x2x6xf32>
  return %0 : tensor<?x?x2x6xf32>
}
