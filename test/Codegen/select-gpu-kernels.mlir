// RUN: lmc-opt %s --lm-select-gpu-kernels --split-input-file | FileCheck %s
// RUN: lmc-opt %s --lm-select-gpu-kernels --lm-select-gpu-kernels --split-input-file | FileCheck %s --check-prefix=TWICE

// Qwen3-0.6B's attention (16 query heads over 8 kv heads, head dims 128),
// with GPT-OSS's sinks and sliding window: at one token per sequence it
// runs as flash decoding, in min(ceil(4 * 132 SMs / (B * 8)), ceil(S / 32))
// splits (at least one); prompts keep lm.attention.
// CHECK-LABEL: func.func @gqa(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<?x?x16x128xf32>, %[[K:[^:]*]]: tensor<?x?x8x128xf32>, %[[V:[^:]*]]: tensor<?x?x8x128xf32>, %[[POS:[^:]*]]: tensor<?x?xi64>, %[[SINKS:[^:]*]]: tensor<16xf32>)
// CHECK:   %[[T:.*]] = tensor.dim %[[Q]], %c1
// CHECK:   %[[DECODE:.*]] = arith.cmpi eq, %[[T]], %c1
// CHECK:   %[[R:.*]] = scf.if %[[DECODE]] -> (tensor<?x?x16x128xf32>) {
// CHECK:     %[[B:.*]] = tensor.dim %[[Q]], %c0
// CHECK:     %[[S:.*]] = tensor.dim %[[K]], %c1
// CHECK:     %[[BLOCKS:.*]] = arith.muli %[[B]], %c8
// CHECK:     %[[COVER:.*]] = arith.ceildivui %c528, %[[BLOCKS]]
// CHECK:     %[[MOST:.*]] = arith.ceildivui %[[S]], %c32
// CHECK:     %[[FEWER:.*]] = arith.minui %[[COVER]], %[[MOST]]
// CHECK:     %[[SPLITS:.*]] = arith.maxui %[[FEWER]], %c1
// CHECK:     %[[P:.*]] = tensor.empty(%[[B]], %[[SPLITS]]) : tensor<?x16x?x130xf32>
// CHECK:     %[[INIT:.*]] = tensor.empty(%[[B]], %[[T]]) : tensor<?x?x16x128xf32>
// CHECK:     %[[FD:.*]]:2 = lm.flash_decode %[[Q]], %[[K]], %[[V]], %[[POS]] sinks %[[SINKS]] partials(%[[P]]) outs(%[[INIT]]) {scale = 1.250000e-01 : f64, sliding_window = 128 : i64, warps = 8 : i64}
// CHECK:     scf.yield %[[FD]]#1
// CHECK:   } else {
// CHECK:     %[[A:.*]] = lm.attention %[[Q]], %[[K]], %[[V]], %[[POS]] sinks %[[SINKS]] {scale = 1.250000e-01 : f64, sliding_window = 128 : i64}
// CHECK:     scf.yield %[[A]]
// CHECK:   return %[[R]]
func.func @gqa(%q: tensor<?x?x16x128xf32>, %k: tensor<?x?x8x128xf32>,
               %v: tensor<?x?x8x128xf32>, %pos: tensor<?x?xi64>,
               %sinks: tensor<16xf32>) -> tensor<?x?x16x128xf32> {
  %o = lm.attention %q, %k, %v, %pos sinks %sinks {scale = 0.125 : f64, sliding_window = 128 : i64}
     : (tensor<?x?x16x128xf32>, tensor<?x?x8x128xf32>, tensor<?x?x8x128xf32>,
        tensor<?x?xi64>, tensor<16xf32>) -> tensor<?x?x16x128xf32>
  return %o : tensor<?x?x16x128xf32>
}

// -----

// A chunked layer (Llama 4) of head dim 16 (the goldens': half a warp's
// lanes hold an element); selecting again leaves the prompt branch alone.
// CHECK-LABEL: func.func @twice(
// CHECK:         lm.flash_decode {{.*}} {chunk_size = 8192 : i64, scale = 1.250000e-01 : f64, warps = 8 : i64}
// TWICE-LABEL: func.func @twice(
// TWICE:         lm.flash_decode
// TWICE-NOT:     lm.flash_decode
// TWICE:         lm.attention
// TWICE-NOT:     lm.attention
// TWICE:         return
func.func @twice(%q: tensor<?x?x4x16xf32>, %k: tensor<?x?x4x16xf32>,
                 %v: tensor<?x?x4x16xf32>, %pos: tensor<?x?xi64>) -> tensor<?x?x4x16xf32> {
  %o = lm.attention %q, %k, %v, %pos {scale = 0.125 : f64, chunk_size = 8192 : i64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x16xf32>
  return %o : tensor<?x?x4x16xf32>
}

// -----

// Refused, left as they are: 64 query heads on one kv head of 128 (a lane
// would hold 8 x 64 values); 4 heads on one kv head of value dim 512 (the
// block's combine would take 8 x 4 x 514 x 4 bytes of shared memory); a
// bf16 result.
// CHECK-LABEL: func.func @refused(
// CHECK-NOT:   lm.flash_decode
// CHECK-NOT:   scf.if
// CHECK-COUNT-3: lm.attention
func.func @refused(%pos: tensor<?x?xi64>,
                   %mq: tensor<?x?x64x128xf32>, %mk: tensor<?x?x1x128xf32>,
                   %wq: tensor<?x?x4x512xf32>, %wk: tensor<?x?x1x512xf32>,
                   %bq: tensor<?x?x4x64xbf16>, %bk: tensor<?x?x4x64xbf16>)
    -> (tensor<?x?x64x128xf32>, tensor<?x?x4x512xf32>, tensor<?x?x4x64xbf16>) {
  %a = lm.attention %mq, %mk, %mk, %pos {scale = 0.125 : f64}
     : (tensor<?x?x64x128xf32>, tensor<?x?x1x128xf32>, tensor<?x?x1x128xf32>, tensor<?x?xi64>)
     -> tensor<?x?x64x128xf32>
  %b = lm.attention %wq, %wk, %wk, %pos {scale = 0.125 : f64}
     : (tensor<?x?x4x512xf32>, tensor<?x?x1x512xf32>, tensor<?x?x1x512xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x512xf32>
  %c = lm.attention %bq, %bk, %bk, %pos {scale = 0.125 : f64}
     : (tensor<?x?x4x64xbf16>, tensor<?x?x4x64xbf16>, tensor<?x?x4x64xbf16>, tensor<?x?xi64>)
     -> tensor<?x?x4x64xbf16>
  return %a, %b, %c : tensor<?x?x64x128xf32>, tensor<?x?x4x512xf32>, tensor<?x?x4x64xbf16>
}
