// RUN: lmc-opt %s --pass-pipeline='builtin.module(func.func(lm-lower-strided-copies))' | FileCheck %s

// CHECK-LABEL: func.func @copies
// A copy into a strided view becomes linalg.copy; a contiguous one stays.
// CHECK: linalg.copy ins(%{{.*}} : memref<2x4xf32>) outs(%{{.*}} : memref<2x4xf32, strided<[8, 1], offset: 4>>)
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<2x4xf32> to memref<2x4xf32>
func.func @copies(%a: memref<2x4xf32>, %b: memref<2x8xf32>, %c: memref<2x4xf32>) {
  %v = memref.subview %b[0, 4] [2, 4] [1, 1] : memref<2x8xf32> to memref<2x4xf32, strided<[8, 1], offset: 4>>
  memref.copy %a, %v : memref<2x4xf32> to memref<2x4xf32, strided<[8, 1], offset: 4>>
  memref.copy %a, %c : memref<2x4xf32> to memref<2x4xf32>
  return
}
