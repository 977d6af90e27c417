// RUN: lmc-opt %s --split-input-file --lm-elide-copies | FileCheck %s

#id3 = affine_map<(b, t, d) -> (b, t, d)>
#proj_x = affine_map<(b, t, n, k) -> (b, t, k)>
#proj_w = affine_map<(b, t, n, k) -> (n, k)>
#proj_o = affine_map<(b, t, n, k) -> (b, t, n)>

// A cache update: the keys computed into a temporary, copied into the
// cache window at the start position. The window (recomputed before the
// temporary's first writer, its sizes traced back to the input's) is
// written directly; the copy and the temporary go.
// CHECK-LABEL: func.func @cache_update
// CHECK-SAME: (%[[X:.*]]: memref<?x?x8xf32>, %[[START:.*]]: index, %[[CACHE:.*]]: memref<?x?x8xf32>)
// CHECK: %[[B:.*]] = memref.dim %[[X]], %c0
// CHECK: %[[T:.*]] = memref.dim %[[X]], %c1
// CHECK: %[[WINDOW:.*]] = memref.subview %[[CACHE]][0, %[[START]], 0] [%[[B]], %[[T]], 8] [1, 1, 1]
// CHECK-NOT: memref.alloc
// CHECK: linalg.generic {{.*}} ins(%[[X]] : memref<?x?x8xf32>) outs(%[[WINDOW]] : memref<?x?x8xf32, strided<[?, 8, 1], offset: ?>>)
// CHECK-NOT: linalg.copy
// CHECK-NOT: memref.dealloc
// CHECK: return
func.func @cache_update(%x: memref<?x?x8xf32>, %start: index, %cache: memref<?x?x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = memref.dim %x, %c0 : memref<?x?x8xf32>
  %t = memref.dim %x, %c1 : memref<?x?x8xf32>
  %keys = memref.alloc(%b, %t) : memref<?x?x8xf32>
  linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : memref<?x?x8xf32>) outs(%keys : memref<?x?x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  }
  %b2 = memref.dim %keys, %c0 : memref<?x?x8xf32>
  %t2 = memref.dim %keys, %c1 : memref<?x?x8xf32>
  %window = memref.subview %cache[0, %start, 0] [%b2, %t2, 8] [1, 1, 1] : memref<?x?x8xf32> to memref<?x?x8xf32, strided<[?, 8, 1], offset: ?>>
  linalg.copy ins(%keys : memref<?x?x8xf32>) outs(%window : memref<?x?x8xf32, strided<[?, 8, 1], offset: ?>>)
  memref.dealloc %keys : memref<?x?x8xf32>
  return
}

// -----

#proj_x = affine_map<(b, t, n, k) -> (b, t, k)>
#proj_w = affine_map<(b, t, n, k) -> (n, k)>
#proj_o = affine_map<(b, t, n, k) -> (b, t, n)>

// Values projected as [B, T, heads * dim] and copied as [B, T, heads, dim]:
// the projection and its fill write the window collapsed back to three
// dimensions; the reshape's sizes come from its output shape.
// CHECK-LABEL: func.func @through_reshape
// CHECK: %[[WINDOW:.*]] = memref.subview %arg2
// CHECK: %[[FLAT:.*]] = memref.collapse_shape %[[WINDOW]] {{\[}}[0], [1], [2, 3]] : memref<?x?x2x4xf32, strided<[?, 8, 4, 1], offset: ?>> into memref<?x?x8xf32, strided<[?, 8, 1], offset: ?>>
// CHECK: linalg.fill {{.*}} outs(%[[FLAT]]
// CHECK: linalg.generic {{.*}} outs(%[[FLAT]]
// CHECK-NOT: linalg.copy
// CHECK: return
func.func @through_reshape(%x: memref<?x?x16xf32>, %w: memref<8x16xf32>, %cache: memref<?x?x2x4xf32>, %start: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %b = memref.dim %x, %c0 : memref<?x?x16xf32>
  %t = memref.dim %x, %c1 : memref<?x?x16xf32>
  %v = memref.alloc(%b, %t) : memref<?x?x8xf32>
  linalg.fill ins(%zero : f32) outs(%v : memref<?x?x8xf32>)
  linalg.generic {indexing_maps = [#proj_x, #proj_w, #proj_o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x?x16xf32>, memref<8x16xf32>) outs(%v : memref<?x?x8xf32>) {
  ^bb0(%in: f32, %wt: f32, %out: f32):
    %m = arith.mulf %in, %wt : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  }
  %heads = memref.expand_shape %v [[0], [1], [2, 3]] output_shape [%b, %t, 2, 4] : memref<?x?x8xf32> into memref<?x?x2x4xf32>
  %b2 = memref.dim %heads, %c0 : memref<?x?x2x4xf32>
  %t2 = memref.dim %heads, %c1 : memref<?x?x2x4xf32>
  %window = memref.subview %cache[0, %start, 0, 0] [%b2, %t2, 2, 4] [1, 1, 1, 1] : memref<?x?x2x4xf32> to memref<?x?x2x4xf32, strided<[?, 8, 4, 1], offset: ?>>
  linalg.copy ins(%heads : memref<?x?x2x4xf32>) outs(%window : memref<?x?x2x4xf32, strided<[?, 8, 4, 1], offset: ?>>)
  memref.dealloc %v : memref<?x?x8xf32>
  return
}

// -----

#id4 = affine_map<(b, t, h, d) -> (b, t, h, d)>

// MLA's rotary keys: one head, computed as [B, T, 1, 8] and copied as
// [B, T, 8] (its sizes asked for on the way): the rotation writes the
// window expanded back to four dimensions.
// CHECK-LABEL: func.func @through_collapse
// CHECK: %[[WINDOW:.*]] = memref.subview %arg1
// CHECK: %[[HEADS:.*]] = memref.expand_shape %[[WINDOW]] {{\[}}[0], [1], [2, 3]] output_shape [%{{.*}}, %{{.*}}, 1, 8] : memref<?x?x8xf32, strided<[?, 8, 1], offset: ?>> into memref<?x?x1x8xf32, strided<[?, 8, 8, 1], offset: ?>>
// CHECK: linalg.generic {{.*}} outs(%[[HEADS]]
// CHECK-NOT: linalg.copy
// CHECK: return
func.func @through_collapse(%x: memref<?x?x1x8xf32>, %cache: memref<?x?x8xf32>, %start: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = memref.dim %x, %c0 : memref<?x?x1x8xf32>
  %t = memref.dim %x, %c1 : memref<?x?x1x8xf32>
  %k = memref.alloc(%b, %t) : memref<?x?x1x8xf32>
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<?x?x1x8xf32>) outs(%k : memref<?x?x1x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  }
  %flat = memref.collapse_shape %k [[0], [1], [2, 3]] : memref<?x?x1x8xf32> into memref<?x?x8xf32>
  %b2 = memref.dim %flat, %c0 : memref<?x?x8xf32>
  %t2 = memref.dim %flat, %c1 : memref<?x?x8xf32>
  %window = memref.subview %cache[0, %start, 0] [%b2, %t2, 8] [1, 1, 1] : memref<?x?x8xf32> to memref<?x?x8xf32, strided<[?, 8, 1], offset: ?>>
  linalg.copy ins(%flat : memref<?x?x8xf32>) outs(%window : memref<?x?x8xf32, strided<[?, 8, 1], offset: ?>>)
  memref.dealloc %k : memref<?x?x1x8xf32>
  return
}

// -----

#id2 = affine_map<(i, j) -> (i, j)>

// One temporary for the same value of two layers (as bufferization reuses
// MLA's latents): each part of its life, from its full overwrite to its
// copy, writes that layer's cache instead, and the temporary goes.
// CHECK-LABEL: func.func @reused
// CHECK-NOT: memref.alloc
// CHECK: linalg.fill {{.*}} outs(%arg1 :
// CHECK: linalg.generic {{.*}} outs(%arg1 :
// CHECK: linalg.fill {{.*}} outs(%arg2 :
// CHECK: linalg.generic {{.*}} outs(%arg2 :
// CHECK-NOT: linalg.copy
// CHECK: return
func.func @reused(%x: memref<4x8xf32>, %cache0: memref<4x8xf32>, %cache1: memref<4x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %t = memref.alloc() : memref<4x8xf32>
  linalg.fill ins(%zero : f32) outs(%t : memref<4x8xf32>)
  linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x8xf32>) outs(%t : memref<4x8xf32>) {
  ^bb0(%in: f32, %o: f32):
    %s = arith.addf %in, %o : f32
    linalg.yield %s : f32
  }
  linalg.copy ins(%t : memref<4x8xf32>) outs(%cache0 : memref<4x8xf32>)
  linalg.fill ins(%zero : f32) outs(%t : memref<4x8xf32>)
  linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x8xf32>) outs(%t : memref<4x8xf32>) {
  ^bb0(%in: f32, %o: f32):
    %s = arith.mulf %in, %o : f32
    linalg.yield %s : f32
  }
  linalg.copy ins(%t : memref<4x8xf32>) outs(%cache1 : memref<4x8xf32>)
  memref.dealloc %t : memref<4x8xf32>
  return
}

// -----

#id2 = affine_map<(i, j) -> (i, j)>

// The logits: computed into a temporary, copied to the output argument.
// CHECK-LABEL: func.func @output
// CHECK-NOT: memref.alloc
// CHECK: linalg.generic {{.*}} outs(%arg1 : memref<4x8xf32>)
// CHECK-NOT: memref.copy
func.func @output(%x: memref<4x8xf32>, %out: memref<4x8xf32>) {
  %tmp = memref.alloc() : memref<4x8xf32>
  linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x8xf32>) outs(%tmp : memref<4x8xf32>) {
  ^bb0(%in: f32, %o: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  }
  memref.copy %tmp, %out : memref<4x8xf32> to memref<4x8xf32>
  memref.dealloc %tmp : memref<4x8xf32>
  return
}

// -----

#id2 = affine_map<(i, j) -> (i, j)>

// The destination is read while the temporary is alive (writing it early
// would change what that read sees), and a temporary is used again after
// its copy: both copies stay.
// CHECK-LABEL: func.func @kept
// CHECK: linalg.copy ins(%[[T0:.*]] : memref<4x8xf32>) outs(%arg1
// CHECK: linalg.copy ins(%[[T1:.*]] : memref<4x8xf32>) outs(%arg2
// CHECK: linalg.generic {{.*}} ins(%[[T1]]
func.func @kept(%x: memref<4x8xf32>, %out: memref<4x8xf32>, %out2: memref<4x8xf32>, %sink: memref<4x8xf32>) {
  %t0 = memref.alloc() : memref<4x8xf32>
  linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x8xf32>) outs(%t0 : memref<4x8xf32>) {
  ^bb0(%in: f32, %o: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  }
  linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%out : memref<4x8xf32>) outs(%sink : memref<4x8xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }
  linalg.copy ins(%t0 : memref<4x8xf32>) outs(%out : memref<4x8xf32>)
  %t1 = memref.alloc() : memref<4x8xf32>
  linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x8xf32>) outs(%t1 : memref<4x8xf32>) {
  ^bb0(%in: f32, %o: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  }
  linalg.copy ins(%t1 : memref<4x8xf32>) outs(%out2 : memref<4x8xf32>)
  linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%t1 : memref<4x8xf32>) outs(%sink : memref<4x8xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }
  memref.dealloc %t0 : memref<4x8xf32>
  memref.dealloc %t1 : memref<4x8xf32>
  return
}

// -----

#proj_x = affine_map<(b, t, n, k) -> (b, t, k)>
#proj_w = affine_map<(b, t, n, k) -> (n, k)>
#proj_o = affine_map<(b, t, n, k) -> (b, t, n)>

// The logits computed in a kernel choice (lm-select-gpu-kernels: the LM
// head streamed with the final norm at decode, the generic projection
// otherwise), both branches writing the temporary, then copied to the
// output: both branches write the output.
// CHECK-LABEL: func.func @kernel_choice
// CHECK-SAME: (%[[X:[^:]*]]: memref<?x?x16xf32>, %[[NW:[^:]*]]: memref<16xf32>, %[[W:[^:]*]]: memref<8x16xf32>, %[[FEW:[^:]*]]: i1, %[[OUT:[^:]*]]: memref<?x?x8xf32>)
// CHECK-NOT: memref.alloc
// CHECK: scf.if %[[FEW]] {
// CHECK:   lm.streamed_linear %[[X]], %[[W]] norm(%[[NW]]) outs(%[[OUT]])
// CHECK: } else {
// CHECK:   linalg.fill {{.*}} outs(%[[OUT]]
// CHECK:   linalg.generic {{.*}} outs(%[[OUT]]
// CHECK: }
// CHECK-NOT: memref.copy
// CHECK-NOT: memref.dealloc
// CHECK: return
func.func @kernel_choice(%x: memref<?x?x16xf32>, %nw: memref<16xf32>, %w: memref<8x16xf32>,
                         %few: i1, %out: memref<?x?x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %b = memref.dim %x, %c0 : memref<?x?x16xf32>
  %t = memref.dim %x, %c1 : memref<?x?x16xf32>
  %logits = memref.alloc(%b, %t) : memref<?x?x8xf32>
  scf.if %few {
    lm.streamed_linear %x, %w norm(%nw) outs(%logits)
        {epsilon = 1.0e-06 : f64, row_group = 4 : i64, warps = 8 : i64}
        : (memref<?x?x16xf32>, memref<8x16xf32>, memref<16xf32>, memref<?x?x8xf32>) -> ()
  } else {
    linalg.fill ins(%zero : f32) outs(%logits : memref<?x?x8xf32>)
    linalg.generic {indexing_maps = [#proj_x, #proj_w, #proj_o],
                    iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
        ins(%x, %w : memref<?x?x16xf32>, memref<8x16xf32>) outs(%logits : memref<?x?x8xf32>) {
    ^bb0(%in: f32, %wv: f32, %acc: f32):
      %p = arith.mulf %in, %wv : f32
      %s = arith.addf %acc, %p : f32
      linalg.yield %s : f32
    }
  }
  memref.copy %logits, %out : memref<?x?x8xf32> to memref<?x?x8xf32>
  memref.dealloc %logits : memref<?x?x8xf32>
  return
}
