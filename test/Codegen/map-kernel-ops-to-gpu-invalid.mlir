// RUN: lmc-opt %s --lm-map-kernel-ops-to-gpu -verify-diagnostics --split-input-file

// A kernel op still on tensors: bufferization has not run.
func.func @tensors(%q: tensor<?x1x4x16xf32>, %k: tensor<?x?x2x16xf32>,
                   %v: tensor<?x?x2x16xf32>, %pos: tensor<?x1xi64>,
                   %p: tensor<?x4x?x18xf32>, %o: tensor<?x1x4x16xf32>) -> tensor<?x1x4x16xf32> {
  // expected-error @+1 {{expected a bufferized kernel op (memref operands)}}
  %r:2 = lm.flash_decode %q, %k, %v, %pos partials(%p) outs(%o)
      {scale = 0.25 : f64, warps = 8 : i64}
      : (tensor<?x1x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>,
         tensor<?x1xi64>, tensor<?x4x?x18xf32>, tensor<?x1x4x16xf32>)
      -> (tensor<?x4x?x18xf32>, tensor<?x1x4x16xf32>)
  return %r#1 : tensor<?x1x4x16xf32>
}

// -----

func.func @streamed_tensors(%x: tensor<?x1x64xf32>, %w: tensor<32x64xf32>,
                            %o: tensor<?x1x32xf32>) -> tensor<?x1x32xf32> {
  // expected-error @+1 {{expected a bufferized kernel op (memref operands)}}
  %r = lm.streamed_linear %x, %w outs(%o) {row_group = 4 : i64, warps = 8 : i64}
      : (tensor<?x1x64xf32>, tensor<32x64xf32>, tensor<?x1x32xf32>) -> tensor<?x1x32xf32>
  return %r : tensor<?x1x32xf32>
}
