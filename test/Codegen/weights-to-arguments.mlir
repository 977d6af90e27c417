// RUN: lmc-opt %s --lm-weights-to-arguments | FileCheck %s

// Each distinct weight becomes one trailing argument named after it; a weight
// used twice (tied embeddings) becomes one argument.
// CHECK-LABEL: func.func @forward
// CHECK-SAME: %[[IDS:.*]]: tensor<?x?xi64>, %{{.*}}: tensor<?x?xi64>,
// CHECK-SAME: %[[TABLE:.*]]: tensor<16x8xf32> {lm.weight = "embed.weight"},
// CHECK-SAME: %[[EXPERTS:.*]]: tensor<4x8x8xf32> {lm.count = 4 : i64, lm.stacked_weight = ["e.{}.w"]}
// CHECK-NOT: lm.weight "
// CHECK-NOT: lm.stacked_weight [
// CHECK: lm.embed %[[TABLE]], %[[IDS]]
// CHECK: lm.linear %{{.*}}, %[[TABLE]]
// CHECK: lm.transpose %[[EXPERTS]]
func.func @forward(%ids: tensor<?x?xi64>, %pos: tensor<?x?xi64>) -> (tensor<?x?x16xf32>, tensor<4x8x8xf32>) {
  %t = lm.weight "embed.weight" : tensor<16x8xf32>
  %h = lm.embed %t, %ids : tensor<16x8xf32>, tensor<?x?xi64> -> tensor<?x?x8xf32>
  %t2 = lm.weight "embed.weight" : tensor<16x8xf32>
  %l = lm.linear %h, %t2 : tensor<?x?x8xf32>, tensor<16x8xf32> -> tensor<?x?x16xf32>
  %e = lm.stacked_weight ["e.{}.w"] x 4 : tensor<4x8x8xf32>
  %et = lm.transpose %e [0, 2, 1] : tensor<4x8x8xf32> -> tensor<4x8x8xf32>
  return %l, %et : tensor<?x?x16xf32>, tensor<4x8x8xf32>
}
