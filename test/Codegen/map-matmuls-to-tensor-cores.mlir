// RUN: lmc-opt %s --lm-map-matmuls-to-tensor-cores --canonicalize --split-input-file | FileCheck %s

// A bf16 projection (as lm.linear lowers with --dtype bf16), K = 64: with 16
// rows or more, a launch of 128-thread blocks (2 x 2 warps, 32 x 64 tiles:
// 2 column tiles for N = 96) whose warps load 16 bytes per lane and issue
// two k16 steps over four n8 blocks per 32-wide chunk; the fill's value
// starts the accumulators. Fewer rows: the fill and the generic, unchanged.
// CHECK-LABEL: func.func @projection
// CHECK: %[[ROWS:.*]] = arith.muli
// CHECK: %[[ENOUGH:.*]] = arith.cmpi uge, %[[ROWS]], %c16
// CHECK: scf.if %[[ENOUGH]] {
// CHECK:   %[[TILES:.*]] = arith.ceildivui %[[ROWS]], %c32
// CHECK:   %[[BLOCKS:.*]] = arith.muli %[[TILES]], %c2
// CHECK:   gpu.launch blocks({{.*}}) in ({{.*}} = %[[BLOCKS]], {{.*}}) threads({{.*}}) in ({{.*}} = %c128,
// CHECK:     scf.for {{.*}} = %c0 to %c64 step %c32 iter_args(%{{.*}} = %cst,
// CHECK-COUNT-2: vector.load %arg0{{.*}} {alignment = 16 : i64} : memref<?x?x64xbf16>, vector<8xbf16>
// CHECK-COUNT-4: vector.load %arg1{{.*}} {alignment = 16 : i64} : memref<96x64xbf16>, vector<8xbf16>
// CHECK-COUNT-8: nvvm.mma.sync {{.*}} {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>}
// CHECK:     scf.yield
// CHECK-COUNT-16: memref.store
// CHECK: } else {
// CHECK-NEXT: linalg.fill
// CHECK-NEXT: linalg.generic
#x = affine_map<(n, b, t, k) -> (b, t, k)>
#w = affine_map<(n, b, t, k) -> (n, k)>
#o = affine_map<(n, b, t, k) -> (b, t, n)>
func.func @projection(%x: memref<?x?x64xbf16>, %w: memref<96x64xbf16>, %out: memref<?x?x96xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %b = memref.dim %x, %c0 : memref<?x?x64xbf16>
  %t = memref.dim %x, %c1 : memref<?x?x64xbf16>
  %acc = memref.alloc(%b, %t) : memref<?x?x96xf32>
  linalg.fill ins(%zero : f32) outs(%acc : memref<?x?x96xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x?x64xbf16>, memref<96x64xbf16>) outs(%acc : memref<?x?x96xf32>) {
  ^bb0(%a: bf16, %v: bf16, %s: f32):
    %ae = arith.extf %a : bf16 to f32
    %ve = arith.extf %v : bf16 to f32
    %p = arith.mulf %ae, %ve : f32
    %r = arith.addf %s, %p : f32
    linalg.yield %r : f32
  }
  memref.copy %acc, %out : memref<?x?x96xf32> to memref<?x?x96xf32>
  return
}

// -----

// K = 40 is not a multiple of the 32-wide chunk: lanes load element by
// element, clamped inside the row and zeroed past it. Without a fill the
// accumulators start from the output.
// CHECK-LABEL: func.func @ragged_k
// CHECK: gpu.launch
// CHECK-NOT: vector.load
// CHECK: memref.load %arg2
// CHECK: scf.for {{.*}} = %c0 to %c40 step %c32
// CHECK: memref.load %arg0
// CHECK: arith.select
// CHECK: vector.from_elements {{.*}} : vector<8xbf16>
// CHECK: nvvm.mma.sync
// CHECK: } else {
// CHECK-NEXT: linalg.generic
#x = affine_map<(n, r, k) -> (r, k)>
#w = affine_map<(n, r, k) -> (n, k)>
#o = affine_map<(n, r, k) -> (r, n)>
func.func @ragged_k(%x: memref<?x40xbf16>, %w: memref<24x40xbf16>, %out: memref<?x24xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x40xbf16>, memref<24x40xbf16>) outs(%out : memref<?x24xf32>) {
  ^bb0(%a: bf16, %v: bf16, %s: f32):
    %ae = arith.extf %a : bf16 to f32
    %ve = arith.extf %v : bf16 to f32
    %p = arith.mulf %ae, %ve : f32
    %r = arith.addf %s, %p : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Not matched: f32 operands (the exact mode), an f32 activation times a
// bf16 weight (tensor cores would round it), a weight read as w[k, n].
// CHECK-LABEL: func.func @not_matched
// CHECK-NOT: gpu.launch
// CHECK-NOT: scf.if
// CHECK-COUNT-3: linalg.generic
#x = affine_map<(n, r, k) -> (r, k)>
#w = affine_map<(n, r, k) -> (n, k)>
#wt = affine_map<(n, r, k) -> (k, n)>
#o = affine_map<(n, r, k) -> (r, n)>
func.func @not_matched(%x: memref<?x64xf32>, %w: memref<32x64xf32>, %xb: memref<?x64xbf16>,
                       %wb: memref<32x64xbf16>, %wt: memref<64x32xbf16>, %out: memref<?x32xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x64xf32>, memref<32x64xf32>) outs(%out : memref<?x32xf32>) {
  ^bb0(%a: f32, %v: f32, %s: f32):
    %p = arith.mulf %a, %v : f32
    %r = arith.addf %s, %p : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %wb : memref<?x64xf32>, memref<32x64xbf16>) outs(%out : memref<?x32xf32>) {
  ^bb0(%a: f32, %v: bf16, %s: f32):
    %ve = arith.extf %v : bf16 to f32
    %p = arith.mulf %a, %ve : f32
    %r = arith.addf %s, %p : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#x, #wt, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%xb, %wt : memref<?x64xbf16>, memref<64x32xbf16>) outs(%out : memref<?x32xf32>) {
  ^bb0(%a: bf16, %v: bf16, %s: f32):
    %ae = arith.extf %a : bf16 to f32
    %ve = arith.extf %v : bf16 to f32
    %p = arith.mulf %ae, %ve : f32
    %r = arith.addf %s, %p : f32
    linalg.yield %r : f32
  }
  return
}
