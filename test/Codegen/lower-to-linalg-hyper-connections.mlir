// RUN: lmc-opt %s --lm-lower-to-linalg --split-input-file | FileCheck %s

// Manifold-constrained hyper-connections and Sinkhorn
// (lib/Codegen/LMToLinalg/HyperConnections.cpp); lm.hash_router, whose
// pattern also lives there, is tested in lower-to-linalg-moe.mlir.

// Every stream n is a copy of the hidden state: the input map drops n.
// CHECK-DAG: #[[H:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @hc_expand
// CHECK: linalg.generic {indexing_maps = [#[[H]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%{{.*}} : tensor<?x?x8xf32>) outs(%{{.*}} : tensor<?x?x3x8xf32>)
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: linalg.yield %[[IN]] : f32
// CHECK-NOT: lm.hc_expand
func.func @hc_expand(%h: tensor<?x?x8xf32>) -> tensor<?x?x3x8xf32> {
  %X = lm.hc_expand %h : tensor<?x?x8xf32> -> tensor<?x?x3x8xf32>
  return %X : tensor<?x?x3x8xf32>
}

// -----

// N = 3 streams of D = 8: mix = rms(X.flat) @ fn^T (weightless RMS over the
// 24 flattened channels, then a contraction with fn [15, 24]), split
// [3 | 3 | 9]: pre = sigmoid(mix[0:3] * scale[0] + base[0:3]) + hc_eps,
// post = 2 sigmoid(mix[3:6] * scale[1] + base[3:6]),
// comb[i, j] = mix[6 + 3 i + j] * scale[2] + base[6 + 3 i + j], and the
// input sum_n pre[n] X[n].
// CHECK-DAG: #[[ID3:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[LX:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d2, d3)>
// CHECK-DAG: #[[LW:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3)>
// CHECK-DAG: #[[LO:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d2, d0)>
// CHECK-DAG: #[[PX:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[PO:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[COL:.+]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-DAG: #[[COMB:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 * 3 + d3 + 6)>
// CHECK-DAG: #[[CBASE:.+]] = affine_map<(d0, d1, d2, d3) -> (d2 * 3 + d3 + 6)>
// CHECK-DAG: #[[ID4:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[STREAMS:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>
// CHECK-LABEL: func.func @hc_pre
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<?x?x3x8xf32>, %[[FN:[a-z0-9]+]]: tensor<15x24xf32>, %[[BASE:[a-z0-9]+]]: tensor<15xf32>, %[[SCALE:[a-z0-9]+]]: tensor<3xf32>
// CHECK-DAG: %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-DAG: %[[HCEPS:.*]] = arith.constant 1.000000e-03 : f32
// CHECK-DAG: %[[N:.*]] = arith.constant 2.400000e+01 : f32
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0], [1], [2, 3]] : tensor<?x?x3x8xf32> into tensor<?x?x24xf32>
// CHECK: %[[SUMSQ:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[ROW]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK: %[[NORMED:.*]] = linalg.generic {{.*}} ins(%[[FLAT]], %[[SUMSQ]] :
// CHECK: arith.divf %{{.*}}, %[[N]] : f32
// CHECK: math.rsqrt
// CHECK: %[[MIX:.*]] = linalg.generic {indexing_maps = [#[[LX]], #[[LW]], #[[LO]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[NORMED]], %[[FN]] : tensor<?x?x24xf32>, tensor<15x24xf32>) outs(%{{.*}} : tensor<?x?x15xf32>)
// pre
// CHECK: %[[M0:.*]] = tensor.extract_slice %[[MIX]][0, 0, 0] [%{{.*}}, %{{.*}}, 3] [1, 1, 1] : tensor<?x?x15xf32> to tensor<?x?x3xf32>
// CHECK: %[[B0:.*]] = tensor.extract_slice %[[BASE]][0] [3] [1] : tensor<15xf32> to tensor<3xf32>
// CHECK: %[[S0:.*]] = tensor.extract %[[SCALE]][%c0] : tensor<3xf32>
// CHECK: %[[PRE:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[COL]], #[[ID3]]], {{.*}} ins(%[[M0]], %[[B0]] :
// CHECK: ^bb0(%[[MV:.*]]: f32, %[[BV:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[MS:.*]] = arith.mulf %[[MV]], %[[S0]] : f32
// CHECK: %[[Z:.*]] = arith.addf %[[MS]], %[[BV]] : f32
// CHECK: arith.negf %[[Z]] : f32
// CHECK: %[[SIG:.*]] = arith.divf
// CHECK: %[[P:.*]] = arith.addf %[[SIG]], %[[HCEPS]] : f32
// CHECK: linalg.yield %[[P]] : f32
// post
// CHECK: %[[M1:.*]] = tensor.extract_slice %[[MIX]][0, 0, 3] [%{{.*}}, %{{.*}}, 3] [1, 1, 1] : tensor<?x?x15xf32> to tensor<?x?x3xf32>
// CHECK: %[[B1:.*]] = tensor.extract_slice %[[BASE]][3] [3] [1] : tensor<15xf32> to tensor<3xf32>
// CHECK: %[[S1:.*]] = tensor.extract %[[SCALE]][%c1] : tensor<3xf32>
// CHECK: %[[POST:.*]] = linalg.generic {{.*}} ins(%[[M1]], %[[B1]] :
// CHECK: arith.mulf %{{.*}}, %[[S1]] : f32
// CHECK: %[[SIG1:.*]] = arith.divf
// CHECK: %[[P1:.*]] = arith.mulf %[[SIG1]], %[[TWO]] : f32
// CHECK: linalg.yield %[[P1]] : f32
// comb logits
// CHECK: %[[S2:.*]] = tensor.extract %[[SCALE]][%c2] : tensor<3xf32>
// CHECK: %[[CL:.*]] = linalg.generic {indexing_maps = [#[[COMB]], #[[CBASE]], #[[ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%[[MIX]], %[[BASE]] : tensor<?x?x15xf32>, tensor<15xf32>) outs(%{{.*}} : tensor<?x?x3x3xf32>)
// CHECK: ^bb0(%[[CV:.*]]: f32, %[[CB:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[CS:.*]] = arith.mulf %[[CV]], %[[S2]] : f32
// CHECK: %[[C:.*]] = arith.addf %[[CS]], %[[CB]] : f32
// CHECK: linalg.yield %[[C]] : f32
// input
// CHECK: %[[IN:.*]] = linalg.generic {indexing_maps = [#[[PX]], #[[STREAMS]], #[[PO]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[PRE]], %[[X]] : tensor<?x?x3xf32>, tensor<?x?x3x8xf32>) outs(%{{.*}} : tensor<?x?x8xf32>)
// CHECK: return %[[IN]], %[[POST]], %[[CL]]
// CHECK-NOT: lm.hc_pre
func.func @hc_pre(%X: tensor<?x?x3x8xf32>, %fn: tensor<15x24xf32>, %base: tensor<15xf32>, %scale: tensor<3xf32>)
    -> (tensor<?x?x8xf32>, tensor<?x?x3xf32>, tensor<?x?x3x3xf32>) {
  %x, %post, %cl = lm.hc_pre %X, %fn, %base, %scale {epsilon = 1.0e-06 : f64, hc_epsilon = 1.0e-03 : f64}
      : (tensor<?x?x3x8xf32>, tensor<15x24xf32>, tensor<15xf32>, tensor<3xf32>)
      -> (tensor<?x?x8xf32>, tensor<?x?x3xf32>, tensor<?x?x3x3xf32>)
  return %x, %post, %cl : tensor<?x?x8xf32>, tensor<?x?x3xf32>, tensor<?x?x3x3xf32>
}

// -----

// X'[k] = post[k] * out + sum_j comb[j, k] X[j]: the first generic broadcasts
// post over D and out over the streams, the second accumulates over j with
// comb read transposed (j, k).
// CHECK-DAG: #[[POSTM:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[OUTM:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[ID4:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[COMBM:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d2)>
// CHECK-DAG: #[[XM:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
// CHECK-DAG: #[[RES:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @hc_post
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<?x?x3x8xf32>, %[[O:[a-z0-9]+]]: tensor<?x?x8xf32>, %[[P:[a-z0-9]+]]: tensor<?x?x3xf32>, %[[C:[a-z0-9]+]]: tensor<?x?x3x3xf32>
// CHECK: %[[INIT:.*]] = linalg.generic {indexing_maps = [#[[POSTM]], #[[OUTM]], #[[ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%[[P]], %[[O]] : tensor<?x?x3xf32>, tensor<?x?x8xf32>)
// CHECK: arith.mulf
// CHECK: linalg.generic {indexing_maps = [#[[COMBM]], #[[XM]], #[[RES]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[C]], %[[X]] : tensor<?x?x3x3xf32>, tensor<?x?x3x8xf32>) outs(%[[INIT]] : tensor<?x?x3x8xf32>)
// CHECK: ^bb0(%[[CV:.*]]: f32, %[[XV:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK: %[[M:.*]] = arith.mulf %[[CV]], %[[XV]] : f32
// CHECK: arith.addf %[[ACC]], %[[M]] : f32
// CHECK-NOT: lm.hc_post
func.func @hc_post(%X: tensor<?x?x3x8xf32>, %o: tensor<?x?x8xf32>, %p: tensor<?x?x3xf32>, %c: tensor<?x?x3x3xf32>) -> tensor<?x?x3x8xf32> {
  %X1 = lm.hc_post %X, %o, %p, %c
      : (tensor<?x?x3x8xf32>, tensor<?x?x8xf32>, tensor<?x?x3xf32>, tensor<?x?x3x3xf32>) -> tensor<?x?x3x8xf32>
  return %X1 : tensor<?x?x3x8xf32>
}

// -----

// As hc_pre's first output alone: fn [3, 24], one scale,
// pre = sigmoid(mix * scale[0] + base) + hc_eps, result sum_n pre[n] X[n].
// CHECK-DAG: #[[LX:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d2, d3)>
// CHECK-DAG: #[[LW:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3)>
// CHECK-DAG: #[[LO:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d2, d0)>
// CHECK-DAG: #[[PX:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[PO:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[STREAMS:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>
// CHECK-LABEL: func.func @hc_collapse
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<?x?x3x8xf32>, %[[FN:[a-z0-9]+]]: tensor<3x24xf32>, %[[BASE:[a-z0-9]+]]: tensor<3xf32>, %[[SCALE:[a-z0-9]+]]: tensor<1xf32>
// CHECK-DAG: %[[HCEPS:.*]] = arith.constant 1.000000e-03 : f32
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[X]] {{.*}} into tensor<?x?x24xf32>
// CHECK: math.rsqrt
// CHECK: %[[MIX:.*]] = linalg.generic {indexing_maps = [#[[LX]], #[[LW]], #[[LO]]], {{.*}} ins(%{{.*}}, %[[FN]] : tensor<?x?x24xf32>, tensor<3x24xf32>)
// CHECK: %[[S0:.*]] = tensor.extract %[[SCALE]][%c0] : tensor<1xf32>
// CHECK: %[[PRE:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[BASE]] : tensor<?x?x3xf32>, tensor<3xf32>)
// CHECK: arith.mulf %{{.*}}, %[[S0]] : f32
// CHECK: %[[SIG:.*]] = arith.divf
// CHECK: arith.addf %[[SIG]], %[[HCEPS]] : f32
// CHECK: %[[H:.*]] = linalg.generic {indexing_maps = [#[[PX]], #[[STREAMS]], #[[PO]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[PRE]], %[[X]] : tensor<?x?x3xf32>, tensor<?x?x3x8xf32>) outs(%{{.*}} : tensor<?x?x8xf32>)
// CHECK: return %[[H]]
// CHECK-NOT: lm.hc_collapse
func.func @hc_collapse(%X: tensor<?x?x3x8xf32>, %fn: tensor<3x24xf32>, %base: tensor<3xf32>, %scale: tensor<1xf32>) -> tensor<?x?x8xf32> {
  %h = lm.hc_collapse %X, %fn, %base, %scale {epsilon = 1.0e-06 : f64, hc_epsilon = 1.0e-03 : f64}
     : (tensor<?x?x3x8xf32>, tensor<3x24xf32>, tensor<3xf32>, tensor<1xf32>) -> tensor<?x?x8xf32>
  return %h : tensor<?x?x8xf32>
}

// -----

// Per token on buffers: a row softmax + eps, one column normalisation, then
// iterations - 1 = 4 rounds of a row and a column normalisation, each
// dividing by (sum + eps).
// CHECK-LABEL: func.func @sinkhorn
// CHECK-SAME: %[[IN:[a-z0-9]+]]: tensor<?x?x3x3xf32>
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[NEG_INF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[EPS:.*]] = arith.constant 9.99999997E-7 : f32
// CHECK: %[[INB:.*]] = bufferization.to_buffer %[[IN]] read_only
// CHECK: %[[OUT:.*]] = memref.alloc(%{{.*}}, %{{.*}}) : memref<?x?x3x3xf32>
// CHECK: scf.parallel (%[[B:.*]], %[[T:.*]]) = (%c0, %c0) to
// Row softmax + eps.
// CHECK: scf.for %[[I:.*]] = %c0 to %c3 step %c1 {
// CHECK: %[[MAX:.*]] = scf.for %[[J:.*]] = %c0 to %c3 step %c1 iter_args(%[[M:.*]] = %[[NEG_INF]]) -> (f32) {
// CHECK: %[[V:.*]] = memref.load %[[INB]][%[[B]], %[[T]], %[[I]], %[[J]]]
// CHECK: arith.maximumf %[[M]], %[[V]] : f32
// CHECK: %[[SUM:.*]] = scf.for %[[J:.*]] = %c0 to %c3 step %c1 iter_args(%[[S:.*]] = %[[ZERO]]) -> (f32) {
// CHECK: %[[V:.*]] = memref.load %[[INB]][%[[B]], %[[T]], %[[I]], %[[J]]]
// CHECK: %[[D:.*]] = arith.subf %[[V]], %[[MAX]] : f32
// CHECK: %[[E:.*]] = math.exp %[[D]] : f32
// CHECK: memref.store %[[E]], %[[OUT]][%[[B]], %[[T]], %[[I]], %[[J]]]
// CHECK: arith.addf %[[S]], %[[E]] : f32
// CHECK: scf.for %[[J:.*]] = %c0 to %c3 step %c1 {
// CHECK: %[[V:.*]] = memref.load %[[OUT]][%[[B]], %[[T]], %[[I]], %[[J]]]
// CHECK: %[[Q:.*]] = arith.divf %[[V]], %[[SUM]] : f32
// CHECK: %[[QE:.*]] = arith.addf %[[Q]], %[[EPS]] : f32
// CHECK: memref.store %[[QE]], %[[OUT]][%[[B]], %[[T]], %[[I]], %[[J]]]
// Column normalisation: column i is [.., j, i].
// CHECK: scf.for %[[I:.*]] = %c0 to %c3 step %c1 {
// CHECK: %[[CS:.*]] = scf.for %[[J:.*]] = %c0 to %c3 step %c1 iter_args
// CHECK: memref.load %[[OUT]][%[[B]], %[[T]], %[[J]], %[[I]]]
// CHECK: %[[DEN:.*]] = arith.addf %[[CS]], %[[EPS]] : f32
// CHECK: scf.for %[[J:.*]] = %c0 to %c3 step %c1 {
// CHECK: %[[V:.*]] = memref.load %[[OUT]][%[[B]], %[[T]], %[[J]], %[[I]]]
// CHECK: %[[Q:.*]] = arith.divf %[[V]], %[[DEN]] : f32
// CHECK: memref.store %[[Q]], %[[OUT]][%[[B]], %[[T]], %[[J]], %[[I]]]
// The remaining rounds: rows [.., i, j], then columns [.., j, i].
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c1 {
// CHECK: scf.for %[[I:.*]] = %c0 to %c3 step %c1 {
// CHECK: memref.load %[[OUT]][%[[B]], %[[T]], %[[I]], %[[J:.*]]]
// CHECK: arith.addf %{{.*}}, %[[EPS]] : f32
// CHECK: arith.divf
// CHECK: scf.for %[[I:.*]] = %c0 to %c3 step %c1 {
// CHECK: memref.load %[[OUT]][%[[B]], %[[T]], %[[J:.*]], %[[I]]]
// CHECK: arith.addf %{{.*}}, %[[EPS]] : f32
// CHECK: arith.divf
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable : memref<?x?x3x3xf32> to tensor<?x?x3x3xf32>
// CHECK-NOT: lm.sinkhorn
func.func @sinkhorn(%cl: tensor<?x?x3x3xf32>) -> tensor<?x?x3x3xf32> {
  %c = lm.sinkhorn %cl {epsilon = 1.0e-06 : f64, iterations = 5 : i64} : tensor<?x?x3x3xf32>
  return %c : tensor<?x?x3x3xf32>
}
