// RUN: lmc-opt %s --lm-lower-to-linalg --split-input-file | FileCheck %s

// Norms (lib/Codegen/LMToLinalg/Norms.cpp): reductions over the last
// dimension, then elementwise generics reading the per-row statistic.

// LayerNorm: the mean (sum / 8), the centred input, the variance of the
// centred input, then (x - mean) * rsqrt(var + eps) * w + b.
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[CH:.+]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<?x?x8xf32>, %[[W:[a-z0-9]+]]: tensor<8xf32>, %[[B:[a-z0-9]+]]: tensor<8xf32>
// CHECK-DAG: %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
// CHECK-DAG: %[[N:.*]] = arith.constant 8.000000e+00 : f32
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]] : tensor<?x?x8xf32>)
// CHECK: arith.addf
// CHECK: %[[CENTRED:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]], %[[SUM]] :
// CHECK: ^bb0(%[[XV:.*]]: f32, %[[S:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[MEAN:.*]] = arith.divf %[[S]], %[[N]] : f32
// CHECK: arith.subf %[[XV]], %[[MEAN]] : f32
// CHECK: %[[SQ:.*]] = linalg.generic {{.*}} ins(%[[CENTRED]] :
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK: %[[VAR:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[SQ]] :
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[CH]], #[[CH]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%[[CENTRED]], %[[VAR]], %[[W]], %[[B]] :
// CHECK: ^bb0(%[[C:.*]]: f32, %[[V:.*]]: f32, %[[WV:.*]]: f32, %[[BV:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[MV:.*]] = arith.divf %[[V]], %[[N]] : f32
// CHECK: %[[VE:.*]] = arith.addf %[[MV]], %[[EPS]] : f32
// CHECK: %[[INV:.*]] = math.rsqrt %[[VE]] : f32
// CHECK: %[[Y:.*]] = arith.mulf %[[C]], %[[INV]] : f32
// CHECK: %[[YW:.*]] = arith.mulf %[[Y]], %[[WV]] : f32
// CHECK: %[[R:.*]] = arith.addf %[[YW]], %[[BV]] : f32
// CHECK: linalg.yield %[[R]] : f32
// CHECK-NOT: lm.layer_norm
func.func @layer_norm(%x: tensor<?x?x8xf32>, %w: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<?x?x8xf32> {
  %0 = lm.layer_norm %x, %w, %b {epsilon = 1.0e-05 : f64} : tensor<?x?x8xf32>, tensor<8xf32>, tensor<8xf32> -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

// L2 norm per head: a sum (not a mean) of squares over the head dim, then
// x * rsqrt(sum + eps), with no division by the channel count.
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @l2_norm
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<?x?x2x8xf32>
// CHECK: %[[EPS:.*]] = arith.constant 9.99999997E-7 : f32
// CHECK: %[[SQ:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<?x?x2x8xf32>)
// CHECK: arith.mulf %[[A:.*]], %[[A]] : f32
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[SQ]] : tensor<?x?x2x8xf32>) outs(%{{.*}} : tensor<?x?x2xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[X]], %[[SUM]] :
// CHECK: ^bb0(%[[XV:.*]]: f32, %[[S:.*]]: f32, %{{.*}}: f32):
// CHECK-NOT: arith.divf
// CHECK: %[[SE:.*]] = arith.addf %[[S]], %[[EPS]] : f32
// CHECK: %[[INV:.*]] = math.rsqrt %[[SE]] : f32
// CHECK: %[[R:.*]] = arith.mulf %[[XV]], %[[INV]] : f32
// CHECK: linalg.yield %[[R]] : f32
// CHECK-NOT: lm.l2_norm
func.func @l2_norm(%x: tensor<?x?x2x8xf32>) -> tensor<?x?x2x8xf32> {
  %0 = lm.l2_norm %x {epsilon = 1.0e-06 : f64} : tensor<?x?x2x8xf32>
  return %0 : tensor<?x?x2x8xf32>
}
