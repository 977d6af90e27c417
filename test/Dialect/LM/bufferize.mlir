// RUN: lmc-opt %s --split-input-file --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" | FileCheck %s

// Kernel ops bufferize to their operands' buffers, the inits written in
// place. lm.tiled_linear reads its input through a tensor map, which
// describes buffers of the identity layout only: a view (a slice of a
// wider row) is copied into one first; a whole buffer is read as it is.
// Other kernel ops read views as they are.
// CHECK-LABEL: func.func @tiled_view(
// CHECK-SAME:    %[[X:[^:]*]]: memref<?x128xbf16>, %[[W:[^:]*]]: memref<32x64xbf16>, %[[O:[^:]*]]: memref<?x32xf32>
// CHECK:   %[[VIEW:.*]] = memref.subview %[[X]][0, 64] [%{{.*}}, 64] [1, 1] : memref<?x128xbf16> to memref<?x64xbf16, strided<[128, 1], offset: 64>>
// CHECK:   %[[COPY:.*]] = memref.alloc(%{{.*}}) {{.*}}: memref<?x64xbf16>
// CHECK:   memref.copy %[[VIEW]], %[[COPY]]
// CHECK:   lm.tiled_linear %[[COPY]], %[[W]] outs(%[[O]]) : (memref<?x64xbf16>, memref<32x64xbf16>, memref<?x32xf32>) -> ()
// CHECK:   lm.tiled_linear %[[X]], %{{.*}} outs(%{{.*}}) : (memref<?x128xbf16>,
// CHECK:   lm.streamed_linear %[[VIEW]], %[[W]]
func.func @tiled_view(%x: tensor<?x128xbf16>, %w: tensor<32x64xbf16>, %o: tensor<?x32xf32>,
                      %w2: tensor<32x128xbf16>, %o2: tensor<?x32xf32>, %o3: tensor<?x32xf32>)
    -> (tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>) {
  %c0 = arith.constant 0 : index
  %rows = tensor.dim %x, %c0 : tensor<?x128xbf16>
  %half = tensor.extract_slice %x[0, 64] [%rows, 64] [1, 1] : tensor<?x128xbf16> to tensor<?x64xbf16>
  %y = lm.tiled_linear %half, %w outs(%o)
      : (tensor<?x64xbf16>, tensor<32x64xbf16>, tensor<?x32xf32>) -> tensor<?x32xf32>
  %z = lm.tiled_linear %x, %w2 outs(%o2)
      : (tensor<?x128xbf16>, tensor<32x128xbf16>, tensor<?x32xf32>) -> tensor<?x32xf32>
  %s = lm.streamed_linear %half, %w outs(%o3) {row_group = 4 : i64, warps = 8 : i64}
      : (tensor<?x64xbf16>, tensor<32x64xbf16>, tensor<?x32xf32>) -> tensor<?x32xf32>
  return %y, %z, %s : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>
}
