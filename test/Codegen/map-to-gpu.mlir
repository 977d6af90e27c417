// RUN: lmc-opt %s --split-input-file --lm-map-to-gpu --verify-diagnostics | FileCheck %s

// A parallel loop becomes one launch over its linearised iteration space:
// 256-thread blocks, at least one block, a range check, and the indices
// recovered innermost first. Allocations move to the device.
// CHECK-LABEL: func.func @pointwise
// CHECK: %[[N:.*]] = memref.dim %arg0
// CHECK: %[[OUT:.*]] = gpu.alloc (%[[N]]) : memref<?x8xf32>
// CHECK: %[[TOTAL:.*]] = arith.muli %[[N]], %c8
// CHECK: %[[BLOCKS:.*]] = arith.ceildivui %[[TOTAL]], %c256
// CHECK: %[[GRID:.*]] = arith.maxui %[[BLOCKS]], %c1
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[GRID]], %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c256
// CHECK:   %[[BASE:.*]] = arith.muli %[[BX]]
// CHECK:   %[[I:.*]] = arith.addi %[[BASE]], %[[TX]]
// CHECK:   %[[IN:.*]] = arith.cmpi ult, %[[I]], %[[TOTAL]]
// CHECK:   scf.if %[[IN]] {
// CHECK:     arith.remui %[[I]]
// CHECK:     arith.divui %[[I]]
// CHECK:     memref.load %arg0
// CHECK:     math.exp
// CHECK:     memref.store {{.*}} %[[OUT]]
// CHECK:   gpu.terminator
// CHECK: gpu.dealloc %[[OUT]]
// CHECK-NOT: memref.alloc
func.func @pointwise(%x: memref<?x8xf32>, %y: memref<?x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %n = memref.dim %x, %c0 : memref<?x8xf32>
  %tmp = memref.alloc(%n) : memref<?x8xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%n, %c8) step (%c1, %c1) {
    %v = memref.load %x[%i, %j] : memref<?x8xf32>
    %e = math.exp %v : f32
    memref.store %e, %tmp[%i, %j] : memref<?x8xf32>
    scf.reduce
  }
  memref.copy %tmp, %y : memref<?x8xf32> to memref<?x8xf32>
  memref.dealloc %tmp : memref<?x8xf32>
  return
}

// -----

// The arena of lm-plan-arena is a device allocation; the views of it stay
// on the host (descriptors passed to the kernels).
// CHECK-LABEL: func.func @arena
// CHECK: %[[ARENA:.*]] = gpu.alloc (%{{.*}}) : memref<?xi8>
// CHECK: %[[SLOT:.*]] = memref.view %[[ARENA]]
// CHECK: gpu.launch
// CHECK:   memref.store {{.*}} %[[SLOT]]
// CHECK: gpu.dealloc %[[ARENA]]
func.func @arena(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cst = arith.constant 1.0 : f32
  %bytes = arith.muli %n, %c1 : index
  %arena = memref.alloc(%bytes) {alignment = 256 : i64} : memref<?xi8>
  %slot = memref.view %arena[%c0][%n] : memref<?xi8> to memref<?xf32>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %cst, %slot[%i] : memref<?xf32>
    scf.reduce
  }
  memref.dealloc %arena : memref<?xi8>
  return
}

// -----

// A copy becomes a copy kernel.
// CHECK-LABEL: func.func @copy
// CHECK: gpu.launch
// CHECK:   %[[V:.*]] = memref.load %arg0
// CHECK:   memref.store %[[V]], %arg1
// CHECK-NOT: memref.copy
func.func @copy(%a: memref<4x?xf32>, %b: memref<4x?xf32>) {
  memref.copy %a, %b : memref<4x?xf32> to memref<4x?xf32>
  return
}

// -----

// A scalar of a weight used only by kernels is read again inside them; a
// scalar the host needs (the start position) comes back through a
// one-element device buffer and gpu.memcpy.
// CHECK-LABEL: func.func @host_loads
// CHECK: %[[STAGE:.*]] = gpu.alloc () : memref<1xi64>
// CHECK: gpu.launch
// CHECK:   %[[P:.*]] = memref.load %arg1[%c0{{.*}}, %c0{{.*}}]
// CHECK:   memref.store %[[P]], %[[STAGE]]
// CHECK: %[[HOST:.*]] = memref.alloca() : memref<1xi64>
// CHECK: gpu.memcpy %[[HOST]], %[[STAGE]]
// CHECK: gpu.dealloc %[[STAGE]]
// CHECK: %[[START:.*]] = memref.load %[[HOST]]
// CHECK: arith.index_cast %[[START]]
// CHECK: gpu.launch
// CHECK:   %[[SCALE:.*]] = memref.load %arg0[%c0
// CHECK:   arith.mulf {{.*}}, %[[SCALE]]
func.func @host_loads(%w: memref<3xf32> {lm.weight = "scale"},
                      %pos: memref<?x?xi64>, %x: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %s = memref.load %w[%c0] : memref<3xf32>
  %p = memref.load %pos[%c0, %c0] : memref<?x?xi64>
  %start = arith.index_cast %p : i64 to index
  %n = memref.dim %x, %c0 : memref<?xf32>
  scf.parallel (%i) = (%start) to (%n) step (%c1) {
    %v = memref.load %x[%i] : memref<?xf32>
    %m = arith.mulf %v, %s : f32
    memref.store %m, %x[%i] : memref<?xf32>
    scf.reduce
  }
  return
}

// -----

// A loop nest without parallel loops runs in one thread; host control flow
// around parallel loops stays on the host.
// CHECK-LABEL: func.func @serial_and_control
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[ONE:[a-z0-9_]+]], {{.*}}) threads({{.*}}) in ({{.*}} = %[[ONE]],
// CHECK:   scf.for
// CHECK: scf.if %arg1 {
// CHECK:   gpu.launch
// CHECK: }
func.func @serial_and_control(%x: memref<8xf32>, %flag: i1) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c1 to %c8 step %c1 {
    %prev = memref.load %x[%c0] : memref<8xf32>
    %v = memref.load %x[%i] : memref<8xf32>
    %s = arith.addf %prev, %v : f32
    memref.store %s, %x[%c0] : memref<8xf32>
  }
  scf.if %flag {
    scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
      memref.store %zero, %x[%i] : memref<8xf32>
      scf.reduce
    }
  }
  return
}

// -----

// Kernels reference globals themselves (the host's copy is not theirs).
// CHECK-LABEL: func.func @global
// CHECK: gpu.launch
// CHECK:   memref.get_global @table
memref.global "private" constant @table : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
func.func @global(%x: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %t = memref.get_global @table : memref<4xf32>
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    %v = memref.load %t[%i] : memref<4xf32>
    memref.store %v, %x[%i] : memref<4xf32>
    scf.reduce
  }
  return
}

// -----

func.func @reduction(%x: memref<8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @+1 {{with reductions cannot be mapped to the GPU}}
  %r = scf.parallel (%i) = (%c0) to (%c8) step (%c1) init (%zero) -> f32 {
    %v = memref.load %x[%i] : memref<8xf32>
    scf.reduce(%v : f32) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      scf.reduce.return %s : f32
    }
  }
  return %r : f32
}

// -----

func.func @host_uses_loop_result(%x: memref<8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @+1 {{reads device memory into a value the host uses}}
  %r = scf.for %i = %c0 to %c8 step %c1 iter_args(%acc = %zero) -> f32 {
    %v = memref.load %x[%i] : memref<8xf32>
    %s = arith.addf %acc, %v : f32
    scf.yield %s : f32
  }
  return %r : f32
}
