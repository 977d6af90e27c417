// RUN: lmc-opt %s --split-input-file --lm-plan-arena | FileCheck %s
// RUN: lmc-opt %s --split-input-file --lm-plan-arena=use-arena=false | FileCheck %s --check-prefix=FREE

// %a and %b are live at once: two slots. %b is dead before %c and %d are
// allocated; %d (T x 64, a constant factor from %b's T x 128) moves into
// %b's slot, three ops touching memory after %b's last use. %c's size is T x 2T, its T traced through the expand_shape
// back to the argument's dimension: a slot of its own.
// CHECK-LABEL: func.func @slots
// CHECK-SAME: (%[[IN:.*]]: memref<?x64xf32>, %[[OUT:.*]]: memref<?x64xf32>)
// CHECK: %[[T:.*]] = memref.dim %[[IN]], %{{.*}}
// CHECK: %[[T2:.*]] = arith.addi %[[T]], %[[T]]
// CHECK: %[[A_BYTES:.*]] = arith.muli %[[T]], %[[C256:.*]] : index
// CHECK: %[[A_SLOT:.*]] = arith.muli %{{.*}}, %[[C256]]
// CHECK: %[[B_BYTES:.*]] = arith.muli %[[T]], %[[C512:.*]] : index
// CHECK: %[[D_BYTES:.*]] = arith.muli %[[T]], %[[C256]]
// CHECK: arith.maxui %[[B_BYTES]], %[[D_BYTES]]
// CHECK: %[[C_OFFSET:.*]] = arith.addi %[[A_SLOT]], %{{.*}}
// CHECK: %[[C_ROW:.*]] = arith.muli %[[T]], %{{.*}}
// CHECK: arith.muli %[[C_ROW]], %[[T2]]
// CHECK: %[[TOTAL:.*]] = arith.addi %[[C_OFFSET]], %{{.*}}
// CHECK: %[[ARENA:.*]] = memref.alloc(%[[TOTAL]]) {alignment = 256 : i64} : memref<?xi8>
// CHECK: %[[A:.*]] = memref.view %[[ARENA]][%[[ZERO:.*]]][%{{.*}}] : memref<?xi8> to memref<?x64xf32>
// CHECK: memref.view %[[ARENA]][%[[A_SLOT]]][%{{.*}}] : memref<?xi8> to memref<?x128xf32>
// CHECK: memref.view %[[ARENA]][%[[C_OFFSET]]][%{{.*}}, %{{.*}}] : memref<?xi8> to memref<?x?xf32>
// CHECK: memref.view %[[ARENA]][%[[A_SLOT]]][%{{.*}}] : memref<?xi8> to memref<?x64xf32>
// CHECK: memref.copy %[[A]], %[[OUT]]
// CHECK-NOT: memref.dealloc
// CHECK: memref.dealloc %[[ARENA]] : memref<?xi8>
// CHECK-NEXT: return

// Without the arena, each allocation is freed right after its last use.
// FREE-LABEL: func.func @slots
// FREE: %[[A:.*]] = memref.alloc
// FREE: %[[B:.*]] = memref.alloc
// FREE-NEXT: linalg.fill {{.*}} outs(%[[B]]
// FREE-NEXT: memref.dealloc %[[B]]
// FREE: %[[C:.*]] = memref.alloc
// FREE-NEXT: linalg.fill {{.*}} outs(%[[C]]
// FREE-NEXT: memref.dealloc %[[C]]
// FREE-NEXT: linalg.fill
// FREE-NEXT: linalg.fill
// FREE-NEXT: %[[D:.*]] = memref.alloc
// FREE-NEXT: memref.dealloc %[[D]]
// FREE-NEXT: memref.copy %[[A]]
// FREE-NEXT: memref.dealloc %[[A]]
// FREE-NEXT: return
func.func @slots(%in: memref<?x64xf32>, %out: memref<?x64xf32>) {
  %c0 = arith.constant 0 : index
  %cst = arith.constant 0.0 : f32
  %n = memref.dim %in, %c0 : memref<?x64xf32>
  %a = memref.alloc(%n) : memref<?x64xf32>
  linalg.fill ins(%cst : f32) outs(%a : memref<?x64xf32>)
  %b = memref.alloc(%n) : memref<?x128xf32>
  linalg.fill ins(%cst : f32) outs(%b : memref<?x128xf32>)
  %e = memref.expand_shape %a [[0], [1, 2]] output_shape [%n, 4, 16] : memref<?x64xf32> into memref<?x4x16xf32>
  %n2 = memref.dim %e, %c0 : memref<?x4x16xf32>
  %m = arith.addi %n2, %n2 : index
  %c = memref.alloc(%n2, %m) : memref<?x?xf32>
  linalg.fill ins(%cst : f32) outs(%c : memref<?x?xf32>)
  linalg.fill ins(%cst : f32) outs(%a : memref<?x64xf32>)
  linalg.fill ins(%cst : f32) outs(%a : memref<?x64xf32>)
  %d = memref.alloc(%n) : memref<?x64xf32>
  memref.copy %a, %out : memref<?x64xf32> to memref<?x64xf32>
  memref.dealloc %a : memref<?x64xf32>
  memref.dealloc %b : memref<?x128xf32>
  memref.dealloc %c : memref<?x?xf32>
  memref.dealloc %d : memref<?x64xf32>
  return
}

// -----

// %n is read from a buffer the function writes first: %b's size is not
// known where %a is allocated, so %b keeps its allocation, freed after the
// loop that last uses it (a use nested in the loop counts at the loop).
// CHECK-LABEL: func.func @late_size
// CHECK: %[[ARENA:.*]] = memref.alloc(%{{.*}}) {alignment = 256 : i64} : memref<?xi8>
// CHECK: %[[A:.*]] = memref.view %[[ARENA]]
// CHECK: %[[B:.*]] = memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK: scf.for
// CHECK: memref.store %{{.*}}, %[[B]]
// CHECK: }
// CHECK-NEXT: memref.dealloc %[[B]]
// CHECK: memref.dealloc %[[ARENA]]
// CHECK-NEXT: return
func.func @late_size(%sizes: memref<1xindex>, %out: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %cst = arith.constant 1.0 : f32
  %a = memref.alloc() : memref<4xf32>
  memref.store %c8, %sizes[%c0] : memref<1xindex>
  %n = memref.load %sizes[%c0] : memref<1xindex>
  %b = memref.alloc(%n) : memref<?xf32>
  scf.for %i = %c0 to %n step %c1 {
    memref.store %cst, %b[%i] : memref<?xf32>
  }
  linalg.fill ins(%cst : f32) outs(%a : memref<4xf32>)
  memref.copy %a, %out : memref<4xf32> to memref<4xf32>
  memref.dealloc %a : memref<4xf32>
  memref.dealloc %b : memref<?xf32>
  return
}

// -----

// A slot whose last reader ran just before is not taken: the reader's
// kernel and the next writer's could run as one launch
// (lm-merge-launches), which a shared slot would forbid.
// CHECK-LABEL: func.func @recently_freed
// CHECK: %[[TWO_SLOTS:.*]] = arith.constant 512 : index
// CHECK: %[[ARENA:.*]] = memref.alloc(%[[TWO_SLOTS]])
// CHECK: memref.view %[[ARENA]][%c0][] : memref<?xi8> to memref<64xf32>
// CHECK: memref.view %[[ARENA]][%c256{{.*}}][] : memref<?xi8> to memref<64xf32>
func.func @recently_freed(%out: memref<64xf32>) {
  %cst = arith.constant 0.0 : f32
  %a = memref.alloc() : memref<64xf32>
  linalg.fill ins(%cst : f32) outs(%a : memref<64xf32>)
  memref.copy %a, %out : memref<64xf32> to memref<64xf32>
  %b = memref.alloc() : memref<64xf32>
  linalg.fill ins(%cst : f32) outs(%b : memref<64xf32>)
  memref.copy %b, %out : memref<64xf32> to memref<64xf32>
  memref.dealloc %a : memref<64xf32>
  memref.dealloc %b : memref<64xf32>
  return
}

// -----

// A view that leaves the function: the allocation is not a temporary.
// CHECK-LABEL: func.func @escapes
// CHECK-NOT: memref<?xi8>
// CHECK: %[[A:.*]] = memref.alloc() : memref<8xf32>
// CHECK: %[[V:.*]] = memref.subview %[[A]]
// CHECK: return %[[V]]
func.func @escapes() -> memref<4xf32, strided<[1]>> {
  %a = memref.alloc() : memref<8xf32>
  %v = memref.subview %a[0] [4] [1] : memref<8xf32> to memref<4xf32, strided<[1]>>
  return %v : memref<4xf32, strided<[1]>>
}

// -----

// Temporaries of a kernel choice's branches (the prompt branch's
// projections before their GLU): each lives, for the plan, as long as the
// scf.if, so %g and %u take two slots, and the body's %late, allocated
// after the branch, reuses %g's once three ops touched memory. The arena
// is allocated before the scf.if; the host leaves nested ones alone.
// CHECK-LABEL: func.func @branches
// CHECK-SAME: (%[[FEW:.*]]: i1, %[[OUT:.*]]: memref<64xf32>)
// CHECK: %[[ARENA:.*]] = memref.alloc(%{{.*}}) {alignment = 256 : i64} : memref<?xi8>
// CHECK: scf.if %[[FEW]] {
// CHECK: } else {
// CHECK:   %[[G:.*]] = memref.view %[[ARENA]][%[[C0:.*]]][] : memref<?xi8> to memref<64xf32>
// CHECK:   %[[U:.*]] = memref.view %[[ARENA]][%[[C256:.*]]][] : memref<?xi8> to memref<64xf32>
// CHECK-NOT: memref.dealloc
// CHECK: }
// CHECK: memref.view %[[ARENA]][%[[C0]]][] : memref<?xi8> to memref<64xf32>
// CHECK-NOT: memref.dealloc %{{.*}} : memref<64xf32>
// CHECK: memref.dealloc %[[ARENA]] : memref<?xi8>
// FREE-LABEL: func.func @branches
// FREE: } else {
// FREE:   %[[G:.*]] = memref.alloc() : memref<64xf32>
// FREE:   memref.dealloc %[[G]]
// FREE: }
func.func @branches(%few: i1, %out: memref<64xf32>) {
  %cst = arith.constant 0.0 : f32
  scf.if %few {
    linalg.fill ins(%cst : f32) outs(%out : memref<64xf32>)
  } else {
    %g = memref.alloc() : memref<64xf32>
    linalg.fill ins(%cst : f32) outs(%g : memref<64xf32>)
    %u = memref.alloc() : memref<64xf32>
    linalg.fill ins(%cst : f32) outs(%u : memref<64xf32>)
    memref.copy %g, %out : memref<64xf32> to memref<64xf32>
    memref.copy %u, %out : memref<64xf32> to memref<64xf32>
    memref.dealloc %g : memref<64xf32>
    memref.dealloc %u : memref<64xf32>
  }
  linalg.fill ins(%cst : f32) outs(%out : memref<64xf32>)
  linalg.fill ins(%cst : f32) outs(%out : memref<64xf32>)
  linalg.fill ins(%cst : f32) outs(%out : memref<64xf32>)
  %late = memref.alloc() : memref<64xf32>
  linalg.fill ins(%cst : f32) outs(%late : memref<64xf32>)
  memref.copy %late, %out : memref<64xf32> to memref<64xf32>
  memref.dealloc %late : memref<64xf32>
  return
}

// -----

// A temporary of a parallel loop's body is every iteration's own: it keeps
// its allocation.
// CHECK-LABEL: func.func @parallel_body
// CHECK-NOT: memref<?xi8>
// CHECK: scf.parallel
// CHECK:   memref.alloc() : memref<4xf32>
func.func @parallel_body(%out: memref<8x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %cst = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    %t = memref.alloc() : memref<4xf32>
    linalg.fill ins(%cst : f32) outs(%t : memref<4xf32>)
    %row = memref.subview %out[%i, 0] [1, 4] [1, 1] : memref<8x4xf32> to memref<4xf32, strided<[1], offset: ?>>
    memref.copy %t, %row : memref<4xf32> to memref<4xf32, strided<[1], offset: ?>>
    memref.dealloc %t : memref<4xf32>
    scf.reduce
  }
  return
}
