// RUN: lmc-opt %s --lm-map-projections-to-gpu --canonicalize --split-input-file | FileCheck %s

// A bf16 projection (as lm.linear lowers with --dtype bf16), K = 64, chosen
// on the host by its row count. Fewer than 16 rows: weight streaming, a
// warp per output column (N = 96: 12 blocks of 8 warps), rows in groups of
// four (a loop over ceil(rows / 4) groups), each lane loading 16 bytes of
// its weight row (K = 64 is a quarter of a warp's 256-element step: lanes
// past K load the row's start and count it as zero) and applying them to
// each row of the group (the first always, the others behind `row < rows`),
// the partials summed by five xor shuffles and stored by lane 0 from the
// fill's value. 16 rows or more: a launch of 128-thread blocks (2 x 2
// warps, 32 x 64 tiles: 2 column tiles for N = 96) whose warps load 16
// bytes per lane and issue two k16 steps over four n8 blocks per 32-wide
// chunk; the fill's value starts the accumulators. 64 rows or more: the
// wgmma tile, its tensor maps made on the host (x collapsed to [rows, K];
// boxes of 128 x 64, 128-byte swizzle, zeros out of bounds), blocks of
// three warpgroups (ceil(rows / 128) row tiles x 1 column tile), 129 KB of
// dynamic shared memory (four 32 KB stages, aligned to 1 KB at run time);
// barriers initialised by thread 0; the producer's thread fences the maps
// the host wrote and prefetches them; its one K step (K = 64)
// announces 32 KB and issues both copies at (k, row) and (k, column); the
// consumers wait, issue four m64n128k16 (K-major A and B: row / col),
// wait for them (the one stage is never needed again: not given back) and
// store their 64 accumulators behind row and column checks, as 32 pairs of
// neighbouring columns (8-byte stores: the output's rows are contiguous, N
// even).
// The fill and the generic go.

// CHECK-LABEL: func.func @projection
// CHECK: %[[ROWS:.*]] = arith.muli
// CHECK: %[[FEW:.*]] = arith.cmpi ult, %[[ROWS]], %c16
// CHECK: %[[MANY:.*]] = arith.cmpi uge, %[[ROWS]], %c64
// CHECK: scf.if %[[FEW]] {
// CHECK:   gpu.launch blocks({{.*}}) in ({{.*}} = %c12, {{.*}}) threads({{.*}}) in ({{.*}} = %c256,
// CHECK:     %[[GROUPS:.*]] = arith.ceildivui %[[ROWS]], %c4
// CHECK:     scf.for %{{.*}} = %c0 to %[[GROUPS]] step %c1 {
// CHECK:       %[[INSIDE:.*]] = arith.cmpi ult, %[[K:.*]], %c64
// CHECK:       %[[KC:.*]] = arith.select %[[INSIDE]], %[[K]], %c0
// CHECK:       vector.load %arg1[%{{.*}}, %[[KC]]] {alignment = 16 : i64} : memref<96x64xbf16>, vector<8xbf16>
// CHECK:       vector.load %arg0{{.*}} {alignment = 16 : i64} : memref<?x?x64xbf16>, vector<8xbf16>
// CHECK-COUNT-3: scf.if {{.*}} -> (f32) {
// CHECK:       gpu.shuffle xor %{{.*}}, %c16_i32, %c32_i32
// CHECK:       gpu.shuffle xor %{{.*}}, %c1_i32, %c32_i32
// CHECK:       %[[SUM:.*]] = arith.addf %{{.*}}, %cst
// CHECK:       memref.store %[[SUM]]
// CHECK-COUNT-3: gpu.shuffle xor %{{.*}}, %c16_i32, %c32_i32
// CHECK: gpu.terminator
// CHECK-NEXT: }
// CHECK-NEXT: } else {
// CHECK:   scf.if %[[MANY]] {
// CHECK:     %[[X2:.*]] = memref.collapse_shape %arg0 {{\[\[}}0, 1], [2]] : memref<?x?x64xbf16> into memref<?x64xbf16>
// CHECK:     %[[XU:.*]] = memref.cast %[[X2]] : memref<?x64xbf16> to memref<*xbf16>
// CHECK:     %[[XMAP:.*]] = nvgpu.tma.create.descriptor %[[XU]] box[%c128, %c64] : memref<*xbf16> -> <tensor = memref<128x64xbf16, #gpu.address_space<workgroup>>, swizzle = swizzle_128b, l2promo = none, oob = zero, interleave = none>
// CHECK:     %[[WU:.*]] = memref.cast %arg1 : memref<96x64xbf16> to memref<*xbf16>
// CHECK:     %[[WMAP:.*]] = nvgpu.tma.create.descriptor %[[WU]] box[%c128, %c64]
// CHECK:     %[[ROWTILES:.*]] = arith.ceildivui %[[ROWS]], %c128
// CHECK:     gpu.launch blocks({{.*}}) in ({{.*}} = %[[ROWTILES]], {{.*}}) threads({{.*}}) in ({{.*}} = %c384, {{.*}}) dynamic_shared_memory_size %c132096_i32 function(@wgmma_tile) {
// CHECK:       gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// CHECK:       %[[BARRIERS:.*]] = nvgpu.mbarrier.create -> <memorySpace = #gpu.address_space<workgroup>, num_barriers = 8>
// CHECK:       nvgpu.mbarrier.init %[[BARRIERS]][%c0], %c1 :
// CHECK-NEXT:  nvgpu.mbarrier.init %[[BARRIERS]][%c4], %c256 :
// CHECK:       nvgpu.mbarrier.init %[[BARRIERS]][%c1], %c1 :
// CHECK-NEXT:  nvgpu.mbarrier.init %[[BARRIERS]][%c5], %c256 :
// CHECK:       nvgpu.mbarrier.init %[[BARRIERS]][%c2], %c1 :
// CHECK-NEXT:  nvgpu.mbarrier.init %[[BARRIERS]][%c6], %c256 :
// CHECK:       nvgpu.mbarrier.init %[[BARRIERS]][%c3], %c1 :
// CHECK-NEXT:  nvgpu.mbarrier.init %[[BARRIERS]][%c7], %c256 :
// CHECK:       nvvm.fence.mbarrier.init
// CHECK-NEXT:  gpu.barrier
// CHECK:       nvgpu.tma.fence.descriptor %[[XMAP]]
// CHECK:       nvgpu.tma.prefetch.descriptor %[[XMAP]]
// CHECK:       nvgpu.tma.fence.descriptor %[[WMAP]]
// CHECK:       nvgpu.tma.prefetch.descriptor %[[WMAP]]
// CHECK:       nvgpu.mbarrier.arrive.expect_tx %[[BARRIERS]][%c0], %c32768
// CHECK:       nvgpu.tma.async.load %[[XMAP]][%c0, %{{.*}}], %[[BARRIERS]][%c0] to %{{.*}} -> memref<128x64xbf16, #gpu.address_space<workgroup>>
// CHECK:       nvgpu.tma.async.load %[[WMAP]][%c0, %c0], %[[BARRIERS]][%c0]
// CHECK:     } else {
// CHECK:       nvgpu.mbarrier.try_wait.parity %[[BARRIERS]][%c0], %false
// CHECK:       nvvm.wgmma.fence.aligned
// CHECK-COUNT-4: nvvm.wgmma.mma_async {{.*}}, <m = 64, n = 128, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK-NEXT:  nvvm.wgmma.commit.group.sync.aligned
// CHECK-NOT:   nvgpu.mbarrier.arrive
// CHECK:       nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NOT:   nvgpu.mbarrier.arrive
// CHECK-COUNT-32: vector.store {{.*}} {alignment = 8 : i64} : memref<?x?x96xf32>, vector<2xf32>
// CHECK:   } else {
// CHECK:   %[[TILES:.*]] = arith.ceildivui %[[ROWS]], %c32
// CHECK:   %[[BLOCKS:.*]] = arith.muli %[[TILES]], %c2
// CHECK:   gpu.launch blocks({{.*}}) in ({{.*}} = %[[BLOCKS]], {{.*}}) threads({{.*}}) in ({{.*}} = %c128,
// CHECK:     scf.for {{.*}} = %c0 to %c64 step %c32 iter_args(
// CHECK-COUNT-2: vector.load %arg0{{.*}} {alignment = 16 : i64} : memref<?x?x64xbf16>, vector<8xbf16>
// CHECK-COUNT-4: vector.load %arg1{{.*}} {alignment = 16 : i64} : memref<96x64xbf16>, vector<8xbf16>
// CHECK-COUNT-8: nvvm.mma.sync {{.*}} {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>}
// CHECK:     scf.yield
// CHECK-COUNT-16: memref.store
// CHECK-NOT: linalg.fill
// CHECK-NOT: linalg.generic
// CHECK: memref.copy
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

// K = 40 is not a multiple of the tile's 32-wide chunk: its lanes load
// element by element, clamped inside the row and zeroed past it. Weight
// streaming still loads 16 bytes (K is a multiple of 8), as do the wgmma
// tile's copies (the second half of the one 64-wide box is zeros). Without
// a fill every kernel adds to what the output holds (a residual folded in).
// CHECK-LABEL: func.func @ragged_k
// CHECK: arith.cmpi ult, %{{.*}}, %c16
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c3, {{.*}}) threads({{.*}}) in ({{.*}} = %c256,
// CHECK: vector.load %arg1{{.*}} : memref<24x40xbf16>, vector<8xbf16>
// CHECK: %[[OLD:.*]] = memref.load %arg2
// CHECK: arith.addf %[[OLD]]
// CHECK: gpu.terminator
// CHECK-NEXT: }
// CHECK-NEXT: } else {
// CHECK: scf.if
// CHECK: gpu.launch {{.*}} function(@wgmma_tile)
// CHECK: %[[OUT:.*]] = vector.load %arg2{{.*}} {alignment = 8 : i64} : memref<?x24xf32>, vector<2xf32>
// CHECK: arith.addf %[[OUT]]
// CHECK: } else {
// CHECK: gpu.launch
// CHECK-NOT: vector.load
// CHECK: memref.load %arg2
// CHECK: scf.for {{.*}} = %c0 to %c40 step %c32
// CHECK: memref.load %arg0
// CHECK: arith.select
// CHECK: vector.from_elements {{.*}} : vector<8xbf16>
// CHECK: nvvm.mma.sync
// CHECK-NOT: linalg.generic
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

// K = 320: five K steps through the ring of four stages, N = 256 two column
// tiles. The producer's loop waits for a stage's `empty` barrier from the
// fifth step on (step 4 reuses stage 0: parity of round 0). The consumers
// issue the first step before their loop (no branch in it: ptxas would
// serialise the wgmmas); each later step waits for its stage, issues, keeps
// its instructions in flight while waiting for the previous step's
// (wait.group 1) and gives that step's stage back (barrier 4 + (s + 3) % 4);
// all are waited for before the stores.
// CHECK-LABEL: func.func @k_steps
// CHECK:     %[[ROWTILES:.*]] = arith.ceildivui %{{.*}}, %c128
// CHECK:     %[[BLOCKS:.*]] = arith.muli %[[ROWTILES]], %c2
// CHECK:     gpu.launch blocks({{.*}}) in ({{.*}} = %[[BLOCKS]], {{.*}}) {{.*}} function(@wgmma_tile)
// CHECK:       scf.for %[[P:.*]] = %c0 to %c5 step %c1 {
// CHECK:         %[[PSTAGE:.*]] = arith.remui %[[P]], %c4
// CHECK:         %[[REUSED:.*]] = arith.cmpi uge, %[[P]], %c4
// CHECK:         scf.if %[[REUSED]] {
// CHECK:           %[[EMPTY:.*]] = arith.addi %[[PSTAGE]], %c4
// CHECK:           nvgpu.mbarrier.try_wait.parity %{{.*}}[%[[EMPTY]]]
// CHECK:         nvgpu.mbarrier.arrive.expect_tx %{{.*}}[%[[PSTAGE]]], %c32768
// CHECK-COUNT-2: nvgpu.tma.async.load
// CHECK:       } else {
// CHECK:         nvgpu.mbarrier.try_wait.parity %{{.*}}[%c0], %false
// CHECK-COUNT-4: nvvm.wgmma.mma_async
// CHECK:         nvvm.wgmma.commit.group.sync.aligned
// CHECK:         scf.for %[[S:.*]] = %c1 to %c5 step %c1 iter_args(
// CHECK:           %[[STAGE:.*]] = arith.remui %[[S]], %c4
// CHECK:           nvgpu.mbarrier.try_wait.parity %{{.*}}[%[[STAGE]]]
// CHECK-COUNT-4:   nvvm.wgmma.mma_async
// CHECK:           nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT:      nvvm.wgmma.wait.group.sync.aligned 1
// CHECK-NEXT:      %[[NEXT:.*]] = arith.addi %[[S]], %c3
// CHECK-NEXT:      %[[PREVIOUS:.*]] = arith.remui %[[NEXT]], %c4
// CHECK-NEXT:      %[[RELEASED:.*]] = arith.addi %[[PREVIOUS]], %c4
// CHECK-NEXT:      nvgpu.mbarrier.arrive %{{.*}}[%[[RELEASED]]]
// CHECK:         nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-COUNT-32: vector.store
#x = affine_map<(r, n, k) -> (r, k)>
#w = affine_map<(r, n, k) -> (n, k)>
#o = affine_map<(r, n, k) -> (r, n)>
func.func @k_steps(%x: memref<?x320xbf16>, %w: memref<256x320xbf16>, %out: memref<?x256xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x320xbf16>, memref<256x320xbf16>) outs(%out : memref<?x256xf32>) {
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

// An odd N: a pair of columns may straddle two rows, so each accumulator is
// its own 4-byte store.
// CHECK-LABEL: func.func @odd_columns
// CHECK: function(@wgmma_tile)
// CHECK-NOT: vector.store
// CHECK-COUNT-64: memref.store {{.*}} : memref<?x33xf32>
// CHECK-NOT: vector.store
// CHECK: function(@mma_sync_tile)
#x = affine_map<(r, n, k) -> (r, k)>
#w = affine_map<(r, n, k) -> (n, k)>
#o = affine_map<(r, n, k) -> (r, n)>
func.func @odd_columns(%x: memref<?x64xbf16>, %w: memref<33x64xbf16>, %out: memref<?x33xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x64xbf16>, memref<33x64xbf16>) outs(%out : memref<?x33xf32>) {
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

// The wgmma tile needs what a tensor map can describe: an activation view
// with a row stride of its own (here a column slice of a wider buffer) and
// K = 36 (72-byte rows: not a multiple of 16 bytes) keep the mma.sync tile
// alone from 16 rows.
// CHECK-LABEL: func.func @no_tensor_map
// CHECK-NOT: nvgpu
// CHECK-NOT: arith.cmpi uge
// CHECK: function(@mma_sync_tile)
// CHECK-NOT: nvgpu
// CHECK: function(@mma_sync_tile
// CHECK-NOT: nvgpu
#x = affine_map<(n, r, k) -> (r, k)>
#w = affine_map<(n, r, k) -> (n, k)>
#o = affine_map<(n, r, k) -> (r, n)>
func.func @no_tensor_map(%wide: memref<?x128xbf16>, %w: memref<24x64xbf16>,
                         %x36: memref<?x36xbf16>, %w36: memref<24x36xbf16>,
                         %out: memref<?x24xf32>) {
  %c0 = arith.constant 0 : index
  %rows = memref.dim %wide, %c0 : memref<?x128xbf16>
  %x = memref.subview %wide[0, 0] [%rows, 64] [1, 1] : memref<?x128xbf16> to memref<?x64xbf16, strided<[128, 1]>>
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x64xbf16, strided<[128, 1]>>, memref<24x64xbf16>) outs(%out : memref<?x24xf32>) {
  ^bb0(%a: bf16, %v: bf16, %s: f32):
    %ae = arith.extf %a : bf16 to f32
    %ve = arith.extf %v : bf16 to f32
    %p = arith.mulf %ae, %ve : f32
    %r = arith.addf %s, %p : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x36, %w36 : memref<?x36xbf16>, memref<24x36xbf16>) outs(%out : memref<?x24xf32>) {
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

// f32 operands (the exact mode): weight streaming with 16-byte loads of
// four f32 (K = 1024: 8 warp steps of 128, 4 in flight per lane, 2
// iterations, no masking) below 16 rows; from 16 rows the fill and the
// generic stay, for the reduction mapping (no tensor cores).
// CHECK-LABEL: func.func @f32_projection
// CHECK: %[[FEW:.*]] = arith.cmpi ult, %{{.*}}, %c16
// CHECK: scf.if %[[FEW]] {
// CHECK:   gpu.launch blocks({{.*}}) in ({{.*}} = %c4, {{.*}}) threads({{.*}}) in ({{.*}} = %c256,
// CHECK:     scf.for
// CHECK:     scf.for {{.*}} = %c0 to %c2 step %c1 iter_args(
// CHECK-NOT:   arith.cmpi ult, %{{.*}}, %c1024
// CHECK-COUNT-4: vector.load %arg1{{.*}} {alignment = 16 : i64} : memref<32x1024xf32>, vector<4xf32>
// CHECK:       vector.load %arg0{{.*}} {alignment = 16 : i64} : memref<?x1024xf32>, vector<4xf32>
// CHECK: gpu.terminator
// CHECK-NEXT: }
// CHECK-NEXT: } else {
// CHECK-NEXT: linalg.fill
// CHECK-NEXT: linalg.generic
#x = affine_map<(r, n, k) -> (r, k)>
#w = affine_map<(r, n, k) -> (n, k)>
#o = affine_map<(r, n, k) -> (r, n)>
func.func @f32_projection(%x: memref<?x1024xf32>, %w: memref<32x1024xf32>, %out: memref<?x32xf32>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %r = memref.dim %x, %c0 : memref<?x1024xf32>
  %acc = memref.alloc(%r) : memref<?x32xf32>
  linalg.fill ins(%zero : f32) outs(%acc : memref<?x32xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x1024xf32>, memref<32x1024xf32>) outs(%acc : memref<?x32xf32>) {
  ^bb0(%a: f32, %v: f32, %s: f32):
    %p = arith.mulf %a, %v : f32
    %q = arith.addf %s, %p : f32
    linalg.yield %q : f32
  }
  memref.copy %acc, %out : memref<?x32xf32> to memref<?x32xf32>
  return
}

// -----

// f32 with K = 6, not a multiple of four: element by element, zero past K.
// CHECK-LABEL: func.func @f32_odd_k
// CHECK: gpu.launch
// CHECK-NOT: vector.load
// CHECK: memref.load %arg1
// CHECK: arith.select
// CHECK: gpu.terminator
// CHECK-NEXT: }
// CHECK-NEXT: } else {
// CHECK-NEXT: linalg.generic
#x = affine_map<(r, n, k) -> (r, k)>
#w = affine_map<(r, n, k) -> (n, k)>
#o = affine_map<(r, n, k) -> (r, n)>
func.func @f32_odd_k(%x: memref<?x6xf32>, %w: memref<10x6xf32>, %out: memref<?x10xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x6xf32>, memref<10x6xf32>) outs(%out : memref<?x10xf32>) {
  ^bb0(%a: f32, %v: f32, %s: f32):
    %p = arith.mulf %a, %v : f32
    %q = arith.addf %s, %p : f32
    linalg.yield %q : f32
  }
  return
}

// -----

// Not matched: an f32 activation times a bf16 weight (tensor cores would
// round it), a weight read as w[k, n].
// CHECK-LABEL: func.func @not_matched
// CHECK-NOT: gpu.launch
// CHECK-NOT: scf.if
// CHECK-COUNT-2: linalg.generic
#x = affine_map<(n, r, k) -> (r, k)>
#w = affine_map<(n, r, k) -> (n, k)>
#wt = affine_map<(n, r, k) -> (k, n)>
#o = affine_map<(n, r, k) -> (r, n)>
func.func @not_matched(%x: memref<?x64xf32>, %xb: memref<?x64xbf16>,
                       %wb: memref<32x64xbf16>, %wt: memref<64x32xbf16>, %out: memref<?x32xf32>) {
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
