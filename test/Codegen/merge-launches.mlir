// RUN: lmc-opt %s --split-input-file --lm-merge-launches | FileCheck %s

// Three independent kernels of 256-thread blocks (a layer's q, k and v
// projections): one launch over the sum of their grids; the first blocks
// run the first body, the next the second with the block index shifted.
// CHECK-LABEL: func.func @independent
// CHECK-SAME: (%[[X:.*]]: memref<?xf32>, %[[N:.*]]: index, %[[M:.*]]: index
// CHECK: %[[NM:.*]] = arith.addi %[[N]], %[[M]]
// CHECK: %[[ALL:.*]] = arith.addi %[[NM]], %[[N]]
// CHECK: gpu.launch blocks(%[[B:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[ALL]], %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads({{.*}}) in (%{{.*}} = %c256
// CHECK:   %[[IN_QK:.*]] = arith.cmpi ult, %[[B]], %[[NM]]
// CHECK:   scf.if %[[IN_QK]] {
// CHECK:     %[[IN_Q:.*]] = arith.cmpi ult, %[[B]], %[[N]]
// CHECK:     scf.if %[[IN_Q]] {
// CHECK:       memref.store %{{.*}}, %arg3[%[[B]]]
// CHECK:     } else {
// CHECK:       %[[BK:.*]] = arith.subi %[[B]], %[[N]]
// CHECK:       memref.store %{{.*}}, %arg4[%[[BK]]]
// CHECK:   } else {
// CHECK:     %[[BV:.*]] = arith.subi %[[B]], %[[NM]]
// CHECK:     memref.store %{{.*}}, %arg5[%[[BV]]]
// CHECK: gpu.terminator
// CHECK-NOT: gpu.launch
func.func @independent(%x: memref<?xf32>, %n: index, %m: index,
                       %q: memref<?xf32>, %k: memref<?xf32>, %v: memref<?xf32>) {
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %n, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %e = memref.load %x[%tx] : memref<?xf32>
    memref.store %e, %q[%bx] : memref<?xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %m, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %e = memref.load %x[%tx] : memref<?xf32>
    memref.store %e, %k[%bx] : memref<?xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %n, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %e = memref.load %x[%tx] : memref<?xf32>
    memref.store %e, %v[%bx] : memref<?xf32>
    gpu.terminator
  }
  return
}

// -----

// q statistics, q normalisation (reads them), k statistics, k
// normalisation: k's statistics move up past q's normalisation to join
// q's statistics, then the two normalisations join. The view k's
// statistics write moves up with them.
// CHECK-LABEL: func.func @earliest
// CHECK: %[[KS:.*]] = memref.view %arg1[%c64]
// CHECK: gpu.launch
// CHECK:   memref.store %{{.*}}, %[[QS:.*]][
// CHECK:   memref.store %{{.*}}, %[[KS]][
// CHECK: gpu.launch
// CHECK:   memref.load %[[QS]]
// CHECK:   memref.load %[[KS]]
// CHECK-NOT: gpu.launch
func.func @earliest(%x: memref<16xf32>, %arena: memref<?xi8>, %qo: memref<16xf32>, %ko: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c256 = arith.constant 256 : index
  %qs = memref.view %arena[%c0][] : memref<?xi8> to memref<16xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %e = memref.load %x[%tx] : memref<16xf32>
    memref.store %e, %qs[%tx] : memref<16xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %e = memref.load %qs[%tx] : memref<16xf32>
    memref.store %e, %qo[%tx] : memref<16xf32>
    gpu.terminator
  }
  %ks = memref.view %arena[%c64][] : memref<?xi8> to memref<16xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %e = memref.load %x[%tx] : memref<16xf32>
    memref.store %e, %ks[%tx] : memref<16xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %e = memref.load %ks[%tx] : memref<16xf32>
    memref.store %e, %ko[%tx] : memref<16xf32>
    gpu.terminator
  }
  return
}

// -----

// Kept apart: a kernel reading what the one before wrote; one writing the
// arena slot (same offset) another reads; different block sizes; a host
// copy in between.
// CHECK-LABEL: func.func @kept
// CHECK-COUNT-5: gpu.launch
// CHECK-NOT: gpu.launch
func.func @kept(%x: memref<16xf32>, %arena: memref<?xi8>, %y: memref<16xf32>, %z: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c256 = arith.constant 256 : index
  %a = memref.view %arena[%c0][] : memref<?xi8> to memref<16xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %e = memref.load %x[%tx] : memref<16xf32>
    memref.store %e, %a[%tx] : memref<16xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %e = memref.load %a[%tx] : memref<16xf32>
    memref.store %e, %y[%tx] : memref<16xf32>
    gpu.terminator
  }
  %b = memref.view %arena[%c0][] : memref<?xi8> to memref<16xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %e = memref.load %x[%tx] : memref<16xf32>
    memref.store %e, %b[%tx] : memref<16xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c128, %sy = %c1, %sz = %c1) {
    %e = memref.load %x[%tx] : memref<16xf32>
    memref.store %e, %z[%tx] : memref<16xf32>
    gpu.terminator
  }
  gpu.memcpy %y, %x : memref<16xf32>, memref<16xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c128, %sy = %c1, %sz = %c1) {
    %e = memref.load %x[%tx] : memref<16xf32>
    memref.store %e, %z[%tx] : memref<16xf32>
    gpu.terminator
  }
  return
}

// -----

// Two projections' kernel choices on one row count, an arena view for the
// second's output between them (f32 decode's q and k projections): the view
// moves up, the choices become one branch, and the two streaming kernels in
// it one launch; their prompt kernels in the other branch likewise. A
// choice on another condition stays apart.
// CHECK-LABEL: func.func @joined_choices
// CHECK-SAME:    %[[FEW:[^:]*]]: i1, %[[OTHER:[^:]*]]: i1)
// CHECK:       memref.view %{{.*}}[%c0][]
// CHECK-NEXT:  memref.view %{{.*}}[%c64][]
// CHECK-NEXT:  scf.if %[[FEW]] {
// CHECK:         gpu.launch
// CHECK-NOT:     gpu.launch
// CHECK:       } else {
// CHECK:         gpu.launch
// CHECK-NOT:     gpu.launch
// CHECK:       scf.if %[[OTHER]] {
// CHECK:         gpu.launch
// CHECK-NOT:     gpu.launch
// CHECK:       return
func.func @joined_choices(%x: memref<16xf32>, %arena: memref<?xi8>, %few: i1, %other: i1) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c256 = arith.constant 256 : index
  %a = memref.view %arena[%c0][] : memref<?xi8> to memref<16xf32>
  scf.if %few {
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
      %e = memref.load %x[%tx] : memref<16xf32>
      memref.store %e, %a[%tx] : memref<16xf32>
      gpu.terminator
    }
  } else {
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
      %e = memref.load %x[%bx] : memref<16xf32>
      memref.store %e, %a[%bx] : memref<16xf32>
      gpu.terminator
    }
  }
  %b = memref.view %arena[%c64][] : memref<?xi8> to memref<16xf32>
  scf.if %few {
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
      %e = memref.load %x[%tx] : memref<16xf32>
      memref.store %e, %b[%tx] : memref<16xf32>
      gpu.terminator
    }
  } else {
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
      %e = memref.load %x[%bx] : memref<16xf32>
      memref.store %e, %b[%bx] : memref<16xf32>
      gpu.terminator
    }
  }
  scf.if %other {
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
      %e = memref.load %x[%tx] : memref<16xf32>
      memref.store %e, %a[%tx] : memref<16xf32>
      gpu.terminator
    }
  }
  return
}

// -----

// Launches with shared memory merge too: a block runs one body, so bodies
// share a buffer of one type (the q, k and v projections' normalised rows:
// here the first two), and a buffer of another type is added.
// CHECK-LABEL: func.func @shared_memory
// CHECK:       gpu.launch {{.*}} workgroup(%[[ROWS:.*]] : memref<256xf32, #gpu.address_space<workgroup>>, %[[OTHER:.*]] : memref<64xi32, #gpu.address_space<workgroup>>) {
// CHECK:         memref.store {{.*}}, %[[ROWS]][
// CHECK:         memref.store {{.*}}, %[[ROWS]][
// CHECK:         memref.store {{.*}}, %[[OTHER]][
// CHECK-NOT: gpu.launch
func.func @shared_memory(%x: memref<16xf32>, %y: memref<16xf32>, %z: memref<16xf32>,
                         %i: memref<16xi32>, %v: memref<16xi32>) {
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1)
             workgroup(%s : memref<256xf32, #gpu.address_space<workgroup>>) {
    %e = memref.load %x[%tx] : memref<16xf32>
    memref.store %e, %s[%tx] : memref<256xf32, #gpu.address_space<workgroup>>
    gpu.barrier
    %f = memref.load %s[%tx] : memref<256xf32, #gpu.address_space<workgroup>>
    memref.store %f, %y[%tx] : memref<16xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1)
             workgroup(%s : memref<256xf32, #gpu.address_space<workgroup>>) {
    %e = memref.load %x[%tx] : memref<16xf32>
    memref.store %e, %s[%tx] : memref<256xf32, #gpu.address_space<workgroup>>
    gpu.barrier
    %f = memref.load %s[%tx] : memref<256xf32, #gpu.address_space<workgroup>>
    memref.store %f, %z[%tx] : memref<16xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1)
             workgroup(%s : memref<64xi32, #gpu.address_space<workgroup>>) {
    %e = memref.load %i[%tx] : memref<16xi32>
    memref.store %e, %s[%tx] : memref<64xi32, #gpu.address_space<workgroup>>
    gpu.barrier
    %f = memref.load %s[%tx] : memref<64xi32, #gpu.address_space<workgroup>>
    memref.store %f, %v[%tx] : memref<16xi32>
    gpu.terminator
  }
  return
}

// -----

// Unless the merged launch's buffers would exceed the 48 KB a block may
// declare statically (32 KB each, of different types).
// CHECK-LABEL: func.func @shared_memory_limit
// CHECK-COUNT-2: gpu.launch
// CHECK-NOT: gpu.launch
func.func @shared_memory_limit(%x: memref<16xf32>, %y: memref<16xf32>, %z: memref<16xi32>) {
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1)
             workgroup(%s : memref<8192xf32, #gpu.address_space<workgroup>>) {
    %e = memref.load %x[%tx] : memref<16xf32>
    memref.store %e, %s[%tx] : memref<8192xf32, #gpu.address_space<workgroup>>
    gpu.barrier
    %f = memref.load %s[%tx] : memref<8192xf32, #gpu.address_space<workgroup>>
    memref.store %f, %y[%tx] : memref<16xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1)
             workgroup(%s : memref<8192xi32, #gpu.address_space<workgroup>>) {
    %e = arith.constant 1 : i32
    memref.store %e, %s[%tx] : memref<8192xi32, #gpu.address_space<workgroup>>
    gpu.barrier
    %f = memref.load %s[%tx] : memref<8192xi32, #gpu.address_space<workgroup>>
    memref.store %f, %z[%tx] : memref<16xi32>
    gpu.terminator
  }
  return
}

// -----

// Two wgmma tiles of one input (q and k of a prompt): the same block and
// dynamic shared memory, the tensor maps made on the host between them
// (they move up with the second), each reading x through its map: one
// launch with the same dynamic shared memory, the name kept.
// CHECK-LABEL: func.func @tensor_maps
// CHECK:     %[[XMAP:.*]] = nvgpu.tma.create.descriptor
// CHECK:     %[[QMAP:.*]] = nvgpu.tma.create.descriptor
// CHECK:     %[[KMAP:.*]] = nvgpu.tma.create.descriptor
// CHECK:     gpu.launch {{.*}} threads({{.*}}) in ({{.*}} = %c384, {{.*}}) dynamic_shared_memory_size %c1024_i32 function(@wgmma_tile)
// CHECK:       nvgpu.tma.async.load %[[QMAP]]
// CHECK:       nvgpu.tma.async.load %[[KMAP]]
// CHECK-NOT: gpu.launch
!map = !nvgpu.tensormap.descriptor<tensor = memref<128x64xbf16, #gpu.address_space<workgroup>>, swizzle = swizzle_128b, l2promo = none, oob = zero, interleave = none>
!barriers = !nvgpu.mbarrier.group<memorySpace = #gpu.address_space<workgroup>>
func.func @tensor_maps(%x: memref<*xbf16>, %wq: memref<*xbf16>, %wk: memref<*xbf16>,
                       %n: index, %q: memref<?xf32>, %k: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  %c384 = arith.constant 384 : index
  %smem = arith.constant 1024 : i32
  %xmap = nvgpu.tma.create.descriptor %x box[%c128, %c64] : memref<*xbf16> -> !map
  %qmap = nvgpu.tma.create.descriptor %wq box[%c128, %c64] : memref<*xbf16> -> !map
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %n, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c384, %sy = %c1, %sz = %c1)
             dynamic_shared_memory_size %smem {
    %shared = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    %tile = memref.view %shared[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<128x64xbf16, #gpu.address_space<workgroup>>
    %b = nvgpu.mbarrier.create -> !barriers
    nvgpu.tma.async.load %qmap[%c0, %c0], %b[%c0] to %tile : !map, !barriers -> memref<128x64xbf16, #gpu.address_space<workgroup>>
    nvgpu.tma.async.load %xmap[%c0, %bx], %b[%c0] to %tile : !map, !barriers -> memref<128x64xbf16, #gpu.address_space<workgroup>>
    %e = memref.load %tile[%tx, %c0] : memref<128x64xbf16, #gpu.address_space<workgroup>>
    %f = arith.extf %e : bf16 to f32
    memref.store %f, %q[%bx] : memref<?xf32>
    gpu.terminator
  } {function = @wgmma_tile}
  %kmap = nvgpu.tma.create.descriptor %wk box[%c128, %c64] : memref<*xbf16> -> !map
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %n, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c384, %sy = %c1, %sz = %c1)
             dynamic_shared_memory_size %smem {
    %shared = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    %tile = memref.view %shared[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<128x64xbf16, #gpu.address_space<workgroup>>
    %b = nvgpu.mbarrier.create -> !barriers
    nvgpu.tma.async.load %kmap[%c0, %c0], %b[%c0] to %tile : !map, !barriers -> memref<128x64xbf16, #gpu.address_space<workgroup>>
    nvgpu.tma.async.load %xmap[%c0, %bx], %b[%c0] to %tile : !map, !barriers -> memref<128x64xbf16, #gpu.address_space<workgroup>>
    %e = memref.load %tile[%tx, %c0] : memref<128x64xbf16, #gpu.address_space<workgroup>>
    %f = arith.extf %e : bf16 to f32
    memref.store %f, %k[%bx] : memref<?xf32>
    gpu.terminator
  } {function = @wgmma_tile}
  return
}

// -----

// Kept apart: a kernel writing the buffer a later tile reads through its
// tensor map (the read is the copy's), and tiles of different dynamic
// shared memory.
// CHECK-LABEL: func.func @tensor_map_reads
// CHECK-COUNT-3: gpu.launch
!map = !nvgpu.tensormap.descriptor<tensor = memref<128x64xbf16, #gpu.address_space<workgroup>>, swizzle = swizzle_128b, l2promo = none, oob = zero, interleave = none>
!barriers = !nvgpu.mbarrier.group<memorySpace = #gpu.address_space<workgroup>>
func.func @tensor_map_reads(%x: memref<?xbf16>, %n: index, %q: memref<?xf32>, %k: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  %c384 = arith.constant 384 : index
  %zero = arith.constant 0.0 : bf16
  %smem = arith.constant 1024 : i32
  %more = arith.constant 2048 : i32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %n, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c384, %sy = %c1, %sz = %c1)
             dynamic_shared_memory_size %smem {
    memref.store %zero, %x[%bx] : memref<?xbf16>
    gpu.terminator
  }
  %u = memref.cast %x : memref<?xbf16> to memref<*xbf16>
  %xmap = nvgpu.tma.create.descriptor %u box[%c128, %c64] : memref<*xbf16> -> !map
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %n, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c384, %sy = %c1, %sz = %c1)
             dynamic_shared_memory_size %smem {
    %shared = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    %tile = memref.view %shared[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<128x64xbf16, #gpu.address_space<workgroup>>
    %b = nvgpu.mbarrier.create -> !barriers
    nvgpu.tma.async.load %xmap[%c0, %bx], %b[%c0] to %tile : !map, !barriers -> memref<128x64xbf16, #gpu.address_space<workgroup>>
    %e = memref.load %tile[%tx, %c0] : memref<128x64xbf16, #gpu.address_space<workgroup>>
    %f = arith.extf %e : bf16 to f32
    memref.store %f, %q[%bx] : memref<?xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %n, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c384, %sy = %c1, %sz = %c1)
             dynamic_shared_memory_size %more {
    %e = arith.constant 1.0 : f32
    memref.store %e, %k[%bx] : memref<?xf32>
    gpu.terminator
  }
  return
}
