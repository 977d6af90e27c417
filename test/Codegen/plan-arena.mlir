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
// CHECK: %[[ARENA:.*]] = memref.alloc(%[[TOTAL]]) {alignment = 256 : i64, lm.arena} : memref<?xi8>
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
// CHECK: %[[ARENA:.*]] = memref.alloc(%{{.*}}) {alignment = 256 : i64, lm.arena} : memref<?xi8>
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
// CHECK: %[[ARENA:.*]] = memref.alloc(%{{.*}}) {alignment = 256 : i64, lm.arena} : memref<?xi8>
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

// -----

// A size computed inside a branch with an unsigned division by a value that
// is not a constant: recomputed where the arena is allocated, its divisor
// kept at least 1 there (it was not speculatable where it stood).
// CHECK-LABEL: func.func @division_in_branch
// CHECK-SAME: (%[[ROWS:.*]]: index, %[[DECODE:.*]]: i1,
// CHECK: %[[SAFE:.*]] = arith.maxui %[[ROWS]], %[[ONE:.*]] : index
// CHECK: %[[SPLITS:.*]] = arith.ceildivui %{{.*}}, %[[SAFE]] : index
// CHECK: %[[BYTES:.*]] = arith.muli %[[SPLITS]], %{{.*}} : index
// CHECK: memref.alloc(%{{.*}}) {alignment = 256 : i64, lm.arena} : memref<?xi8>
// CHECK: scf.if %[[DECODE]] {
// CHECK:   memref.view %{{.*}} : memref<?xi8> to memref<?x16xf32>
// CHECK-NOT: memref.dealloc %{{.*}} : memref<?x16xf32>
// CHECK: }
func.func @division_in_branch(%rows: index, %decode: i1, %out: memref<16xf32>) {
  %c528 = arith.constant 528 : index
  %c0 = arith.constant 0 : index
  %cst = arith.constant 0.0 : f32
  %a = memref.alloc() : memref<16xf32>
  linalg.fill ins(%cst : f32) outs(%a : memref<16xf32>)
  scf.if %decode {
    %splits = arith.ceildivui %c528, %rows : index
    %p = memref.alloc(%splits) : memref<?x16xf32>
    linalg.fill ins(%cst : f32) outs(%p : memref<?x16xf32>)
    %row = memref.subview %p[0, 0] [1, 16] [1, 1] : memref<?x16xf32> to memref<16xf32, strided<[1]>>
    memref.copy %row, %out : memref<16xf32, strided<[1]>> to memref<16xf32>
    memref.dealloc %p : memref<?x16xf32>
  }
  memref.copy %a, %out : memref<16xf32> to memref<16xf32>
  memref.dealloc %a : memref<16xf32>
  return
}

// -----

// A kernel choice whose branches each allocate what they yield (the inner
// choice's too): one temporary, a slot its three allocations share, live
// until the result's last use, and no longer freed through its base
// buffer. A later temporary sized by the result's dimension (the size every
// branch yields) is planned too.
// CHECK-LABEL: func.func @choice_result
// CHECK-SAME: (%[[IN:.*]]: memref<?x64xf32>, %[[FEW:.*]]: i1, %[[MANY:.*]]: i1,
// CHECK: %[[ARENA:.*]] = memref.alloc(%{{.*}}) {alignment = 256 : i64, lm.arena} : memref<?xi8>
// CHECK: %[[R:.*]] = scf.if %[[FEW]]
// CHECK:   memref.view %[[ARENA]][%[[SLOT:.*]]][%{{.*}}] : memref<?xi8> to memref<?x64xf32>
// CHECK: } else {
// CHECK:   scf.if %[[MANY]]
// CHECK:     memref.view %[[ARENA]][%[[SLOT]]][%{{.*}}] : memref<?xi8> to memref<?x64xf32>
// CHECK:   } else {
// CHECK:     memref.view %[[ARENA]][%[[SLOT]]][%{{.*}}] : memref<?xi8> to memref<?x64xf32>
// CHECK: memref.view %[[ARENA]][%{{.*}}][%{{.*}}] : memref<?xi8> to memref<?xf32>
// CHECK-NOT: extract_strided_metadata
// CHECK-NOT: memref.alloc
// CHECK: memref.dealloc %[[ARENA]] : memref<?xi8>
// CHECK-NEXT: return
func.func @choice_result(%in: memref<?x64xf32>, %few: i1, %many: i1, %out: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %cst = arith.constant 0.0 : f32
  %n = memref.dim %in, %c0 : memref<?x64xf32>
  %r = scf.if %few -> (memref<?x64xf32, strided<[?, ?], offset: ?>>) {
    %a = memref.alloc(%n) : memref<?x64xf32>
    linalg.fill ins(%cst : f32) outs(%a : memref<?x64xf32>)
    %c = memref.cast %a : memref<?x64xf32> to memref<?x64xf32, strided<[?, ?], offset: ?>>
    scf.yield %c : memref<?x64xf32, strided<[?, ?], offset: ?>>
  } else {
    %inner = scf.if %many -> (memref<?x64xf32, strided<[?, ?], offset: ?>>) {
      %b = memref.alloc(%n) : memref<?x64xf32>
      memref.copy %in, %b : memref<?x64xf32> to memref<?x64xf32>
      %c = memref.cast %b : memref<?x64xf32> to memref<?x64xf32, strided<[?, ?], offset: ?>>
      scf.yield %c : memref<?x64xf32, strided<[?, ?], offset: ?>>
    } else {
      %d = memref.alloc(%n) : memref<?x64xf32>
      linalg.fill ins(%cst : f32) outs(%d : memref<?x64xf32>)
      %c = memref.cast %d : memref<?x64xf32> to memref<?x64xf32, strided<[?, ?], offset: ?>>
      scf.yield %c : memref<?x64xf32, strided<[?, ?], offset: ?>>
    }
    scf.yield %inner : memref<?x64xf32, strided<[?, ?], offset: ?>>
  }
  %rows = memref.dim %r, %c0 : memref<?x64xf32, strided<[?, ?], offset: ?>>
  %e = memref.alloc(%rows) : memref<?xf32>
  linalg.fill ins(%cst : f32) outs(%e : memref<?xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%r : memref<?x64xf32, strided<[?, ?], offset: ?>>) outs(%e : memref<?xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  }
  memref.copy %e, %out : memref<?xf32> to memref<?xf32>
  memref.dealloc %e : memref<?xf32>
  %base, %offset, %sizes:2, %strides:2 = memref.extract_strided_metadata %r : memref<?x64xf32, strided<[?, ?], offset: ?>> -> memref<f32>, index, index, index, index, index
  memref.dealloc %base : memref<f32>
  return
}
