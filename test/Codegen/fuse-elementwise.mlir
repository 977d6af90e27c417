// RUN: lmc-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lm-fuse-elementwise))' | FileCheck %s

// An activation feeding a projection stays a separate loop nest: fused, it
// would be recomputed for every output feature n (the consumer's extra loop).
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @activation_into_projection
// CHECK: %[[ACT:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK: math.exp
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[ACT]], %{{.*}} : tensor<4x16xf32>, tensor<8x16xf32>)
// CHECK-NOT: math.exp
// CHECK: return
#id = affine_map<(d0, d1) -> (d0, d1)>
#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @activation_into_projection(%x: tensor<4x16xf32>, %w: tensor<8x16xf32>, %acc: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x16xf32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %y = math.exp %in : f32
    linalg.yield %y : f32
  } -> tensor<4x16xf32>
  %p = linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<4x16xf32>, tensor<8x16xf32>) outs(%acc : tensor<4x8xf32>) {
  ^bb0(%ai: f32, %wi: f32, %o: f32):
    %m = arith.mulf %ai, %wi : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<4x8xf32>
  return %p : tensor<4x8xf32>
}

// -----

// Over the same loops (here a square feeding the sum of squares of a norm,
// the reduction over a loop the producer has too) each element is still
// computed once: fused into one nest.
// CHECK-LABEL: func.func @square_into_sum
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%{{.*}} : tensor<4x16xf32>)
// CHECK: ^bb0(%[[IN:[a-z0-9_]+]]: f32, %[[ACC:[a-z0-9_]+]]: f32):
// CHECK: %[[SQ:.*]] = arith.mulf %[[IN]], %[[IN]] : f32
// CHECK: %[[ADD:.*]] = arith.addf %[[ACC]], %[[SQ]] : f32
// CHECK: linalg.yield %[[ADD]] : f32
// CHECK-NOT: linalg.generic
// CHECK: return %[[SUM]]
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
func.func @square_into_sum(%x: tensor<4x16xf32>, %acc: tensor<4xf32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4x16xf32>
  %sq = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %y = arith.mulf %in, %in : f32
    linalg.yield %y : f32
  } -> tensor<4x16xf32>
  %s = linalg.generic {indexing_maps = [#id2, #row], iterator_types = ["parallel", "reduction"]}
      ins(%sq : tensor<4x16xf32>) outs(%acc : tensor<4xf32>) {
  ^bb0(%v: f32, %o: f32):
    %r = arith.addf %o, %v : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  return %s : tensor<4xf32>
}

// -----

// A residual sum feeding both the next norm-like consumer and the next sum
// stays a loop nest of its own: fused into both, each consumer would add it
// up again (along a residual stream, every earlier layer's output per layer).
// CHECK-LABEL: func.func @shared_producer
// CHECK: %[[R1:.*]] = linalg.generic
// CHECK: arith.addf
// CHECK: %[[SQ:.*]] = linalg.generic {{.*}} ins(%[[R1]] : tensor<4x16xf32>)
// CHECK: arith.mulf
// CHECK: %[[R2:.*]] = linalg.generic {{.*}} ins(%[[R1]], %{{.*}} : tensor<4x16xf32>, tensor<4x16xf32>)
// CHECK: return %[[SQ]], %[[R2]]
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @shared_producer(%x: tensor<4x16xf32>, %a: tensor<4x16xf32>, %b: tensor<4x16xf32>)
    -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %e = tensor.empty() : tensor<4x16xf32>
  %r1 = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x, %a : tensor<4x16xf32>, tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%i: f32, %j: f32, %o: f32):
    %s = arith.addf %i, %j : f32
    linalg.yield %s : f32
  } -> tensor<4x16xf32>
  %sq = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%r1 : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%i: f32, %o: f32):
    %m = arith.mulf %i, %i : f32
    linalg.yield %m : f32
  } -> tensor<4x16xf32>
  %r2 = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%r1, %b : tensor<4x16xf32>, tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%i: f32, %j: f32, %o: f32):
    %s = arith.addf %i, %j : f32
    linalg.yield %s : f32
  } -> tensor<4x16xf32>
  return %sq, %r2 : tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// Qwen3's per-head q and k norms read by their rotary embeddings, which
// read each channel and its partner (tensor.extract): the norms' scaling
// is inlined at both reads, from the projection and the row's statistics
// (the row's own: not gathered), so the scaling is no loop nest of its
// own, and the fused nest takes the scaling's place, right after its
// statistics (lm-map-reductions-to-gpu makes the pair one kernel). A
// single k head's index is the constant 0: still the row's own.
// CHECK-LABEL: func.func @norm_rope
// CHECK-SAME:    (%[[Q:[^:]*]]: tensor<?x?x2x8xf32>, %[[K:[^:]*]]: tensor<?x?x1x8xf32>, %[[W:[^:]*]]: tensor<8xf32>, %[[POS:[^:]*]]: tensor<?x?xi64>)
// CHECK:       %[[QS:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[Q]] :
// CHECK:       %[[QR:.*]] = linalg.generic {{.*}} ins(%[[POS]], %[[Q]], %[[QS]], %[[W]] : tensor<?x?xi64>, tensor<?x?x2x8xf32>, tensor<?x?x2xf32>, tensor<8xf32>)
// CHECK:         math.rsqrt
// CHECK:         math.cos
// CHECK:         tensor.extract %[[Q]][%{{.*}}, %{{.*}}, %{{.*}}, %[[PARTNER:.*]]] : tensor<?x?x2x8xf32>
// CHECK-NEXT:    tensor.extract %[[W]][%[[PARTNER]]] : tensor<8xf32>
// CHECK:         math.rsqrt
// CHECK:       %[[KS:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[K]] :
// CHECK:       %[[KR:.*]] = linalg.generic {{.*}} ins(%[[POS]], %[[K]], %[[KS]], %[[W]] :
// CHECK:         tensor.extract %[[K]][%{{.*}}, %{{.*}}, %c0, %[[KPARTNER:.*]]] : tensor<?x?x1x8xf32>
// CHECK-NEXT:    tensor.extract %[[W]][%[[KPARTNER]]] : tensor<8xf32>
// CHECK-NOT:     tensor.extract %[[KS]]
// CHECK:       return %[[QR]], %[[KR]]
func.func @norm_rope(%arg0: tensor<?x?x2x8xf32>, %arg1: tensor<?x?x1x8xf32>, %arg2: tensor<8xf32>, %arg3: tensor<?x?xi64>) -> (tensor<?x?x2x8xf32>, tensor<?x?x1x8xf32>) {
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %cst = arith.constant dense<[1.000000e+00, 1.000000e-01, 0.00999999977, 1.000000e-03]> : tensor<4xf32>
  %cst_0 = arith.constant 9.99999997E-7 : f32
  %cst_1 = arith.constant 8.000000e+00 : f32
  %cst_2 = arith.constant 0.000000e+00 : f32
  %c1 = arith.constant 1 : index
  %c0 = arith.constant 0 : index
  %dim = tensor.dim %arg0, %c0 : tensor<?x?x2x8xf32>
  %dim_3 = tensor.dim %arg0, %c1 : tensor<?x?x2x8xf32>
  %0 = tensor.empty(%dim, %dim_3) : tensor<?x?x2x8xf32>
  %1 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%arg0 : tensor<?x?x2x8xf32>) outs(%0 : tensor<?x?x2x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %14 = arith.mulf %in, %in : f32
    linalg.yield %14 : f32
  } -> tensor<?x?x2x8xf32>
  %2 = tensor.empty(%dim, %dim_3) : tensor<?x?x2xf32>
  %3 = linalg.fill ins(%cst_2 : f32) outs(%2 : tensor<?x?x2xf32>) -> tensor<?x?x2xf32>
  %4 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%1 : tensor<?x?x2x8xf32>) outs(%3 : tensor<?x?x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %14 = arith.addf %in, %out : f32
    linalg.yield %14 : f32
  } -> tensor<?x?x2xf32>
  %5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%arg0, %4, %arg2 : tensor<?x?x2x8xf32>, tensor<?x?x2xf32>, tensor<8xf32>) outs(%0 : tensor<?x?x2x8xf32>) {
  ^bb0(%in: f32, %in_6: f32, %in_7: f32, %out: f32):
    %14 = arith.divf %in_6, %cst_1 : f32
    %15 = arith.addf %14, %cst_0 : f32
    %16 = math.rsqrt %15 : f32
    %17 = arith.mulf %in, %16 : f32
    %18 = arith.mulf %17, %in_7 : f32
    linalg.yield %18 : f32
  } -> tensor<?x?x2x8xf32>
  %dim_4 = tensor.dim %arg1, %c0 : tensor<?x?x1x8xf32>
  %dim_5 = tensor.dim %arg1, %c1 : tensor<?x?x1x8xf32>
  %6 = tensor.empty(%dim_4, %dim_5) : tensor<?x?x1x8xf32>
  %7 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%arg1 : tensor<?x?x1x8xf32>) outs(%6 : tensor<?x?x1x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %14 = arith.mulf %in, %in : f32
    linalg.yield %14 : f32
  } -> tensor<?x?x1x8xf32>
  %8 = tensor.empty(%dim_4, %dim_5) : tensor<?x?x1xf32>
  %9 = linalg.fill ins(%cst_2 : f32) outs(%8 : tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%7 : tensor<?x?x1x8xf32>) outs(%9 : tensor<?x?x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %14 = arith.addf %in, %out : f32
    linalg.yield %14 : f32
  } -> tensor<?x?x1xf32>
  %11 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%arg1, %10, %arg2 : tensor<?x?x1x8xf32>, tensor<?x?x1xf32>, tensor<8xf32>) outs(%6 : tensor<?x?x1x8xf32>) {
  ^bb0(%in: f32, %in_6: f32, %in_7: f32, %out: f32):
    %14 = arith.divf %in_6, %cst_1 : f32
    %15 = arith.addf %14, %cst_0 : f32
    %16 = math.rsqrt %15 : f32
    %17 = arith.mulf %in, %16 : f32
    %18 = arith.mulf %17, %in_7 : f32
    linalg.yield %18 : f32
  } -> tensor<?x?x1x8xf32>
  %12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%5, %arg3 : tensor<?x?x2x8xf32>, tensor<?x?xi64>) outs(%0 : tensor<?x?x2x8xf32>) {
  ^bb0(%in: f32, %in_6: i64, %out: f32):
    %14 = linalg.index 3 : index
    %15 = arith.cmpi slt, %14, %c8 : index
    %16 = arith.cmpi sge, %14, %c0 : index
    %17 = arith.andi %16, %15 : i1
    %18 = arith.select %17, %14, %c0 : index
    %19 = arith.cmpi slt, %18, %c4 : index
    %20 = arith.subi %18, %c4 : index
    %21 = arith.select %19, %18, %20 : index
    %22 = arith.addi %18, %c4 : index
    %23 = arith.select %19, %22, %20 : index
    %extracted = tensor.extract %cst[%21] : tensor<4xf32>
    %24 = arith.sitofp %in_6 : i64 to f32
    %25 = arith.mulf %24, %extracted : f32
    %26 = math.cos %25 : f32
    %27 = math.sin %25 : f32
    %28 = linalg.index 0 : index
    %29 = linalg.index 1 : index
    %30 = linalg.index 2 : index
    %extracted_7 = tensor.extract %5[%28, %29, %30, %23] : tensor<?x?x2x8xf32>
    %31 = arith.mulf %extracted_7, %27 : f32
    %32 = arith.mulf %in, %26 : f32
    %33 = arith.addf %32, %31 : f32
    %34 = arith.subf %32, %31 : f32
    %35 = arith.select %19, %34, %33 : f32
    %36 = arith.select %17, %35, %in : f32
    linalg.yield %36 : f32
  } -> tensor<?x?x2x8xf32>
  %13 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%11, %arg3 : tensor<?x?x1x8xf32>, tensor<?x?xi64>) outs(%6 : tensor<?x?x1x8xf32>) {
  ^bb0(%in: f32, %in_6: i64, %out: f32):
    %14 = linalg.index 3 : index
    %15 = arith.cmpi slt, %14, %c8 : index
    %16 = arith.cmpi sge, %14, %c0 : index
    %17 = arith.andi %16, %15 : i1
    %18 = arith.select %17, %14, %c0 : index
    %19 = arith.cmpi slt, %18, %c4 : index
    %20 = arith.subi %18, %c4 : index
    %21 = arith.select %19, %18, %20 : index
    %22 = arith.addi %18, %c4 : index
    %23 = arith.select %19, %22, %20 : index
    %extracted = tensor.extract %cst[%21] : tensor<4xf32>
    %24 = arith.sitofp %in_6 : i64 to f32
    %25 = arith.mulf %24, %extracted : f32
    %26 = math.cos %25 : f32
    %27 = math.sin %25 : f32
    %28 = linalg.index 0 : index
    %29 = linalg.index 1 : index
    %extracted_7 = tensor.extract %11[%28, %29, %c0, %23] : tensor<?x?x1x8xf32>
    %30 = arith.mulf %extracted_7, %27 : f32
    %31 = arith.mulf %in, %26 : f32
    %32 = arith.addf %31, %30 : f32
    %33 = arith.subf %31, %30 : f32
    %34 = arith.select %19, %33, %32 : f32
    %35 = arith.select %17, %34, %in : f32
    linalg.yield %35 : f32
  } -> tensor<?x?x1x8xf32>
  return %12, %13 : tensor<?x?x2x8xf32>, tensor<?x?x1x8xf32>
}

// -----

// The normalised head is read elsewhere too: inlining it would compute it
// twice over; it stays.
// CHECK-LABEL: func.func @norm_kept
// CHECK:       %[[N:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<?x?x2x8xf32>, tensor<?x?x2xf32>, tensor<8xf32>)
// CHECK:       linalg.generic {{.*}} ins(%[[N]], %{{.*}} : tensor<?x?x2x8xf32>, tensor<?x?xi64>)
// CHECK:         tensor.extract %[[N]]
// CHECK:       return
func.func @norm_kept(%arg0: tensor<?x?x2x8xf32>, %arg1: tensor<8xf32>, %arg2: tensor<?x?xi64>) -> (tensor<?x?x2x8xf32>, tensor<?x?x2x8xf32>) {
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %cst = arith.constant dense<[1.000000e+00, 1.000000e-01, 0.00999999977, 1.000000e-03]> : tensor<4xf32>
  %cst_0 = arith.constant 9.99999997E-7 : f32
  %cst_1 = arith.constant 8.000000e+00 : f32
  %cst_2 = arith.constant 0.000000e+00 : f32
  %c1 = arith.constant 1 : index
  %c0 = arith.constant 0 : index
  %dim = tensor.dim %arg0, %c0 : tensor<?x?x2x8xf32>
  %dim_3 = tensor.dim %arg0, %c1 : tensor<?x?x2x8xf32>
  %0 = tensor.empty(%dim, %dim_3) : tensor<?x?x2x8xf32>
  %1 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%arg0 : tensor<?x?x2x8xf32>) outs(%0 : tensor<?x?x2x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %7 = arith.mulf %in, %in : f32
    linalg.yield %7 : f32
  } -> tensor<?x?x2x8xf32>
  %2 = tensor.empty(%dim, %dim_3) : tensor<?x?x2xf32>
  %3 = linalg.fill ins(%cst_2 : f32) outs(%2 : tensor<?x?x2xf32>) -> tensor<?x?x2xf32>
  %4 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%1 : tensor<?x?x2x8xf32>) outs(%3 : tensor<?x?x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %7 = arith.addf %in, %out : f32
    linalg.yield %7 : f32
  } -> tensor<?x?x2xf32>
  %5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%arg0, %4, %arg1 : tensor<?x?x2x8xf32>, tensor<?x?x2xf32>, tensor<8xf32>) outs(%0 : tensor<?x?x2x8xf32>) {
  ^bb0(%in: f32, %in_4: f32, %in_5: f32, %out: f32):
    %7 = arith.divf %in_4, %cst_1 : f32
    %8 = arith.addf %7, %cst_0 : f32
    %9 = math.rsqrt %8 : f32
    %10 = arith.mulf %in, %9 : f32
    %11 = arith.mulf %10, %in_5 : f32
    linalg.yield %11 : f32
  } -> tensor<?x?x2x8xf32>
  %6 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%5, %arg2 : tensor<?x?x2x8xf32>, tensor<?x?xi64>) outs(%0 : tensor<?x?x2x8xf32>) {
  ^bb0(%in: f32, %in_4: i64, %out: f32):
    %7 = linalg.index 3 : index
    %8 = arith.cmpi slt, %7, %c8 : index
    %9 = arith.cmpi sge, %7, %c0 : index
    %10 = arith.andi %9, %8 : i1
    %11 = arith.select %10, %7, %c0 : index
    %12 = arith.cmpi slt, %11, %c4 : index
    %13 = arith.subi %11, %c4 : index
    %14 = arith.select %12, %11, %13 : index
    %15 = arith.addi %11, %c4 : index
    %16 = arith.select %12, %15, %13 : index
    %extracted = tensor.extract %cst[%14] : tensor<4xf32>
    %17 = arith.sitofp %in_4 : i64 to f32
    %18 = arith.mulf %17, %extracted : f32
    %19 = math.cos %18 : f32
    %20 = math.sin %18 : f32
    %21 = linalg.index 0 : index
    %22 = linalg.index 1 : index
    %23 = linalg.index 2 : index
    %extracted_5 = tensor.extract %5[%21, %22, %23, %16] : tensor<?x?x2x8xf32>
    %24 = arith.mulf %extracted_5, %20 : f32
    %25 = arith.mulf %in, %19 : f32
    %26 = arith.addf %25, %24 : f32
    %27 = arith.subf %25, %24 : f32
    %28 = arith.select %12, %27, %26 : f32
    %29 = arith.select %10, %28, %in : f32
    linalg.yield %29 : f32
  } -> tensor<?x?x2x8xf32>
  return %6, %5 : tensor<?x?x2x8xf32>, tensor<?x?x2x8xf32>
}
