// RUN: lmc-opt %s --lm-map-kernel-ops-to-gpu -verify-diagnostics

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
