// RUN: lmc-opt %s --split-input-file --lm-fold-scatter-copies | FileCheck %s

// The scatter lm-lower-state writes for a cache update: token t of sequence
// b goes to slot positions[b, t] when t < lengths[b], rounded to the
// cache's type. The loop computing the keys stores each element; each
// store is followed by the scatter's body for it, and the scatter loop and
// the temporary go.
// CHECK-LABEL: func.func @cache_update
// CHECK-SAME: (%[[X:.*]]: memref<?x?x2x4xf32>, %[[POS:.*]]: memref<?x?xi64>, %[[LEN:.*]]: memref<?xi64>, %[[CACHE:.*]]: memref<?x?x2x4xbf16>)
// CHECK-NOT: memref.alloc
// CHECK: scf.for %[[B:.*]] =
// CHECK: scf.for %[[T:.*]] =
// CHECK: scf.for %[[H:.*]] =
// CHECK: scf.for %[[D:.*]] =
// CHECK: %[[V:.*]] = math.exp
// CHECK-NOT: memref.store
// CHECK: %[[L:.*]] = memref.load %[[LEN]][%[[B]]]
// CHECK: %[[LI:.*]] = arith.index_cast %[[L]]
// CHECK: %[[HELD:.*]] = arith.cmpi ult, %[[T]], %[[LI]]
// CHECK: scf.if %[[HELD]] {
// CHECK: %[[P:.*]] = memref.load %[[POS]][%[[B]], %[[T]]]
// CHECK: %[[SLOT:.*]] = arith.index_cast %[[P]]
// CHECK: %[[R:.*]] = arith.truncf %[[V]] : f32 to bf16
// CHECK: memref.store %[[R]], %[[CACHE]][%[[B]], %[[SLOT]], %[[H]], %[[D]]]
// CHECK-NOT: scf.parallel
// CHECK-NOT: memref.dealloc
// CHECK: return
func.func @cache_update(%x: memref<?x?x2x4xf32>, %positions: memref<?x?xi64>, %lengths: memref<?xi64>, %cache: memref<?x?x2x4xbf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %b = memref.dim %x, %c0 : memref<?x?x2x4xf32>
  %t = memref.dim %x, %c1 : memref<?x?x2x4xf32>
  %keys = memref.alloc(%b, %t) : memref<?x?x2x4xf32>
  scf.for %i = %c0 to %b step %c1 {
    scf.for %j = %c0 to %t step %c1 {
      scf.for %h = %c0 to %c2 step %c1 {
        scf.for %d = %c0 to %c4 step %c1 {
          %v = memref.load %x[%i, %j, %h, %d] : memref<?x?x2x4xf32>
          %e = math.exp %v : f32
          memref.store %e, %keys[%i, %j, %h, %d] : memref<?x?x2x4xf32>
        }
      }
    }
  }
  scf.parallel (%i, %j, %h, %d) = (%c0, %c0, %c0, %c0) to (%b, %t, %c2, %c4) step (%c1, %c1, %c1, %c1) {
    %length = memref.load %lengths[%i] : memref<?xi64>
    %li = arith.index_cast %length : i64 to index
    %held = arith.cmpi ult, %j, %li : index
    scf.if %held {
      %p = memref.load %positions[%i, %j] : memref<?x?xi64>
      %slot = arith.index_cast %p : i64 to index
      %v = memref.load %keys[%i, %j, %h, %d] : memref<?x?x2x4xf32>
      %r = arith.truncf %v : f32 to bf16
      memref.store %r, %cache[%i, %slot, %h, %d] : memref<?x?x2x4xbf16>
    }
    scf.reduce
  }
  memref.dealloc %keys : memref<?x?x2x4xf32>
  return
}

// -----

// Values projected as [B, T, heads * dim] into a slot of the arena, inside
// a kernel, and scattered as [B, T, heads, dim]: each store's column is
// split into (head, dim) by the reshape's static sizes.
// CHECK-LABEL: func.func @through_reshape_in_kernel
// CHECK: gpu.launch
// CHECK: %[[V:.*]] = arith.addf
// CHECK-NOT: memref.store %[[V]], %{{.*}} : memref<?x?x8xf32>
// CHECK-DAG: %[[DIM:.*]] = arith.remui %[[COL:.*]], %c4
// CHECK-DAG: %[[HEAD:.*]] = arith.divui %[[COL]], %c4
// CHECK: memref.store %[[V]], %arg3[%{{.*}}, %{{.*}}, %[[HEAD]], %[[DIM]]] : memref<?x?x2x4xf32>
// CHECK: gpu.terminator
// CHECK-NOT: scf.parallel
// CHECK: return
func.func @through_reshape_in_kernel(%x: memref<?x?x8xf32>, %positions: memref<?x?xi64>, %lengths: memref<?xi64>, %cache: memref<?x?x2x4xf32>, %arena: memref<?xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %b = memref.dim %x, %c0 : memref<?x?x8xf32>
  %t = memref.dim %x, %c1 : memref<?x?x8xf32>
  %values = memref.view %arena[%c0][%b, %t] : memref<?xi8> to memref<?x?x8xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %b, %gy = %t, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c8, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%bx, %by, %tx] : memref<?x?x8xf32>
    %w = arith.addf %v, %v : f32
    memref.store %w, %values[%bx, %by, %tx] : memref<?x?x8xf32>
    gpu.terminator
  }
  %heads = memref.expand_shape %values [[0], [1], [2, 3]] output_shape [%b, %t, 2, 4] : memref<?x?x8xf32> into memref<?x?x2x4xf32>
  %b2 = memref.dim %heads, %c0 : memref<?x?x2x4xf32>
  %t2 = memref.dim %heads, %c1 : memref<?x?x2x4xf32>
  scf.parallel (%i, %j, %h, %d) = (%c0, %c0, %c0, %c0) to (%b2, %t2, %c2, %c4) step (%c1, %c1, %c1, %c1) {
    %length = memref.load %lengths[%i] : memref<?xi64>
    %li = arith.index_cast %length : i64 to index
    %held = arith.cmpi ult, %j, %li : index
    scf.if %held {
      %p = memref.load %positions[%i, %j] : memref<?x?xi64>
      %slot = arith.index_cast %p : i64 to index
      %v = memref.load %heads[%i, %j, %h, %d] : memref<?x?x2x4xf32>
      memref.store %v, %cache[%i, %slot, %h, %d] : memref<?x?x2x4xf32>
    }
    scf.reduce
  }
  return
}

// -----

// A pair of neighbouring columns stored as one vector: the scatter runs for
// each element, at the vector's column and the next.
// CHECK-LABEL: func.func @vector_store
// CHECK: %[[PAIR:.*]] = vector.load
// CHECK-NOT: vector.store
// CHECK: %[[E0:.*]] = vector.extract %[[PAIR]][0]
// CHECK: memref.store %[[E0]], %arg3[%{{.*}}, %{{.*}}, %[[C0:.*]]]
// CHECK: %[[E1:.*]] = vector.extract %[[PAIR]][1]
// CHECK: %[[C1:.*]] = arith.addi %[[C0]], %c1
// CHECK: memref.store %[[E1]], %arg3[%{{.*}}, %{{.*}}, %[[C1]]]
// CHECK-NOT: scf.parallel
func.func @vector_store(%x: memref<?x?x8xf32>, %positions: memref<?x?xi64>, %lengths: memref<?xi64>, %cache: memref<?x?x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %b = memref.dim %x, %c0 : memref<?x?x8xf32>
  %t = memref.dim %x, %c1 : memref<?x?x8xf32>
  %keys = memref.alloc(%b, %t) : memref<?x?x8xf32>
  scf.for %i = %c0 to %b step %c1 {
    scf.for %j = %c0 to %t step %c1 {
      scf.for %k = %c0 to %c8 step %c2 {
        %pair = vector.load %x[%i, %j, %k] : memref<?x?x8xf32>, vector<2xf32>
        vector.store %pair, %keys[%i, %j, %k] : memref<?x?x8xf32>, vector<2xf32>
      }
    }
  }
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%b, %t, %c8) step (%c1, %c1, %c1) {
    %p = memref.load %positions[%i, %j] : memref<?x?xi64>
    %slot = arith.index_cast %p : i64 to index
    %v = memref.load %keys[%i, %j, %k] : memref<?x?x8xf32>
    memref.store %v, %cache[%i, %slot, %k] : memref<?x?x8xf32>
    scf.reduce
  }
  memref.dealloc %keys : memref<?x?x8xf32>
  return
}

// -----

// The temporary is also read before the scatter (by a reduction): its
// stores stay, each followed by the scatter's; the loop goes.
// CHECK-LABEL: func.func @read_elsewhere
// CHECK: memref.alloc
// CHECK: memref.store %[[V:.*]], %[[KEYS:.*]][%{{.*}}, %{{.*}}, %{{.*}}]
// CHECK-NEXT: memref.load %arg1
// CHECK: memref.store %[[V]], %arg3
// CHECK: memref.load %[[KEYS]]
// CHECK-NOT: scf.parallel
// CHECK: memref.dealloc %[[KEYS]]
func.func @read_elsewhere(%x: memref<?x?x8xf32>, %positions: memref<?x?xi64>, %sum: memref<f32>, %cache: memref<?x?x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %b = memref.dim %x, %c0 : memref<?x?x8xf32>
  %t = memref.dim %x, %c1 : memref<?x?x8xf32>
  %keys = memref.alloc(%b, %t) : memref<?x?x8xf32>
  scf.for %i = %c0 to %b step %c1 {
    scf.for %j = %c0 to %t step %c1 {
      scf.for %k = %c0 to %c8 step %c1 {
        %v = memref.load %x[%i, %j, %k] : memref<?x?x8xf32>
        memref.store %v, %keys[%i, %j, %k] : memref<?x?x8xf32>
      }
    }
  }
  %first = memref.load %keys[%c0, %c0, %c0] : memref<?x?x8xf32>
  memref.store %first, %sum[] : memref<f32>
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%b, %t, %c8) step (%c1, %c1, %c1) {
    %p = memref.load %positions[%i, %j] : memref<?x?xi64>
    %slot = arith.index_cast %p : i64 to index
    %v = memref.load %keys[%i, %j, %k] : memref<?x?x8xf32>
    memref.store %v, %cache[%i, %slot, %k] : memref<?x?x8xf32>
    scf.reduce
  }
  memref.dealloc %keys : memref<?x?x8xf32>
  return
}

// -----

// Not folded: the cache is read while the temporary lives (its reader
// must see the cache before the update).
// CHECK-LABEL: func.func @cache_read_between
// CHECK: scf.for
// CHECK: memref.store %{{.*}}, %[[KEYS:.*]][
// CHECK: memref.load %arg3[%c0, %c0, %c0]
// CHECK: scf.parallel
// CHECK: memref.load %[[KEYS]]
func.func @cache_read_between(%x: memref<?x?x8xf32>, %positions: memref<?x?xi64>, %out: memref<f32>, %cache: memref<?x?x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %b = memref.dim %x, %c0 : memref<?x?x8xf32>
  %t = memref.dim %x, %c1 : memref<?x?x8xf32>
  %keys = memref.alloc(%b, %t) : memref<?x?x8xf32>
  scf.for %i = %c0 to %b step %c1 {
    scf.for %j = %c0 to %t step %c1 {
      scf.for %k = %c0 to %c8 step %c1 {
        %v = memref.load %x[%i, %j, %k] : memref<?x?x8xf32>
        memref.store %v, %keys[%i, %j, %k] : memref<?x?x8xf32>
      }
    }
  }
  %old = memref.load %cache[%c0, %c0, %c0] : memref<?x?x8xf32>
  memref.store %old, %out[] : memref<f32>
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%b, %t, %c8) step (%c1, %c1, %c1) {
    %p = memref.load %positions[%i, %j] : memref<?x?xi64>
    %slot = arith.index_cast %p : i64 to index
    %v = memref.load %keys[%i, %j, %k] : memref<?x?x8xf32>
    memref.store %v, %cache[%i, %slot, %k] : memref<?x?x8xf32>
    scf.reduce
  }
  memref.dealloc %keys : memref<?x?x8xf32>
  return
}

// -----

// Not folded: the positions the scatter reads are written while the
// temporary lives.
// CHECK-LABEL: func.func @positions_written_between
// CHECK: memref.store %{{.*}}, %arg1[%c0, %c0]
// CHECK: scf.parallel
func.func @positions_written_between(%x: memref<?x?x8xf32>, %positions: memref<?x?xi64>, %cache: memref<?x?x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0 : i64
  %b = memref.dim %x, %c0 : memref<?x?x8xf32>
  %t = memref.dim %x, %c1 : memref<?x?x8xf32>
  %keys = memref.alloc(%b, %t) : memref<?x?x8xf32>
  scf.for %i = %c0 to %b step %c1 {
    scf.for %j = %c0 to %t step %c1 {
      scf.for %k = %c0 to %c8 step %c1 {
        %v = memref.load %x[%i, %j, %k] : memref<?x?x8xf32>
        memref.store %v, %keys[%i, %j, %k] : memref<?x?x8xf32>
      }
    }
  }
  memref.store %zero, %positions[%c0, %c0] : memref<?x?xi64>
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%b, %t, %c8) step (%c1, %c1, %c1) {
    %p = memref.load %positions[%i, %j] : memref<?x?xi64>
    %slot = arith.index_cast %p : i64 to index
    %v = memref.load %keys[%i, %j, %k] : memref<?x?x8xf32>
    memref.store %v, %cache[%i, %slot, %k] : memref<?x?x8xf32>
    scf.reduce
  }
  memref.dealloc %keys : memref<?x?x8xf32>
  return
}

// -----

// Not folded: the loop covers only part of the temporary (a store outside
// it must not reach the cache), the temporary is read after the loop, or
// written by an op whose stores cannot be seen (a copy).
// CHECK-LABEL: func.func @not_scatters
// CHECK-COUNT-3: scf.parallel
func.func @not_scatters(%x: memref<?x?x8xf32>, %positions: memref<?x?xi64>, %out: memref<f32>, %cache: memref<?x?x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %b = memref.dim %x, %c0 : memref<?x?x8xf32>
  %t = memref.dim %x, %c1 : memref<?x?x8xf32>
  %part = memref.alloc(%b, %t) : memref<?x?x8xf32>
  scf.for %i = %c0 to %b step %c1 {
    scf.for %j = %c0 to %t step %c1 {
      scf.for %k = %c0 to %c8 step %c1 {
        %v = memref.load %x[%i, %j, %k] : memref<?x?x8xf32>
        memref.store %v, %part[%i, %j, %k] : memref<?x?x8xf32>
      }
    }
  }
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%b, %t, %c4) step (%c1, %c1, %c1) {
    %p = memref.load %positions[%i, %j] : memref<?x?xi64>
    %slot = arith.index_cast %p : i64 to index
    %v = memref.load %part[%i, %j, %k] : memref<?x?x8xf32>
    memref.store %v, %cache[%i, %slot, %k] : memref<?x?x8xf32>
    scf.reduce
  }
  memref.dealloc %part : memref<?x?x8xf32>
  %later = memref.alloc(%b, %t) : memref<?x?x8xf32>
  scf.for %i = %c0 to %b step %c1 {
    scf.for %j = %c0 to %t step %c1 {
      scf.for %k = %c0 to %c8 step %c1 {
        %v = memref.load %x[%i, %j, %k] : memref<?x?x8xf32>
        memref.store %v, %later[%i, %j, %k] : memref<?x?x8xf32>
      }
    }
  }
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%b, %t, %c8) step (%c1, %c1, %c1) {
    %p = memref.load %positions[%i, %j] : memref<?x?xi64>
    %slot = arith.index_cast %p : i64 to index
    %v = memref.load %later[%i, %j, %k] : memref<?x?x8xf32>
    memref.store %v, %cache[%i, %slot, %k] : memref<?x?x8xf32>
    scf.reduce
  }
  %last = memref.load %later[%c0, %c0, %c0] : memref<?x?x8xf32>
  memref.store %last, %out[] : memref<f32>
  memref.dealloc %later : memref<?x?x8xf32>
  %copied = memref.alloc(%b, %t) : memref<?x?x8xf32>
  memref.copy %x, %copied : memref<?x?x8xf32> to memref<?x?x8xf32>
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%b, %t, %c8) step (%c1, %c1, %c1) {
    %p = memref.load %positions[%i, %j] : memref<?x?xi64>
    %slot = arith.index_cast %p : i64 to index
    %v = memref.load %copied[%i, %j, %k] : memref<?x?x8xf32>
    memref.store %v, %cache[%i, %slot, %k] : memref<?x?x8xf32>
    scf.reduce
  }
  memref.dealloc %copied : memref<?x?x8xf32>
  return
}

// -----

// Not folded: a reshape whose inner size is only known at run time.
// CHECK-LABEL: func.func @dynamic_inner_size
// CHECK: scf.parallel
func.func @dynamic_inner_size(%x: memref<?x?xf32>, %positions: memref<?x?xi64>, %cache: memref<?x?x?x4xf32>, %heads: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %b = memref.dim %x, %c0 : memref<?x?xf32>
  %n = memref.dim %x, %c1 : memref<?x?xf32>
  %flat = memref.alloc(%b, %n) : memref<?x?xf32>
  scf.for %i = %c0 to %b step %c1 {
    scf.for %k = %c0 to %n step %c1 {
      %v = memref.load %x[%i, %k] : memref<?x?xf32>
      memref.store %v, %flat[%i, %k] : memref<?x?xf32>
    }
  }
  %split = memref.expand_shape %flat [[0], [1, 2, 3]] output_shape [%b, 1, %heads, 4] : memref<?x?xf32> into memref<?x1x?x4xf32>
  scf.parallel (%i, %j, %h, %d) = (%c0, %c0, %c0, %c0) to (%b, %c1, %heads, %c4) step (%c1, %c1, %c1, %c1) {
    %p = memref.load %positions[%i, %j] : memref<?x?xi64>
    %slot = arith.index_cast %p : i64 to index
    %v = memref.load %split[%i, %j, %h, %d] : memref<?x1x?x4xf32>
    memref.store %v, %cache[%i, %slot, %h, %d] : memref<?x?x?x4xf32>
    scf.reduce
  }
  memref.dealloc %flat : memref<?x?xf32>
  return
}

// -----

// Not folded: a reduction as convert-linalg-to-loops writes it stores each
// partial sum; the scatter would store each of them too.
// CHECK-LABEL: func.func @partial_sums
// CHECK: scf.for
// CHECK: memref.store %{{.*}}, %[[KEYS:.*]][%{{.*}}, %{{.*}}, %{{.*}}]
// CHECK-NOT: %arg3
// CHECK: scf.parallel
// CHECK: memref.load %[[KEYS]]
func.func @partial_sums(%x: memref<?x?x16xf32>, %w: memref<8x16xf32>, %positions: memref<?x?xi64>, %cache: memref<?x?x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  %b = memref.dim %x, %c0 : memref<?x?x16xf32>
  %t = memref.dim %x, %c1 : memref<?x?x16xf32>
  %keys = memref.alloc(%b, %t) : memref<?x?x8xf32>
  scf.for %i = %c0 to %b step %c1 {
    scf.for %j = %c0 to %t step %c1 {
      scf.for %n = %c0 to %c8 step %c1 {
        memref.store %zero, %keys[%i, %j, %n] : memref<?x?x8xf32>
        scf.for %k = %c0 to %c16 step %c1 {
          %a = memref.load %x[%i, %j, %k] : memref<?x?x16xf32>
          %v = memref.load %w[%n, %k] : memref<8x16xf32>
          %s = memref.load %keys[%i, %j, %n] : memref<?x?x8xf32>
          %p = arith.mulf %a, %v : f32
          %q = arith.addf %s, %p : f32
          memref.store %q, %keys[%i, %j, %n] : memref<?x?x8xf32>
        }
      }
    }
  }
  scf.parallel (%i, %j, %n) = (%c0, %c0, %c0) to (%b, %t, %c8) step (%c1, %c1, %c1) {
    %p = memref.load %positions[%i, %j] : memref<?x?xi64>
    %slot = arith.index_cast %p : i64 to index
    %v = memref.load %keys[%i, %j, %n] : memref<?x?x8xf32>
    memref.store %v, %cache[%i, %slot, %n] : memref<?x?x8xf32>
    scf.reduce
  }
  memref.dealloc %keys : memref<?x?x8xf32>
  return
}
