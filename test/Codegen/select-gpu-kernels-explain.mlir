// RUN: lmc-opt %s --lm-select-gpu-kernels="explain=true" -verify-diagnostics --split-input-file

// Why an op stays on the generic path, with explain=true: one remark per
// refused op; a claimed op gets none.

func.func @refused(%pos: tensor<?x?xi64>,
                   %mq: tensor<?x?x64x128xf32>, %mk: tensor<?x?x1x128xf32>,
                   %wq: tensor<?x?x4x512xf32>, %wk: tensor<?x?x1x512xf32>,
                   %bq: tensor<?x?x4x64xbf16>, %bk: tensor<?x?x4x64xbf16>)
    -> (tensor<?x?x64x128xf32>, tensor<?x?x4x512xf32>, tensor<?x?x4x64xbf16>) {
  // expected-remark @+1 {{no flash decoding: query-head group too large for a lane's registers}}
  %a = lm.attention %mq, %mk, %mk, %pos {scale = 0.125 : f64}
     : (tensor<?x?x64x128xf32>, tensor<?x?x1x128xf32>, tensor<?x?x1x128xf32>, tensor<?x?xi64>)
     -> tensor<?x?x64x128xf32>
  // expected-remark @+1 {{no flash decoding: block combine exceeds static shared memory}}
  %b = lm.attention %wq, %wk, %wk, %pos {scale = 0.125 : f64}
     : (tensor<?x?x4x512xf32>, tensor<?x?x1x512xf32>, tensor<?x?x1x512xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x512xf32>
  // expected-remark @+1 {{no flash decoding: not an f32 result}}
  %c = lm.attention %bq, %bk, %bk, %pos {scale = 0.125 : f64}
     : (tensor<?x?x4x64xbf16>, tensor<?x?x4x64xbf16>, tensor<?x?x4x64xbf16>, tensor<?x?xi64>)
     -> tensor<?x?x4x64xbf16>
  return %a, %b, %c : tensor<?x?x64x128xf32>, tensor<?x?x4x512xf32>, tensor<?x?x4x64xbf16>
}

// -----

func.func @claimed(%q: tensor<?x?x4x16xf32>, %k: tensor<?x?x2x16xf32>,
                   %v: tensor<?x?x2x16xf32>, %pos: tensor<?x?xi64>) -> tensor<?x?x4x16xf32> {
  %o = lm.attention %q, %k, %v, %pos {scale = 0.25 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x16xf32>
  return %o : tensor<?x?x4x16xf32>
}
