// RUN: lmc-opt %s --split-input-file --lm-map-reductions-to-gpu | FileCheck %s

// A projection y[t, n] += x[t, k] * w[n, k]: one warp per (t, n), lanes
// striding k by 32, a xor butterfly, lane 0 adding into y. K = 64 is static
// and two warp widths: a loop trip takes both of a lane's iterations (their
// loads independent), folded in order.
// CHECK-LABEL: func.func @projection
// CHECK: gpu.launch blocks({{.*}}) threads({{.*}}) in (%{{.*}} = %c256
// CHECK:   %[[LANE:.*]] = arith.remui %{{.*}}, %c32
// CHECK:   %[[WARP:.*]] = arith.addi
// CHECK:   scf.if
// CHECK:     %[[PARTIAL:.*]] = scf.for %[[K:.*]] = %[[LANE]] to %c64{{.*}} step %c64{{.*}} iter_args(%[[ACC:.*]] = %cst)
// CHECK:       %[[K0:.*]] = arith.addi %[[K]], %c0
// CHECK:       %[[X:.*]] = memref.load %arg0[%{{.*}}, %[[K0]]]
// CHECK:       %[[W:.*]] = memref.load %arg1[%{{.*}}, %[[K0]]]
// CHECK:       %[[P:.*]] = arith.mulf %[[X]], %[[W]]
// CHECK:       %[[S0:.*]] = arith.addf %[[ACC]], %[[P]]
// CHECK:       %[[K1:.*]] = arith.addi %[[K]], %c32
// CHECK:       %[[X1:.*]] = memref.load %arg0[%{{.*}}, %[[K1]]]
// CHECK:       %[[W1:.*]] = memref.load %arg1[%{{.*}}, %[[K1]]]
// CHECK:       %[[P1:.*]] = arith.mulf %[[X1]], %[[W1]]
// CHECK:       %[[S:.*]] = arith.addf %[[S0]], %[[P1]]
// CHECK:       scf.yield %[[S]]
// CHECK:     gpu.shuffle  xor %[[PARTIAL]], %c16
// CHECK:     gpu.shuffle  xor %{{.*}}, %c8
// CHECK:     gpu.shuffle  xor %{{.*}}, %c4
// CHECK:     gpu.shuffle  xor %{{.*}}, %c2
// CHECK:     gpu.shuffle  xor %{{.*}}, %c1
// CHECK:     %[[FIRST:.*]] = arith.cmpi eq, %[[LANE]], %c0
// CHECK:     scf.if %[[FIRST]]
// CHECK:       %[[OLD:.*]] = memref.load %arg2
// CHECK:       %[[NEW:.*]] = arith.addf %[[OLD]]
// CHECK:       memref.store %[[NEW]], %arg2
// CHECK-NOT: linalg.generic
func.func @projection(%x: memref<?x64xf32>, %w: memref<32x64xf32>, %y: memref<?x32xf32>) {
  linalg.generic {indexing_maps = [affine_map<(t, n, k) -> (t, k)>,
                                   affine_map<(t, n, k) -> (n, k)>,
                                   affine_map<(t, n, k) -> (t, n)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x64xf32>, memref<32x64xf32>) outs(%y : memref<?x32xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A row maximum starts from -inf and combines with maximumf.
// CHECK-LABEL: func.func @row_max
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[NEGINF]])
// CHECK:   arith.maximumf
// CHECK: gpu.shuffle  xor
// CHECK: arith.maximumf
func.func @row_max(%x: memref<4x?xf32>, %m: memref<4xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>,
                                   affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x?xf32>) outs(%m : memref<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.maximumf %acc, %a : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Not a fold into the output (the output feeds the value): left alone.
// CHECK-LABEL: func.func @not_a_fold
// CHECK-NOT: gpu.launch
// CHECK: linalg.generic
func.func @not_a_fold(%x: memref<4x8xf32>, %m: memref<4xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>,
                                   affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x8xf32>) outs(%m : memref<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %p = arith.mulf %acc, %a : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// The output is a fresh buffer filled just before: lane 0 folds into the
// fill value and the fill goes.
// CHECK-LABEL: func.func @filled_output
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[OUT:.*]] = memref.alloc
// CHECK-NOT: linalg.fill
// CHECK: gpu.launch
// CHECK: scf.if
// CHECK-NOT: memref.load %[[OUT]]
// CHECK: %[[SUM:.*]] = arith.addf %[[ZERO]], %{{.*}} : f32
// CHECK: memref.store %[[SUM]], %[[OUT]]
// CHECK: memref.copy %[[OUT]], %arg1
func.func @filled_output(%x: memref<4x?xf32>, %y: memref<4xf32>) {
  %zero = arith.constant 0.0 : f32
  %out = memref.alloc() : memref<4xf32>
  linalg.fill ins(%zero : f32) outs(%out : memref<4xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>,
                                   affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x?xf32>) outs(%out : memref<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %acc, %a : f32
    linalg.yield %r : f32
  }
  memref.copy %out, %y : memref<4xf32> to memref<4xf32>
  return
}

// -----

// The filled buffer is read between the fill and the reduction: the fill
// stays and lane 0 reads the output.
// CHECK-LABEL: func.func @filled_then_read
// CHECK: linalg.fill
// CHECK: memref.copy
// CHECK: gpu.launch
// CHECK: memref.load %{{.*}} : memref<4xf32>
func.func @filled_then_read(%x: memref<4x?xf32>, %y: memref<4xf32>) {
  %zero = arith.constant 0.0 : f32
  %out = memref.alloc() : memref<4xf32>
  linalg.fill ins(%zero : f32) outs(%out : memref<4xf32>)
  memref.copy %out, %y : memref<4xf32> to memref<4xf32>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>,
                                   affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x?xf32>) outs(%out : memref<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %acc, %a : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Fill and reduction in a branch (as lm-map-projections-to-gpu leaves
// them), the buffer read after the branch: nothing sees it between the fill
// and the reduction, so the fill still folds. A view of the buffer read in
// between would stop it (the second function).
// CHECK-LABEL: func.func @filled_in_branch
// CHECK: scf.if
// CHECK: } else {
// CHECK-NOT: linalg.fill
// CHECK: gpu.launch
// CHECK: memref.copy
// CHECK-LABEL: func.func @view_read_between
// CHECK: linalg.fill
// CHECK: memref.load %{{.*}}[%c0] : memref<2xf32, strided<[1], offset: 2>>
// CHECK: gpu.launch
func.func @filled_in_branch(%x: memref<4x?xf32>, %y: memref<4xf32>, %c: i1) {
  %zero = arith.constant 0.0 : f32
  %out = memref.alloc() : memref<4xf32>
  scf.if %c {
    memref.copy %y, %out : memref<4xf32> to memref<4xf32>
  } else {
    linalg.fill ins(%zero : f32) outs(%out : memref<4xf32>)
    linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>,
                                     affine_map<(i, j) -> (i)>],
                    iterator_types = ["parallel", "reduction"]}
        ins(%x : memref<4x?xf32>) outs(%out : memref<4xf32>) {
    ^bb0(%a: f32, %acc: f32):
      %r = arith.addf %acc, %a : f32
      linalg.yield %r : f32
    }
  }
  memref.copy %out, %y : memref<4xf32> to memref<4xf32>
  return
}
func.func @view_read_between(%x: memref<4x?xf32>, %y: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %out = memref.alloc() : memref<4xf32>
  linalg.fill ins(%zero : f32) outs(%out : memref<4xf32>)
  %view = memref.subview %out[2] [2] [1] : memref<4xf32> to memref<2xf32, strided<[1], offset: 2>>
  %v = memref.load %view[%c0] : memref<2xf32, strided<[1], offset: 2>>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>,
                                   affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x?xf32>) outs(%out : memref<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %acc, %a : f32
    linalg.yield %r : f32
  }
  memref.copy %out, %y : memref<4xf32> to memref<4xf32>
  return %v : f32
}

// -----

// The output is a window of an argument (a cache written in place by
// lm-elide-copies): the fill folds. Another view of the same argument
// written in between (the window itself or not) keeps it.
// CHECK-LABEL: func.func @filled_window
// CHECK-NOT: linalg.fill
// CHECK: gpu.launch
// CHECK-LABEL: func.func @sibling_written_between
// CHECK: linalg.fill
// CHECK: memref.store
// CHECK: gpu.launch
func.func @filled_window(%x: memref<4x?xf32>, %cache: memref<16xf32>, %start: index) {
  %zero = arith.constant 0.0 : f32
  %window = memref.subview %cache[%start] [4] [1] : memref<16xf32> to memref<4xf32, strided<[1], offset: ?>>
  linalg.fill ins(%zero : f32) outs(%window : memref<4xf32, strided<[1], offset: ?>>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>,
                                   affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x?xf32>) outs(%window : memref<4xf32, strided<[1], offset: ?>>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %acc, %a : f32
    linalg.yield %r : f32
  }
  return
}
func.func @sibling_written_between(%x: memref<4x?xf32>, %cache: memref<16xf32>, %start: index) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %window = memref.subview %cache[%start] [4] [1] : memref<16xf32> to memref<4xf32, strided<[1], offset: ?>>
  linalg.fill ins(%zero : f32) outs(%window : memref<4xf32, strided<[1], offset: ?>>)
  %head = memref.subview %cache[0] [4] [1] : memref<16xf32> to memref<4xf32, strided<[1]>>
  memref.store %one, %head[%c0] : memref<4xf32, strided<[1]>>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>,
                                   affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x?xf32>) outs(%window : memref<4xf32, strided<[1], offset: ?>>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %acc, %a : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Attention's scale and mask rewrite the scores in place right after the
// contraction: lane 0 applies them to the value it stores (the position
// read at the element's indices, linalg.index as the output indices) and
// their kernel goes. An elementwise op reading another element of the
// output is left alone (the second function).
// CHECK-LABEL: func.func @masked_scores
// CHECK: gpu.launch
// CHECK: arith.cmpi eq
// CHECK-NEXT: scf.if
// CHECK-NEXT: %[[SUM:.*]] = arith.addf %{{.*}}, %{{.*}} : f32
// CHECK:   %[[POS:.*]] = memref.load %arg2[%[[Q:.*]]] : memref<?xi64>
// CHECK:   %[[C:.*]] = arith.index_cast %[[COL:.*]] : index to i64
// CHECK:   %[[CAUSAL:.*]] = arith.cmpi sle, %[[C]], %[[POS]]
// CHECK:   %[[MASKED:.*]] = arith.select %[[CAUSAL]], %[[SUM]], %{{.*}}
// CHECK:   memref.store %[[MASKED]], %arg3[%[[Q]], %[[COL]]]
// CHECK-NOT: linalg.generic
// CHECK-LABEL: func.func @reads_neighbour
// CHECK: gpu.launch
// CHECK: linalg.generic
func.func @masked_scores(%q: memref<?x8xf32>, %k: memref<?x8xf32>, %pos: memref<?xi64>, %s: memref<?x?xf32>) {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  linalg.fill ins(%zero : f32) outs(%s : memref<?x?xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j, d) -> (i, d)>,
                                   affine_map<(i, j, d) -> (j, d)>,
                                   affine_map<(i, j, d) -> (i, j)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%q, %k : memref<?x8xf32>, memref<?x8xf32>) outs(%s : memref<?x?xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>,
                                   affine_map<(i, j) -> (i)>,
                                   affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%s, %pos : memref<?x?xf32>, memref<?xi64>) outs(%s : memref<?x?xf32>) {
  ^bb0(%v: f32, %p: i64, %o: f32):
    %j = linalg.index 1 : index
    %c = arith.index_cast %j : index to i64
    %causal = arith.cmpi sle, %c, %p : i64
    %r = arith.select %causal, %v, %ninf : f32
    linalg.yield %r : f32
  }
  return
}
func.func @reads_neighbour(%q: memref<4x8xf32>, %s: memref<4x4xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j, d) -> (i, d)>,
                                   affine_map<(i, j, d) -> (j, d)>,
                                   affine_map<(i, j, d) -> (i, j)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%q, %q : memref<4x8xf32>, memref<4x8xf32>) outs(%s : memref<4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (j, i)>,
                                   affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%s : memref<4x4xf32>) outs(%s : memref<4x4xf32>) {
  ^bb0(%v: f32, %o: f32):
    %r = arith.addf %v, %o : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// RMSNorm as it lowers: the sum of squares over a row (from a zero fill),
// then an elementwise generic reading the row's sum broadcast (through the
// reduction's output map) and the same input through the same map. The warp
// that reduced the row writes its normalised elements (every lane holds
// the sum after the butterfly), as many per loop trip as the reduction
// takes (64 = two warp widths: two; their loads first, then the arithmetic,
// then the stores), and the second kernel goes. The output view, made
// between them on the host, moves before the launch.
// CHECK-LABEL: func.func @norm_row
// CHECK: %[[OUT:.*]] = memref.view
// CHECK: gpu.launch
// CHECK:   %[[LANE:.*]] = arith.remui %{{.*}}, %c32
// CHECK:   scf.for %[[K:.*]] = %[[LANE]] to %c64{{.*}} step %c64
// CHECK:   gpu.shuffle  xor %{{.*}}, %c1
// CHECK:   scf.if
// CHECK:     memref.store %{{.*}}, %arg1
// CHECK:   }
// CHECK:   %[[TOTAL:.*]] = arith.addf %cst, %{{.*}}
// CHECK:   scf.for %[[J:.*]] = %[[LANE]] to %c64{{.*}} step %c64
// CHECK:     memref.load %arg0
// CHECK:     memref.load %arg2
// CHECK:     memref.load %arg0
// CHECK:     memref.load %arg2
// CHECK:     %[[MEAN:.*]] = arith.divf %[[TOTAL]]
// CHECK:     math.rsqrt
// CHECK:     arith.truncf
// CHECK:     arith.truncf
// CHECK-NEXT: memref.store %{{.*}}, %[[OUT]]
// CHECK-NEXT: memref.store %{{.*}}, %[[OUT]]
// CHECK: return
// CHECK-NOT: linalg.generic
func.func @norm_row(%x: memref<?x64xf32>, %sums: memref<?xf32>, %w: memref<64xbf16>, %arena: memref<?xi8>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 64.0 : f32
  %eps = arith.constant 1.0e-6 : f32
  %rows = memref.dim %x, %c0 : memref<?x64xf32>
  linalg.fill ins(%zero : f32) outs(%sums : memref<?xf32>)
  linalg.generic {indexing_maps = [affine_map<(r, k) -> (r, k)>, affine_map<(r, k) -> (r)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<?x64xf32>) outs(%sums : memref<?xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sq = arith.mulf %a, %a : f32
    %s = arith.addf %sq, %acc : f32
    linalg.yield %s : f32
  }
  %out = memref.view %arena[%c0][%rows] : memref<?xi8> to memref<?x64xbf16>
  linalg.generic {indexing_maps = [affine_map<(r, k) -> (r, k)>, affine_map<(r, k) -> (r)>,
                                   affine_map<(r, k) -> (k)>, affine_map<(r, k) -> (r, k)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x, %sums, %w : memref<?x64xf32>, memref<?xf32>, memref<64xbf16>) outs(%out : memref<?x64xbf16>) {
  ^bb0(%a: f32, %s: f32, %g: bf16, %o: bf16):
    %mean = arith.divf %s, %n : f32
    %v = arith.addf %mean, %eps : f32
    %inv = math.rsqrt %v : f32
    %y = arith.mulf %a, %inv : f32
    %ge = arith.extf %g : bf16 to f32
    %z = arith.mulf %y, %ge : f32
    %t = arith.truncf %z : f32 to bf16
    linalg.yield %t : bf16
  }
  return
}

// -----

// Not row consumers: a consumer that writes the reduced input in place
// (what the reduction reads), and one after a reduction that starts from the
// output rather than a fill (lanes other than the first would read the
// output while lane 0 writes it). Both stay generics.
// CHECK-LABEL: func.func @not_row_consumers
// CHECK: gpu.launch
// CHECK: linalg.generic
// CHECK: gpu.launch
// CHECK: linalg.generic
func.func @not_row_consumers(%x: memref<?x64xf32>, %sums: memref<?xf32>, %y: memref<?x64xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%sums : memref<?xf32>)
  linalg.generic {indexing_maps = [affine_map<(r, k) -> (r, k)>, affine_map<(r, k) -> (r)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<?x64xf32>) outs(%sums : memref<?xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(r, k) -> (r, k)>, affine_map<(r, k) -> (r)>,
                                   affine_map<(r, k) -> (r, k)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x, %sums : memref<?x64xf32>, memref<?xf32>) outs(%x : memref<?x64xf32>) {
  ^bb0(%a: f32, %s: f32, %o: f32):
    %d = arith.subf %a, %s : f32
    linalg.yield %d : f32
  }
  linalg.generic {indexing_maps = [affine_map<(r, k) -> (r, k)>, affine_map<(r, k) -> (r)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<?x64xf32>) outs(%sums : memref<?xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(r, k) -> (r, k)>, affine_map<(r, k) -> (r)>,
                                   affine_map<(r, k) -> (r, k)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x, %sums : memref<?x64xf32>, memref<?xf32>) outs(%y : memref<?x64xf32>) {
  ^bb0(%a: f32, %s: f32, %o: f32):
    %d = arith.subf %a, %s : f32
    linalg.yield %d : f32
  }
  return
}

// -----

// A row consumer that gathers from the reduced input (a norm's scaling
// inlined into its rotary embedding, which reads each channel's partner,
// lm-fuse-elementwise): the warp that reduced the row rotates it, the
// partner loaded from the input, which nothing writes. One that gathers
// from the reduction's result (lane 0 stores it while the others would
// load it) stays a generic.
// CHECK-LABEL: func.func @gathering_row
// CHECK:       gpu.launch
// CHECK:         gpu.shuffle  xor %{{.*}}, %c1
// CHECK:         scf.for
// CHECK:           %[[PARTNER:.*]] = arith.xori
// CHECK:           memref.load %arg0[%{{.*}}, %[[PARTNER]]]
// CHECK:           math.rsqrt
// CHECK:           memref.store
// CHECK-NOT:   linalg.generic
// CHECK:       gpu.launch
// CHECK:       linalg.generic
// CHECK:         memref.load %arg3
// CHECK:       return
func.func @gathering_row(%x: memref<?x64xf32>, %sums: memref<?xf32>, %y: memref<?x64xf32>,
                         %sums2: memref<?xf32>, %z: memref<?x64xf32>) {
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 64.0 : f32
  %c1 = arith.constant 1 : index
  linalg.fill ins(%zero : f32) outs(%sums : memref<?xf32>)
  linalg.generic {indexing_maps = [affine_map<(r, k) -> (r, k)>, affine_map<(r, k) -> (r)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<?x64xf32>) outs(%sums : memref<?xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sq = arith.mulf %a, %a : f32
    %s = arith.addf %sq, %acc : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(r, k) -> (r, k)>, affine_map<(r, k) -> (r)>,
                                   affine_map<(r, k) -> (r, k)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x, %sums : memref<?x64xf32>, memref<?xf32>) outs(%y : memref<?x64xf32>) {
  ^bb0(%a: f32, %s: f32, %o: f32):
    %r = linalg.index 0 : index
    %k = linalg.index 1 : index
    %partner = arith.xori %k, %c1 : index
    %b = memref.load %x[%r, %partner] : memref<?x64xf32>
    %mean = arith.divf %s, %n : f32
    %inv = math.rsqrt %mean : f32
    %d = arith.subf %a, %b : f32
    %v = arith.mulf %d, %inv : f32
    linalg.yield %v : f32
  }
  linalg.fill ins(%zero : f32) outs(%sums2 : memref<?xf32>)
  linalg.generic {indexing_maps = [affine_map<(r, k) -> (r, k)>, affine_map<(r, k) -> (r)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<?x64xf32>) outs(%sums2 : memref<?xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(r, k) -> (r, k)>, affine_map<(r, k) -> (r)>,
                                   affine_map<(r, k) -> (r, k)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x, %sums2 : memref<?x64xf32>, memref<?xf32>) outs(%z : memref<?x64xf32>) {
  ^bb0(%a: f32, %s: f32, %o: f32):
    %r = linalg.index 0 : index
    %first = arith.constant 0 : index
    %t = memref.load %sums2[%first] : memref<?xf32>
    %d = arith.subf %a, %s : f32
    %v = arith.addf %d, %t : f32
    linalg.yield %v : f32
  }
  return
}
