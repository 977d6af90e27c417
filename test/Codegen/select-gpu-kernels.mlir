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

// -----

// Qwen3-0.6B's attention input under --dtype bf16: the norm, rounded to
// bf16, feeds the q, k and v projections (k with a bias). Below 16 rows
// (B * T) each is an lm.streamed_linear with the norm as its prologue,
// writing an output allocated before the choice; otherwise the norm and
// the linears, their results materialised in the same outputs. Selecting
// again leaves the generic branch alone.
// CHECK-LABEL: func.func @qkv(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x?x1024xf32>, %[[NW:[^:]*]]: tensor<1024xbf16>, %[[WQ:[^:]*]]: tensor<2048x1024xbf16>, %[[WK:[^:]*]]: tensor<1024x1024xbf16>, %[[BK:[^:]*]]: tensor<1024xbf16>, %[[WV:[^:]*]]: tensor<1024x1024xbf16>)
// CHECK:   %[[B:.*]] = tensor.dim %[[X]], %c0
// CHECK:   %[[T:.*]] = tensor.dim %[[X]], %c1
// CHECK:   %[[ROWS:.*]] = arith.muli %[[B]], %[[T]]
// CHECK:   %[[FEW:.*]] = arith.cmpi ult, %[[ROWS]], %c16
// CHECK:   %[[IQ:.*]] = bufferization.alloc_tensor(%[[B]], %[[T]]) : tensor<?x?x2048xf32>
// CHECK:   %[[IK:.*]] = bufferization.alloc_tensor(%[[B]], %[[T]]) : tensor<?x?x1024xf32>
// CHECK:   %[[IV:.*]] = bufferization.alloc_tensor(%[[B]], %[[T]]) : tensor<?x?x1024xf32>
// CHECK:   %[[R:.*]]:3 = scf.if %[[FEW]] -> (tensor<?x?x2048xf32>, tensor<?x?x1024xf32>, tensor<?x?x1024xf32>) {
// CHECK:     %[[Q:.*]] = lm.streamed_linear %[[X]], %[[WQ]] norm(%[[NW]]) outs(%[[IQ]]) {epsilon = 9.9999999999999995E-7 : f64, row_group = 4 : i64, warps = 8 : i64}
// CHECK:     %[[K:.*]] = lm.streamed_linear %[[X]], %[[WK]] bias %[[BK]] norm(%[[NW]]) outs(%[[IK]])
// CHECK:     %[[V:.*]] = lm.streamed_linear %[[X]], %[[WV]] norm(%[[NW]]) outs(%[[IV]])
// CHECK:     scf.yield %[[Q]], %[[K]], %[[V]]
// CHECK:   } else {
// CHECK:     %[[N:.*]] = lm.rms_norm %[[X]], %[[NW]]
// CHECK:     %[[NB:.*]] = arith.truncf %[[N]] : tensor<?x?x1024xf32> to tensor<?x?x1024xbf16>
// CHECK:     %[[GQ:.*]] = lm.linear %[[NB]], %[[WQ]] :
// CHECK:     %[[MQ:.*]] = bufferization.materialize_in_destination %[[GQ]] in %[[IQ]]
// CHECK:     %[[GK:.*]] = lm.linear %[[NB]], %[[WK]], %[[BK]] :
// CHECK:     %[[MK:.*]] = bufferization.materialize_in_destination %[[GK]] in %[[IK]]
// CHECK:     %[[GV:.*]] = lm.linear %[[NB]], %[[WV]] :
// CHECK:     %[[MV:.*]] = bufferization.materialize_in_destination %[[GV]] in %[[IV]]
// CHECK:     scf.yield %[[MQ]], %[[MK]], %[[MV]]
// CHECK:   return %[[R]]#0, %[[R]]#1, %[[R]]#2
// TWICE-LABEL: func.func @qkv(
// TWICE-COUNT-3: lm.streamed_linear
// TWICE-NOT:     lm.streamed_linear
// TWICE:         lm.rms_norm
// TWICE-NOT:     lm.rms_norm
// TWICE:         return
func.func @qkv(%x: tensor<?x?x1024xf32>, %nw: tensor<1024xbf16>,
               %wq: tensor<2048x1024xbf16>, %wk: tensor<1024x1024xbf16>,
               %bk: tensor<1024xbf16>, %wv: tensor<1024x1024xbf16>)
    -> (tensor<?x?x2048xf32>, tensor<?x?x1024xf32>, tensor<?x?x1024xf32>) {
  %n = lm.rms_norm %x, %nw {epsilon = 1.0e-06 : f64} : tensor<?x?x1024xf32>, tensor<1024xbf16> -> tensor<?x?x1024xf32>
  %r = arith.truncf %n : tensor<?x?x1024xf32> to tensor<?x?x1024xbf16>
  %q = lm.linear %r, %wq : tensor<?x?x1024xbf16>, tensor<2048x1024xbf16> -> tensor<?x?x2048xf32>
  %k = lm.linear %r, %wk, %bk : tensor<?x?x1024xbf16>, tensor<1024x1024xbf16>, tensor<1024xbf16> -> tensor<?x?x1024xf32>
  %v = lm.linear %r, %wv : tensor<?x?x1024xbf16>, tensor<1024x1024xbf16> -> tensor<?x?x1024xf32>
  return %q, %k, %v : tensor<?x?x2048xf32>, tensor<?x?x1024xf32>, tensor<?x?x1024xf32>
}

// -----

// f32: the final norm (zero-centred, as Gemma 3's) and the LM head.
// CHECK-LABEL: func.func @head(
// CHECK:   scf.if
// CHECK:     lm.streamed_linear %{{.*}}, %{{.*}} norm(%{{.*}}) outs(%{{.*}}) {epsilon = 9.9999999999999995E-7 : f64, row_group = 4 : i64, warps = 8 : i64, weight_offset = 1.000000e+00 : f64} : (tensor<?x?x64xf32>, tensor<256x64xf32>, tensor<64xf32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
// CHECK:   } else {
// CHECK:     lm.rms_norm
// CHECK-NOT: arith.truncf
// CHECK:     lm.linear
func.func @head(%x: tensor<?x?x64xf32>, %nw: tensor<64xf32>, %w: tensor<256x64xf32>) -> tensor<?x?x256xf32> {
  %n = lm.rms_norm %x, %nw {epsilon = 1.0e-06 : f64, weight_offset = 1.0 : f64} : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
  %y = lm.linear %n, %w : tensor<?x?x64xf32>, tensor<256x64xf32> -> tensor<?x?x256xf32>
  return %y : tensor<?x?x256xf32>
}

// -----

// Left alone: a norm whose result a router reads too (an MoE layer's), a
// weight read through a transpose, a per-head norm read by no projection
// (Qwen3's q norm).
// CHECK-LABEL: func.func @not_streamed(
// CHECK-NOT:   scf.if
// CHECK-NOT:   lm.streamed_linear
func.func @not_streamed(%x: tensor<?x?x64xf32>, %nw: tensor<64xf32>, %w: tensor<32x64xf32>,
                        %wt: tensor<64x32xf32>, %q: tensor<?x?x4x16xf32>, %qw: tensor<16xf32>)
    -> (tensor<?x?x32xf32>, tensor<?x?x64xf32>, tensor<?x?x32xf32>, tensor<?x?x4x16xf32>) {
  %n = lm.rms_norm %x, %nw {epsilon = 1.0e-06 : f64} : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
  %y = lm.linear %n, %w : tensor<?x?x64xf32>, tensor<32x64xf32> -> tensor<?x?x32xf32>
  %m = lm.rms_norm %x, %nw {epsilon = 1.0e-06 : f64} : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
  %t = lm.transpose %wt [1, 0] : tensor<64x32xf32> -> tensor<32x64xf32>
  %z = lm.linear %m, %t : tensor<?x?x64xf32>, tensor<32x64xf32> -> tensor<?x?x32xf32>
  %qn = lm.rms_norm %q, %qw {epsilon = 1.0e-06 : f64} : tensor<?x?x4x16xf32>, tensor<16xf32> -> tensor<?x?x4x16xf32>
  return %y, %n, %z, %qn : tensor<?x?x32xf32>, tensor<?x?x64xf32>, tensor<?x?x32xf32>, tensor<?x?x4x16xf32>
}
