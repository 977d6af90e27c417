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

// The same attention with bf16 products (--dtype bf16): prompts run flash
// attention (4 warps), decode flash decoding, each writing a fresh init.
// CHECK-LABEL: func.func @gqa_bf16(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<?x?x16x128xf32>, %[[K:[^:]*]]: tensor<?x?x8x128xf32>, %[[V:[^:]*]]: tensor<?x?x8x128xf32>, %[[POS:[^:]*]]: tensor<?x?xi64>, %[[SINKS:[^:]*]]: tensor<16xf32>)
// CHECK:   %[[T:.*]] = tensor.dim %[[Q]], %c1
// CHECK:   %[[R:.*]] = scf.if %{{.*}} -> (tensor<?x?x16x128xf32>) {
// CHECK:     %[[FD:.*]]:2 = lm.flash_decode %[[Q]], %[[K]], %[[V]], %[[POS]] sinks %[[SINKS]] partials(%{{.*}}) outs(%{{.*}}) {bf16_products, scale = 1.250000e-01 : f64, sliding_window = 128 : i64, warps = 8 : i64}
// CHECK:     scf.yield %[[FD]]#1
// CHECK:   } else {
// CHECK:     %[[B:.*]] = tensor.dim %[[Q]], %c0
// CHECK:     %[[INIT:.*]] = tensor.empty(%[[B]], %[[T]]) : tensor<?x?x16x128xf32>
// CHECK:     %[[FA:.*]] = lm.flash_attention %[[Q]], %[[K]], %[[V]], %[[POS]] sinks %[[SINKS]] outs(%[[INIT]]) {scale = 1.250000e-01 : f64, sliding_window = 128 : i64, warps = 4 : i64}
// CHECK:     scf.yield %[[FA]]
// CHECK:   }
// CHECK-NOT: lm.attention
// CHECK:   return %[[R]]
// TWICE-LABEL: func.func @gqa_bf16(
// TWICE-COUNT-1: lm.flash_decode
// TWICE-COUNT-1: lm.flash_attention
// TWICE-NOT:     lm.attention
// TWICE:         return
func.func @gqa_bf16(%q: tensor<?x?x16x128xf32>, %k: tensor<?x?x8x128xf32>,
                    %v: tensor<?x?x8x128xf32>, %pos: tensor<?x?xi64>,
                    %sinks: tensor<16xf32>) -> tensor<?x?x16x128xf32> {
  %o = lm.attention %q, %k, %v, %pos sinks %sinks {bf16_products, scale = 0.125 : f64, sliding_window = 128 : i64}
     : (tensor<?x?x16x128xf32>, tensor<?x?x8x128xf32>, tensor<?x?x8x128xf32>,
        tensor<?x?xi64>, tensor<16xf32>) -> tensor<?x?x16x128xf32>
  return %o : tensor<?x?x16x128xf32>
}

// -----

// bf16 products where flash decoding refuses (64 query heads on one kv
// head: a lane would hold 8 x 64 values): flash attention alone serves
// every token count, no branch. Where flash attention refuses (value dim
// 256) flash decoding keeps the decode branch and prompts lm.attention.
// CHECK-LABEL: func.func @one_side(
// CHECK-NOT:   scf.if
// CHECK:       lm.flash_attention {{.*}} -> tensor<?x?x64x128xf32>
// CHECK:       scf.if
// CHECK:         lm.flash_decode
// CHECK:       } else {
// CHECK:         lm.attention {{.*}} -> tensor<?x?x4x256xf32>
func.func @one_side(%pos: tensor<?x?xi64>,
                    %mq: tensor<?x?x64x128xf32>, %mk: tensor<?x?x1x128xf32>,
                    %wq: tensor<?x?x4x256xf32>, %wk: tensor<?x?x1x256xf32>)
    -> (tensor<?x?x64x128xf32>, tensor<?x?x4x256xf32>) {
  %a = lm.attention %mq, %mk, %mk, %pos {bf16_products, scale = 0.125 : f64}
     : (tensor<?x?x64x128xf32>, tensor<?x?x1x128xf32>, tensor<?x?x1x128xf32>, tensor<?x?xi64>)
     -> tensor<?x?x64x128xf32>
  %b = lm.attention %wq, %wk, %wk, %pos {bf16_products, scale = 0.125 : f64}
     : (tensor<?x?x4x256xf32>, tensor<?x?x1x256xf32>, tensor<?x?x1x256xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x256xf32>
  return %a, %b : tensor<?x?x64x128xf32>, tensor<?x?x4x256xf32>
}

// -----

// Qwen3's attention under --dtype bf16, read only by o_proj's rounding of
// its merged heads: both kernels write bf16 (the rounding's values) into
// one output allocated before the choice, merge_heads collapses it and
// the rounding is gone: o_proj reads the heads as they are (streamed below
// 16 rows, unstaged). Where flash attention refuses (value dim 256), the
// generic branch rounds into the output.
// CHECK-LABEL: func.func @rounded_heads(
// CHECK:   %[[OUT:.*]] = bufferization.alloc_tensor(%{{.*}}, %{{.*}}) : tensor<?x?x16x128xbf16>
// CHECK:   %[[R:.*]] = scf.if %{{.*}} -> (tensor<?x?x16x128xbf16>) {
// CHECK:     lm.flash_decode {{.*}} outs(%[[OUT]]) {{.*}} -> (tensor<?x16x?x130xf32>, tensor<?x?x16x128xbf16>)
// CHECK:   } else {
// CHECK:     lm.flash_attention {{.*}} outs(%[[OUT]]) {{.*}} -> tensor<?x?x16x128xbf16>
// CHECK:   }
// CHECK:   %[[M:.*]] = lm.merge_heads %[[R]] : tensor<?x?x16x128xbf16> -> tensor<?x?x2048xbf16>
// CHECK-NOT: arith.truncf {{.*}} to tensor<?x?x2048xbf16>
// CHECK:   lm.streamed_linear %[[M]], %{{.*}} outs
// CHECK:   lm.linear %[[M]], %{{.*}} : tensor<?x?x2048xbf16>, tensor<1024x2048xbf16>
// CHECK:   %[[WOUT:.*]] = bufferization.alloc_tensor(%{{.*}}, %{{.*}}) : tensor<?x?x4x256xbf16>
// CHECK:   scf.if %{{.*}} -> (tensor<?x?x4x256xbf16>) {
// CHECK:     lm.flash_decode {{.*}} outs(%[[WOUT]]) {{.*}} -> (tensor<?x4x?x258xf32>, tensor<?x?x4x256xbf16>)
// CHECK:   } else {
// CHECK:     %[[G:.*]] = lm.attention
// CHECK:     %[[GR:.*]] = arith.truncf %[[G]] : tensor<?x?x4x256xf32> to tensor<?x?x4x256xbf16>
// CHECK:     %[[GM:.*]] = bufferization.materialize_in_destination %[[GR]] in %[[WOUT]]
// CHECK:     scf.yield %[[GM]]
// TWICE-LABEL: func.func @rounded_heads(
// TWICE-COUNT-1: lm.flash_attention
// TWICE-COUNT-1: lm.attention
// TWICE-NOT:     lm.attention
// TWICE:         return
func.func @rounded_heads(%q: tensor<?x?x16x128xf32>, %k: tensor<?x?x8x128xf32>,
                         %v: tensor<?x?x8x128xf32>, %pos: tensor<?x?xi64>,
                         %wo: tensor<1024x2048xbf16>,
                         %wq: tensor<?x?x4x256xf32>, %wk: tensor<?x?x1x256xf32>)
    -> (tensor<?x?x1024xf32>, tensor<?x?x1024xbf16>) {
  %o = lm.attention %q, %k, %v, %pos {bf16_products, scale = 0.088 : f64}
     : (tensor<?x?x16x128xf32>, tensor<?x?x8x128xf32>, tensor<?x?x8x128xf32>,
        tensor<?x?xi64>) -> tensor<?x?x16x128xf32>
  %m = lm.merge_heads %o : tensor<?x?x16x128xf32> -> tensor<?x?x2048xf32>
  %r = arith.truncf %m : tensor<?x?x2048xf32> to tensor<?x?x2048xbf16>
  %y = lm.linear %r, %wo : tensor<?x?x2048xbf16>, tensor<1024x2048xbf16> -> tensor<?x?x1024xf32>
  %w = lm.attention %wq, %wk, %wk, %pos {bf16_products, scale = 0.125 : f64}
     : (tensor<?x?x4x256xf32>, tensor<?x?x1x256xf32>, tensor<?x?x1x256xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x256xf32>
  %wm = lm.merge_heads %w : tensor<?x?x4x256xf32> -> tensor<?x?x1024xf32>
  %wr = arith.truncf %wm : tensor<?x?x1024xf32> to tensor<?x?x1024xbf16>
  return %y, %wr : tensor<?x?x1024xf32>, tensor<?x?x1024xbf16>
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
// CHECK:   %[[FEW:.*]] = arith.cmpi ult, %[[ROWS]], %c16{{.*}}
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
// CHECK:     %[[GK:.*]] = lm.linear %[[NB]], %[[WK]], %[[BK]] :
// CHECK:     %[[GV:.*]] = lm.linear %[[NB]], %[[WV]] :
// CHECK:     %[[MQ:.*]] = bufferization.materialize_in_destination %[[GQ]] in %[[IQ]]
// CHECK:     %[[MK:.*]] = bufferization.materialize_in_destination %[[GK]] in %[[IK]]
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

// A norm a router reads too (an MoE layer's): its projection streams the
// normalised value, without the norm. Left alone: a weight read through a
// transpose, a per-head norm read by no projection (Qwen3's q norm).
// CHECK-LABEL: func.func @not_normed(
// CHECK:       %[[N:.*]] = lm.rms_norm
// CHECK:       scf.if
// CHECK:         lm.streamed_linear %[[N]], %{{.*}} outs(%{{.*}}) {row_group = 4 : i64, warps = 8 : i64}
// CHECK:       } else {
// CHECK:         lm.linear %[[N]]
// CHECK:       lm.rms_norm
// CHECK-NOT:   scf.if
// CHECK-NOT:   lm.streamed_linear
// CHECK:       return
func.func @not_normed(%x: tensor<?x?x64xf32>, %nw: tensor<64xf32>, %w: tensor<32x64xf32>,
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

// -----

// Qwen3-0.6B's MLP under --dtype bf16, after the attention: o_proj reads
// the attention output (f32, rounded to bf16) and adds to the residual;
// the post-attention norm feeds gate and up (up first, as the importer
// writes them), whose SwiGLU is rounded to bf16 for down, which adds to
// the new residual. Below 16 rows: three lm.streamed_linear. o_proj
// stages its rounded rows and accumulates into the residual in place;
// gate/up takes the norm as its prologue and the SwiGLU as its epilogue,
// writing bf16; down reads that bf16 unstaged and accumulates. From 64
// rows: three lm.tiled_linear (the wgmma tile) reading the rounded input
// (the norm and the rounding before that choice), with the same
// epilogues: gate and up as one op writing the rounded SwiGLU. Between:
// the ops as they were, the rounded SwiGLU materialised in its output.
// CHECK-LABEL: func.func @mlp(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x?x1024xf32>, %[[A:[^:]*]]: tensor<?x?x2048xf32>, %[[WO:[^:]*]]: tensor<1024x2048xbf16>, %[[NW:[^:]*]]: tensor<1024xbf16>, %[[WU:[^:]*]]: tensor<3072x1024xbf16>, %[[WG:[^:]*]]: tensor<3072x1024xbf16>, %[[WD:[^:]*]]: tensor<1024x3072xbf16>)
// CHECK:   %[[ROWS:.*]] = arith.muli
// CHECK:   %[[FEW:.*]] = arith.cmpi ult, %[[ROWS]], %c16
// CHECK:   %[[H:.*]] = scf.if %[[FEW]] -> (tensor<?x?x1024xf32>) {
// CHECK:     %[[SO:.*]] = lm.streamed_linear %[[A]], %[[WO]] outs(%[[X]]) {accumulate, row_group = 4 : i64, warps = 8 : i64} : (tensor<?x?x2048xf32>, tensor<1024x2048xbf16>, tensor<?x?x1024xf32>) -> tensor<?x?x1024xf32>
// CHECK:     scf.yield %[[SO]]
// CHECK:   } else {
// CHECK:     %[[AR:.*]] = arith.truncf %[[A]]
// CHECK:     %[[MANY:.*]] = arith.cmpi uge, %[[ROWS]], %c64
// CHECK:     %[[HO:.*]] = scf.if %[[MANY]] -> (tensor<?x?x1024xf32>) {
// CHECK:       %[[TO:.*]] = lm.tiled_linear %[[AR]], %[[WO]] outs(%[[X]]) {accumulate} : (tensor<?x?x2048xbf16>, tensor<1024x2048xbf16>, tensor<?x?x1024xf32>) -> tensor<?x?x1024xf32>
// CHECK:       scf.yield %[[TO]]
// CHECK:     } else {
// CHECK:       %[[O:.*]] = lm.linear %[[AR]], %[[WO]]
// CHECK:       %[[XO:.*]] = arith.addf %[[X]], %[[O]]
// CHECK:       scf.yield %[[XO]]
// CHECK:     scf.yield %[[HO]]
// CHECK:   %[[IG:.*]] = bufferization.alloc_tensor(%{{.*}}, %{{.*}}) : tensor<?x?x3072xbf16>
// CHECK:   %[[G:.*]] = scf.if %{{.*}} -> (tensor<?x?x3072xbf16>) {
// CHECK:     %[[SG:.*]] = lm.streamed_linear %[[H]], %[[WG]] up(%[[WU]]) norm(%[[NW]]) outs(%[[IG]]) {epsilon = 9.9999999999999995E-7 : f64, glu = #lm.glu<swiglu>, row_group = 4 : i64, warps = 8 : i64}
// CHECK:     scf.yield %[[SG]]
// CHECK:   } else {
// CHECK:     %[[N:.*]] = lm.rms_norm %[[H]], %[[NW]]
// CHECK:     %[[NR:.*]] = arith.truncf %[[N]]
// CHECK:     scf.if %{{.*}} -> (tensor<?x?x3072xbf16>) {
// CHECK:       %[[TG:.*]] = lm.tiled_linear %[[NR]], %[[WG]] up(%[[WU]]) outs(%[[IG]]) {glu = #lm.glu<swiglu>} : (tensor<?x?x1024xbf16>, tensor<3072x1024xbf16>, tensor<3072x1024xbf16>, tensor<?x?x3072xbf16>) -> tensor<?x?x3072xbf16>
// CHECK:       scf.yield %[[TG]]
// CHECK:     } else {
// CHECK:       %[[U:.*]] = lm.linear %[[NR]], %[[WU]]
// CHECK:       %[[GA:.*]] = lm.linear %[[NR]], %[[WG]]
// CHECK:       %[[S:.*]] = lm.glu %[[GA]], %[[U]] {kind = #lm.glu<swiglu>}
// CHECK:       %[[SR:.*]] = arith.truncf %[[S]]
// CHECK:       %[[MG:.*]] = bufferization.materialize_in_destination %[[SR]] in %[[IG]]
// CHECK:       scf.yield %[[MG]]
// CHECK:   %[[Y:.*]] = scf.if %{{.*}} -> (tensor<?x?x1024xf32>) {
// CHECK:     lm.streamed_linear %[[G]], %[[WD]] outs(%[[H]]) {accumulate, row_group = 4 : i64, warps = 8 : i64} : (tensor<?x?x3072xbf16>, tensor<1024x3072xbf16>, tensor<?x?x1024xf32>) -> tensor<?x?x1024xf32>
// CHECK:   } else {
// CHECK:     scf.if
// CHECK:       lm.tiled_linear %[[G]], %[[WD]] outs(%[[H]]) {accumulate}
// CHECK:     } else {
// CHECK:       %[[D:.*]] = lm.linear %[[G]], %[[WD]]
// CHECK:       arith.addf %[[H]], %[[D]]
// CHECK:   return %[[Y]]
// TWICE-LABEL: func.func @mlp(
// TWICE-COUNT-3: lm.tiled_linear
// TWICE-NOT:     lm.tiled_linear
// TWICE:         return
func.func @mlp(%x: tensor<?x?x1024xf32>, %a: tensor<?x?x2048xf32>, %wo: tensor<1024x2048xbf16>,
               %nw: tensor<1024xbf16>, %wu: tensor<3072x1024xbf16>, %wg: tensor<3072x1024xbf16>,
               %wd: tensor<1024x3072xbf16>) -> tensor<?x?x1024xf32> {
  %ar = arith.truncf %a : tensor<?x?x2048xf32> to tensor<?x?x2048xbf16>
  %o = lm.linear %ar, %wo : tensor<?x?x2048xbf16>, tensor<1024x2048xbf16> -> tensor<?x?x1024xf32>
  %h = arith.addf %x, %o : tensor<?x?x1024xf32>
  %n = lm.rms_norm %h, %nw {epsilon = 1.0e-06 : f64} : tensor<?x?x1024xf32>, tensor<1024xbf16> -> tensor<?x?x1024xf32>
  %nr = arith.truncf %n : tensor<?x?x1024xf32> to tensor<?x?x1024xbf16>
  %u = lm.linear %nr, %wu : tensor<?x?x1024xbf16>, tensor<3072x1024xbf16> -> tensor<?x?x3072xf32>
  %g = lm.linear %nr, %wg : tensor<?x?x1024xbf16>, tensor<3072x1024xbf16> -> tensor<?x?x3072xf32>
  %s = lm.glu %g, %u {kind = #lm.glu<swiglu>} : tensor<?x?x3072xf32>
  %sr = arith.truncf %s : tensor<?x?x3072xf32> to tensor<?x?x3072xbf16>
  %d = lm.linear %sr, %wd : tensor<?x?x3072xbf16>, tensor<1024x3072xbf16> -> tensor<?x?x1024xf32>
  %y = arith.addf %h, %d : tensor<?x?x1024xf32>
  return %y : tensor<?x?x1024xf32>
}

// -----

// f32, GPT-OSS's clamped GLU with biases, no norm (the projections read a
// norm's output that a router reads too): one kernel writes the GLU in
// f32; its rows are read unstaged.
// CHECK-LABEL: func.func @glu_f32(
// CHECK-SAME:    %[[N:[^:]*]]: tensor<?x?x64xf32>, %[[WG:[^:]*]]: tensor<128x64xf32>, %[[BG:[^:]*]]: tensor<128xf32>, %[[WU:[^:]*]]: tensor<128x64xf32>, %[[BU:[^:]*]]: tensor<128xf32>)
// CHECK:   %[[I:.*]] = bufferization.alloc_tensor(%{{.*}}, %{{.*}}) : tensor<?x?x128xf32>
// CHECK:   scf.if
// CHECK:     lm.streamed_linear %[[N]], %[[WG]] bias %[[BG]] up(%[[WU]]) up_bias %[[BU]] outs(%[[I]]) {alpha = 1.702000e+00 : f64, glu = #lm.glu<gpt_oss_swiglu>, limit = 7.000000e+00 : f64, row_group = 4 : i64, warps = 8 : i64} : (tensor<?x?x64xf32>, tensor<128x64xf32>, tensor<128xf32>, tensor<128x64xf32>, tensor<128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
// CHECK:   } else {
// CHECK:     lm.glu
// CHECK:     bufferization.materialize_in_destination
func.func @glu_f32(%n: tensor<?x?x64xf32>, %wg: tensor<128x64xf32>, %bg: tensor<128xf32>,
                   %wu: tensor<128x64xf32>, %bu: tensor<128xf32>) -> tensor<?x?x128xf32> {
  %g = lm.linear %n, %wg, %bg : tensor<?x?x64xf32>, tensor<128x64xf32>, tensor<128xf32> -> tensor<?x?x128xf32>
  %u = lm.linear %n, %wu, %bu : tensor<?x?x64xf32>, tensor<128x64xf32>, tensor<128xf32> -> tensor<?x?x128xf32>
  %s = lm.glu %g, %u {kind = #lm.glu<gpt_oss_swiglu>, alpha = 1.702 : f64, limit = 7.0 : f64} : tensor<?x?x128xf32>
  return %s : tensor<?x?x128xf32>
}

// -----

// Llama-3-8B's down projection under --dtype bf16: a rounded row of 14336
// is 28 KB, so the kernel stages one row at a time.
// CHECK-LABEL: func.func @wide(
// CHECK:     lm.streamed_linear {{.*}} {accumulate, row_group = 1 : i64, warps = 8 : i64}
func.func @wide(%x: tensor<?x?x4096xf32>, %s: tensor<?x?x14336xf32>,
                %wd: tensor<4096x14336xbf16>) -> tensor<?x?x4096xf32> {
  %sr = arith.truncf %s : tensor<?x?x14336xf32> to tensor<?x?x14336xbf16>
  %d = lm.linear %sr, %wd : tensor<?x?x14336xbf16>, tensor<4096x14336xbf16> -> tensor<?x?x4096xf32>
  %y = arith.addf %x, %d : tensor<?x?x4096xf32>
  return %y : tensor<?x?x4096xf32>
}

// -----

// Epilogues that cannot be folded: a sum of two projections of one input
// (the add goes to the first; the second, its residual, is the group's
// own: the add stays after the choice); a residual computed after the
// projection (it does not exist where the choice goes); a GLU of a
// projection and something else; a projection both rounded and read in
// f32.
// CHECK-LABEL: func.func @unfolded(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x?x64xf32>, %[[W1:[^:]*]]: tensor<32x64xf32>, %[[W2:[^:]*]]: tensor<32x64xf32>, %[[R:[^:]*]]: tensor<?x?x32xf32>, %[[W3:[^:]*]]: tensor<32x64xf32>, %[[W4:[^:]*]]: tensor<32x64xf32>)
// CHECK:   %[[P:.*]]:4 = scf.if %{{.*}} -> (tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<?x?x32xf32>) {
// CHECK-COUNT-4: lm.streamed_linear %[[X]], %{{.*}} outs(%{{.*}}) {row_group = 4 : i64, warps = 8 : i64}
// CHECK:   } else {
// CHECK-NOT: arith.addf
// CHECK-NOT: lm.glu
// CHECK-NOT: arith.truncf
// CHECK:   }
// CHECK:   arith.addf %[[P]]#0, %[[P]]#1
// CHECK:   %[[LATE:.*]] = arith.mulf %[[R]], %[[R]]
// CHECK:   arith.addf %[[P]]#2, %[[LATE]]
// CHECK:   lm.glu %[[P]]#3, %[[R]]
// CHECK:   arith.truncf %[[P]]#3
func.func @unfolded(%x: tensor<?x?x64xf32>, %w1: tensor<32x64xf32>, %w2: tensor<32x64xf32>,
                    %r: tensor<?x?x32xf32>, %w3: tensor<32x64xf32>, %w4: tensor<32x64xf32>)
    -> (tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<?x?x32xbf16>, tensor<?x?x32xf32>) {
  %a = lm.linear %x, %w1 : tensor<?x?x64xf32>, tensor<32x64xf32> -> tensor<?x?x32xf32>
  %b = lm.linear %x, %w2 : tensor<?x?x64xf32>, tensor<32x64xf32> -> tensor<?x?x32xf32>
  %c = lm.linear %x, %w3 : tensor<?x?x64xf32>, tensor<32x64xf32> -> tensor<?x?x32xf32>
  %d = lm.linear %x, %w4 : tensor<?x?x64xf32>, tensor<32x64xf32> -> tensor<?x?x32xf32>
  %ab = arith.addf %a, %b : tensor<?x?x32xf32>
  %late = arith.mulf %r, %r : tensor<?x?x32xf32>
  %cl = arith.addf %c, %late : tensor<?x?x32xf32>
  %dg = lm.glu %d, %r {kind = #lm.glu<swiglu>} : tensor<?x?x32xf32>
  %dr = arith.truncf %d : tensor<?x?x32xf32> to tensor<?x?x32xbf16>
  return %ab, %cl, %dg, %dr, %d : tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<?x?x32xbf16>, tensor<?x?x32xf32>
}

// -----

// Routers, whatever the token count, as a warp per token (DeepSeek-V3's
// sigmoid routing with a correction bias, in groups): the results' buffers
// made for it, the attributes kept.
// CHECK-LABEL: func.func @router(
// CHECK-SAME:    %[[LOGITS:[^:]*]]: tensor<?x?x64xf32>, %[[BIAS:[^:]*]]: tensor<64xf32>)
// CHECK:   %[[B:.*]] = tensor.dim %[[LOGITS]], %c0
// CHECK:   %[[T:.*]] = tensor.dim %[[LOGITS]], %c1
// CHECK:   %[[W:.*]] = tensor.empty(%[[B]], %[[T]]) : tensor<?x?x6xf32>
// CHECK:   %[[I:.*]] = tensor.empty(%{{.*}}, %{{.*}}) : tensor<?x?x6xi64>
// CHECK:   %[[R:.*]]:2 = lm.warp_router %[[LOGITS]] bias %[[BIAS]] outs(%[[W]], %[[I]]) {normalize, num_groups = 8 : i64, routed_scaling = 2.500000e+00 : f64, scoring = #lm.scoring<sigmoid>, top_k = 6 : i64, top_k_groups = 3 : i64}
// CHECK-NOT: lm.router
// CHECK:   return %[[R]]#0, %[[R]]#1
// TWICE-LABEL: func.func @router(
// TWICE-COUNT-1: lm.warp_router
// TWICE-NOT: lm.warp_router
func.func @router(%logits: tensor<?x?x64xf32>, %bias: tensor<64xf32>)
    -> (tensor<?x?x6xf32>, tensor<?x?x6xi64>) {
  %w, %i = lm.router %logits bias %bias {scoring = #lm.scoring<sigmoid>, top_k = 6 : i64,
                                          num_groups = 8 : i64, top_k_groups = 3 : i64,
                                          normalize, routed_scaling = 2.5 : f64}
      : (tensor<?x?x64xf32>, tensor<64xf32>) -> (tensor<?x?x6xf32>, tensor<?x?x6xi64>)
  return %w, %i : tensor<?x?x6xf32>, tensor<?x?x6xi64>
}

// -----

// More experts than a warp's lanes hold: the router stays.
// CHECK-LABEL: func.func @wide_router(
// CHECK-NOT: lm.warp_router
// CHECK: lm.router
func.func @wide_router(%logits: tensor<?x?x384xf32>) -> tensor<?x?x8xi64> {
  %w, %i = lm.router %logits {scoring = #lm.scoring<softmax>, top_k = 8 : i64}
      : (tensor<?x?x384xf32>) -> (tensor<?x?x8xf32>, tensor<?x?x8xi64>)
  return %i : tensor<?x?x8xi64>
}

// -----

// DeepSeek-V2-Lite's MLA (16 heads, nope 128 + rope 64, latent 512, value
// dim 128): at one token per sequence lm.flash_mla_decode, the absorbed
// form in one op (absorption, attention over the latent cache in tiles of
// 2 heads: a lane holds 2 x (16 + 16 + 2) values, 3 heads' block combine
// would pass 48 KB; the value projection), its splits counted for 8 tiles,
// the latent queries its scratch. Prompts keep lm.mla_attention. The
// output is allocated before the choice and both branches write it.
// CHECK-LABEL: func.func @mla(
// CHECK-SAME:    %[[QN:[^:]*]]: tensor<?x?x16x128xf32>, %[[QR:[^:]*]]: tensor<?x?x16x64xf32>, %[[LAT:[^:]*]]: tensor<?x?x512xf32>, %[[KR:[^:]*]]: tensor<?x?x64xf32>, %[[KVB:[^:]*]]: tensor<4096x512xf32>, %[[POS:[^:]*]]: tensor<?x?xi64>)
// CHECK:   %[[B:.*]] = tensor.dim %[[QN]], %c0
// CHECK:   %[[T:.*]] = tensor.dim %[[QN]], %c1
// CHECK:   %[[OUT:.*]] = bufferization.alloc_tensor(%[[B]], %[[T]]) : tensor<?x?x16x128xf32>
// CHECK:   %[[DECODE:.*]] = arith.cmpi eq, %[[T]], %c1
// CHECK:   %[[R:.*]] = scf.if %[[DECODE]] -> (tensor<?x?x16x128xf32>) {
// CHECK:     %[[S:.*]] = tensor.dim %[[LAT]], %c1
// CHECK:     %[[BLOCKS:.*]] = arith.muli %[[B]], %c8
// CHECK:     %[[COVER:.*]] = arith.ceildivui %c528, %[[BLOCKS]]
// CHECK:     %[[QL:.*]] = tensor.empty(%[[B]]) : tensor<?x1x16x512xf32>
// CHECK:     %[[P:.*]] = tensor.empty(%[[B]], %{{.*}}) : tensor<?x16x?x514xf32>
// CHECK:     %[[K:.*]]:3 = lm.flash_mla_decode %[[QN]], %[[QR]], %[[LAT]], %[[KR]], %[[KVB]], %[[POS]] query_latent(%[[QL]]) partials(%[[P]]) outs(%[[OUT]]) {head_tile = 2 : i64, scale = 0.0721{{[0-9]*}} : f64, warps = 8 : i64}
// CHECK:     scf.yield %[[K]]#2
// CHECK:   } else {
// CHECK:     %[[G:.*]] = lm.mla_attention %[[QN]], %[[QR]], %[[LAT]], %[[KR]], %[[KVB]], %[[POS]]
// CHECK:     %[[M:.*]] = bufferization.materialize_in_destination %[[G]] in %[[OUT]]
// CHECK:     scf.yield %[[M]]
// CHECK:   return %[[R]]
// TWICE-LABEL: func.func @mla(
// TWICE-COUNT-1: lm.flash_mla_decode
// TWICE-COUNT-1: lm.mla_attention
func.func @mla(%qn: tensor<?x?x16x128xf32>, %qr: tensor<?x?x16x64xf32>,
               %lat: tensor<?x?x512xf32>, %kr: tensor<?x?x64xf32>,
               %kvb: tensor<4096x512xf32>, %pos: tensor<?x?xi64>)
    -> tensor<?x?x16x128xf32> {
  %o = lm.mla_attention %qn, %qr, %lat, %kr, %kvb, %pos {scale = 0.07216878364870323 : f64}
     : (tensor<?x?x16x128xf32>, tensor<?x?x16x64xf32>, tensor<?x?x512xf32>,
        tensor<?x?x64xf32>, tensor<4096x512xf32>, tensor<?x?xi64>)
     -> tensor<?x?x16x128xf32>
  return %o : tensor<?x?x16x128xf32>
}

// -----

// The same MLA under --dtype bf16 (bf16_products, bf16 kv_b, an f32
// latent cache): prompts run the expanded form on flash attention. The
// latents, rounded to bf16, are projected by kv_b in one lm.linear over
// every key (itself selected as any projection: below 16 rows of keys it
// streams kv_b, reading the latents as they are; from 64 it is the wgmma
// tile's lm.tiled_linear); each head's keys are [k_nope || k_rope broadcast], its query
// [q_nope || q_rope] (Dk 192), its values a slice of the projection
// (Dv 128); every head is its own kv head. Both branches write the output
// allocated before the choice.
// CHECK-LABEL: func.func @mla_bf16(
// CHECK-SAME:    %[[QN:[^:]*]]: tensor<?x?x16x128xf32>, %[[QR:[^:]*]]: tensor<?x?x16x64xf32>, %[[LAT:[^:]*]]: tensor<?x?x512xf32>, %[[KR:[^:]*]]: tensor<?x?x64xf32>, %[[KVB:[^:]*]]: tensor<4096x512xbf16>, %[[POS:[^:]*]]: tensor<?x?xi64>)
// CHECK:   %[[OUT:.*]] = bufferization.alloc_tensor
// CHECK:   scf.if
// CHECK:     lm.flash_mla_decode {{.*}} outs(%[[OUT]])
// CHECK:   } else {
// CHECK:     %[[LB:.*]] = arith.truncf %[[LAT]] : tensor<?x?x512xf32> to tensor<?x?x512xbf16>
// CHECK:       lm.streamed_linear %[[LAT]], %[[KVB]]
// CHECK:         lm.tiled_linear %[[LB]], %[[KVB]] outs(%{{.*}}) : (tensor<?x?x512xbf16>, tensor<4096x512xbf16>, tensor<?x?x4096xf32>) -> tensor<?x?x4096xf32>
// CHECK:         lm.linear %[[LB]], %[[KVB]] : tensor<?x?x512xbf16>, tensor<4096x512xbf16> -> tensor<?x?x4096xf32>
// CHECK:     %[[KVH:.*]] = lm.split_heads %{{.*}} : tensor<?x?x4096xf32> -> tensor<?x?x16x256xf32>
// CHECK:     %[[KN:.*]] = lm.slice %[[KVH]][0, 128] : tensor<?x?x16x256xf32> -> tensor<?x?x16x128xf32>
// CHECK:     %[[V:.*]] = lm.slice %[[KVH]][128, 128] : tensor<?x?x16x256xf32> -> tensor<?x?x16x128xf32>
// CHECK:     %[[KRB:.*]] = linalg.generic {{.*}} ins(%[[KR]] : tensor<?x?x64xf32>) outs(%{{.*}} : tensor<?x?x16x64xf32>)
// CHECK:     %[[K:.*]] = tensor.concat dim(3) %[[KN]], %[[KRB]] : (tensor<?x?x16x128xf32>, tensor<?x?x16x64xf32>) -> tensor<?x?x16x192xf32>
// CHECK:     %[[Q:.*]] = tensor.concat dim(3) %[[QN]], %[[QR]] : (tensor<?x?x16x128xf32>, tensor<?x?x16x64xf32>) -> tensor<?x?x16x192xf32>
// CHECK:     %[[FA:.*]] = lm.flash_attention %[[Q]], %[[K]], %[[V]], %[[POS]] outs(%[[OUT]]) {scale = 0.0721{{[0-9]*}} : f64, warps = 4 : i64}
// CHECK:     scf.yield %[[FA]]
// CHECK-NOT: lm.mla_attention
// TWICE-LABEL: func.func @mla_bf16(
// TWICE-COUNT-1: lm.flash_mla_decode
// TWICE-COUNT-1: lm.flash_attention
// TWICE-NOT: lm.mla_attention
func.func @mla_bf16(%qn: tensor<?x?x16x128xf32>, %qr: tensor<?x?x16x64xf32>,
                    %lat: tensor<?x?x512xf32>, %kr: tensor<?x?x64xf32>,
                    %kvb: tensor<4096x512xbf16>, %pos: tensor<?x?xi64>)
    -> tensor<?x?x16x128xf32> {
  %o = lm.mla_attention %qn, %qr, %lat, %kr, %kvb, %pos {bf16_products, scale = 0.07216878364870323 : f64}
     : (tensor<?x?x16x128xf32>, tensor<?x?x16x64xf32>, tensor<?x?x512xf32>,
        tensor<?x?x64xf32>, tensor<4096x512xbf16>, tensor<?x?xi64>)
     -> tensor<?x?x16x128xf32>
  return %o : tensor<?x?x16x128xf32>
}

// -----

// Flash MLA decoding refused (a 4096-wide latent: a head's latent query
// and sum exceed a lane's registers), the expanded form alone serves
// every phase: no branch; a bf16 latent cache is projected as stored.
// CHECK-LABEL: func.func @mla_prompt_only(
// CHECK-NOT:   scf.if {{.*}} -> (tensor<?x?x8x128xf32>)
// CHECK-NOT:   lm.flash_mla_decode
// CHECK-NOT:   arith.truncf
// CHECK:       lm.linear %{{.*}}, %{{.*}} : tensor<?x?x4096xbf16>, tensor<2048x4096xbf16> -> tensor<?x?x2048xf32>
// CHECK:       %[[FA:.*]] = lm.flash_attention {{.*}} -> tensor<?x?x8x128xf32>
// CHECK-NEXT:  return %[[FA]]
func.func @mla_prompt_only(%qn: tensor<?x?x8x128xf32>, %qr: tensor<?x?x8x64xf32>,
                           %lat: tensor<?x?x4096xbf16>, %kr: tensor<?x?x64xbf16>,
                           %kvb: tensor<2048x4096xbf16>, %pos: tensor<?x?xi64>)
    -> tensor<?x?x8x128xf32> {
  %o = lm.mla_attention %qn, %qr, %lat, %kr, %kvb, %pos {bf16_products, scale = 0.07216878364870323 : f64}
     : (tensor<?x?x8x128xf32>, tensor<?x?x8x64xf32>, tensor<?x?x4096xbf16>,
        tensor<?x?x64xbf16>, tensor<2048x4096xbf16>, tensor<?x?xi64>)
     -> tensor<?x?x8x128xf32>
  return %o : tensor<?x?x8x128xf32>
}

// -----

// DeepSeek's MoE layer under --dtype bf16, scaled down (hidden 256, 8
// experts of width 64, 2 chosen, a shared expert of width 128): the
// post-attention norm feeds the router's projection and the shared
// expert's gate and up (rounded) and the routed experts; the layer adds
// routed + shared to the residual stream. Below 16 rows:
// lm.streamed_experts reads the stream itself (the norm its prologue) and
// accumulates into it in place, the sum reassociated as (r + experts) +
// shared so that the shared expert's down projection accumulates too; the
// norm's projections take it as their prologue as before. Otherwise
// lm.grouped_experts, of the norm computed again in the experts' branch,
// accumulating into the stream too, with a row of scratch per (token,
// choice) pair and a table for the most tiles there can be
// (ceil(B T 2 / 128) + min(B T 2, 8)).
// CHECK-LABEL: func.func @moe(
// CHECK-SAME:    %[[R:[^:]*]]: tensor<?x?x256xf32>, %[[NW:[^:]*]]: tensor<256xbf16>, %[[WR:[^:]*]]: tensor<8x256xbf16>, %[[GU:[^:]*]]: tensor<8x128x256xbf16>, %[[DN:[^:]*]]: tensor<8x256x64xbf16>, %[[SU:[^:]*]]: tensor<128x256xbf16>, %[[SG:[^:]*]]: tensor<128x256xbf16>, %[[SD:[^:]*]]: tensor<256x128xbf16>)
// CHECK:   %[[L:.*]]:2 = scf.if %{{.*}} -> (tensor<?x?x8xf32>, tensor<?x?x128xbf16>) {
// CHECK:     lm.streamed_linear %[[R]], %[[WR]] norm(%[[NW]])
// CHECK:     lm.streamed_linear %[[R]], %[[SG]] up(%[[SU]]) norm(%[[NW]])
// CHECK:   %[[ROUTE:.*]]:2 = lm.warp_router %[[L]]#0
// CHECK:   %[[B:.*]] = tensor.dim %[[R]], %c0
// CHECK:   %[[T:.*]] = tensor.dim %[[R]], %c1
// CHECK:   %[[ROWS:.*]] = arith.muli %[[B]], %[[T]]
// CHECK:   %[[FEW:.*]] = arith.cmpi ult, %[[ROWS]], %c16{{.*}}
// CHECK:   %[[E:.*]] = scf.if %[[FEW]] -> (tensor<?x?x256xf32>) {
// CHECK:     %[[H:.*]] = tensor.empty(%[[B]], %[[T]]) : tensor<?x?x2x64xbf16>
// CHECK:     %[[K:.*]]:2 = lm.streamed_experts %[[R]], %[[ROUTE]]#0, %[[ROUTE]]#1, %[[GU]], %[[DN]] norm(%[[NW]]) hidden(%[[H]]) outs(%[[R]]) {accumulate, activation = #lm.expert<swiglu>, epsilon = 9.9999999999999995E-7 : f64, warps = 8 : i64}
// CHECK:     scf.yield %[[K]]#1
// CHECK:   } else {
// CHECK:     %[[N:.*]] = lm.rms_norm %[[R]], %[[NW]]
// CHECK:     %[[PAIRS:.*]] = arith.muli %{{.*}}, %c2
// CHECK:     %[[FULL:.*]] = arith.ceildivui %[[PAIRS]], %c128
// CHECK:     %[[PARTIAL:.*]] = arith.minui %[[PAIRS]], %c8
// CHECK:     %[[TILES:.*]] = arith.addi %[[FULL]], %[[PARTIAL]]
// CHECK:     %[[ORDER:.*]] = tensor.empty(%[[PAIRS]]) : tensor<?xi32>
// CHECK:     %[[TABLE:.*]] = tensor.empty(%[[TILES]]) : tensor<?x3xi32>
// CHECK:     %[[SLOTS:.*]] = tensor.empty(%[[B]], %[[T]]) : tensor<?x?x2xi32>
// CHECK:     %[[ROWS:.*]] = tensor.empty(%[[PAIRS]]) : tensor<?x256xbf16>
// CHECK:     %[[ACT:.*]] = tensor.empty(%[[PAIRS]]) : tensor<?x64xbf16>
// CHECK:     %[[OUT:.*]] = tensor.empty(%[[PAIRS]]) : tensor<?x256xf32>
// CHECK:     %[[G:.*]]:7 = lm.grouped_experts %[[N]], %[[ROUTE]]#0, %[[ROUTE]]#1, %[[GU]], %[[DN]] schedule(%[[ORDER]], %[[TABLE]], %[[SLOTS]]) rows(%[[ROWS]]) hidden(%[[ACT]]) expert_out(%[[OUT]]) outs(%[[R]]) {accumulate, activation = #lm.expert<swiglu>}
// CHECK:     scf.yield %[[G]]#6
// CHECK:   %[[Y:.*]] = scf.if %{{.*}} -> (tensor<?x?x256xf32>) {
// CHECK:     lm.streamed_linear %[[L]]#1, %[[SD]] outs(%[[E]]) {accumulate, row_group = 4 : i64, warps = 8 : i64}
// CHECK:   } else {
// CHECK:     %[[D:.*]] = lm.linear %[[L]]#1, %[[SD]]
// CHECK:     arith.addf %[[E]], %[[D]]
// CHECK:   return %[[Y]]
// TWICE-LABEL: func.func @moe(
// TWICE-COUNT-1: lm.streamed_experts
// TWICE-NOT: lm.streamed_experts
// TWICE-COUNT-1: lm.grouped_experts
// TWICE-NOT: lm.grouped_experts
func.func @moe(%r: tensor<?x?x256xf32>, %nw: tensor<256xbf16>, %wr: tensor<8x256xbf16>,
               %gu: tensor<8x128x256xbf16>, %dn: tensor<8x256x64xbf16>,
               %su: tensor<128x256xbf16>, %sg: tensor<128x256xbf16>,
               %sd: tensor<256x128xbf16>) -> tensor<?x?x256xf32> {
  %n = lm.rms_norm %r, %nw {epsilon = 1.0e-06 : f64} : tensor<?x?x256xf32>, tensor<256xbf16> -> tensor<?x?x256xf32>
  %nr = arith.truncf %n : tensor<?x?x256xf32> to tensor<?x?x256xbf16>
  %l = lm.linear %nr, %wr : tensor<?x?x256xbf16>, tensor<8x256xbf16> -> tensor<?x?x8xf32>
  %w, %i = lm.router %l {scoring = #lm.scoring<softmax>, top_k = 2 : i64}
      : (tensor<?x?x8xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  %e = lm.moe_experts %n, %w, %i, %gu, %dn {activation = #lm.expert<swiglu>}
     : (tensor<?x?x256xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x128x256xbf16>,
        tensor<8x256x64xbf16>) -> tensor<?x?x256xf32>
  %u = lm.linear %nr, %su : tensor<?x?x256xbf16>, tensor<128x256xbf16> -> tensor<?x?x128xf32>
  %g = lm.linear %nr, %sg : tensor<?x?x256xbf16>, tensor<128x256xbf16> -> tensor<?x?x128xf32>
  %s = lm.glu %g, %u {kind = #lm.glu<swiglu>} : tensor<?x?x128xf32>
  %sr = arith.truncf %s : tensor<?x?x128xf32> to tensor<?x?x128xbf16>
  %d = lm.linear %sr, %sd : tensor<?x?x128xbf16>, tensor<256x128xbf16> -> tensor<?x?x256xf32>
  %t = arith.addf %e, %d : tensor<?x?x256xf32>
  %y = arith.addf %r, %t : tensor<?x?x256xf32>
  return %y : tensor<?x?x256xf32>
}

// -----

// Mixtral's experts in f32 (no shared expert), their output added to the
// residual directly, the input a norm's: as above, no rounding.
// CHECK-LABEL: func.func @moe_f32(
// CHECK-SAME:    %[[R:[^:]*]]: tensor<?x?x64xf32>, %[[NW:[^:]*]]: tensor<64xf32>, %[[W:[^:]*]]: tensor<?x?x2xf32>, %[[I:[^:]*]]: tensor<?x?x2xi64>, %[[GU:[^:]*]]: tensor<8x64x64xf32>, %[[DN:[^:]*]]: tensor<8x64x32xf32>)
// CHECK:   %[[E:.*]] = scf.if %{{.*}} -> (tensor<?x?x64xf32>) {
// CHECK:     %[[H:.*]] = tensor.empty(%{{.*}}, %{{.*}}) : tensor<?x?x2x32xf32>
// CHECK:     %[[K:.*]]:2 = lm.streamed_experts %[[R]], %[[W]], %[[I]], %[[GU]], %[[DN]] norm(%[[NW]]) hidden(%[[H]]) outs(%[[R]]) {accumulate, activation = #lm.expert<swiglu>, epsilon = 9.9999999999999995E-7 : f64, warps = 8 : i64}
// CHECK:   return %[[E]]
// TWICE-LABEL: func.func @moe_f32(
// TWICE-COUNT-1: lm.streamed_experts
// TWICE-NOT: lm.streamed_experts
func.func @moe_f32(%r: tensor<?x?x64xf32>, %nw: tensor<64xf32>, %w: tensor<?x?x2xf32>,
                   %i: tensor<?x?x2xi64>, %gu: tensor<8x64x64xf32>,
                   %dn: tensor<8x64x32xf32>) -> tensor<?x?x64xf32> {
  %n = lm.rms_norm %r, %nw {epsilon = 1.0e-06 : f64} : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
  %e = lm.moe_experts %n, %w, %i, %gu, %dn {activation = #lm.expert<swiglu>}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>,
        tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
  %y = arith.addf %e, %r : tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// -----

// bf16 experts with 32 of 32 chosen, their output returned: too many
// choices for streamed experts (a down warp streams 16 rows side by side),
// so lm.grouped_experts serves every token count, without a branch,
// writing a buffer of its own (no residual to accumulate into); the norm
// stays an op.
// CHECK-LABEL: func.func @moe_grouped_only(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x?x64xf32>, %[[NW:[^:]*]]: tensor<64xf32>, %[[W:[^:]*]]: tensor<?x?x32xf32>, %[[I:[^:]*]]: tensor<?x?x32xi64>, %[[GU:[^:]*]]: tensor<32x64x64xbf16>, %[[DN:[^:]*]]: tensor<32x64x32xbf16>)
// CHECK:   %[[N:.*]] = lm.rms_norm %[[X]], %[[NW]]
// CHECK:   %[[B:.*]] = tensor.dim %[[N]], %c0
// CHECK:   %[[T:.*]] = tensor.dim %[[N]], %c1
// CHECK:   %[[INIT:.*]] = bufferization.alloc_tensor(%[[B]], %[[T]]) : tensor<?x?x64xf32>
// CHECK-NOT: scf.if
// CHECK:   %[[G:.*]]:7 = lm.grouped_experts %[[N]], %[[W]], %[[I]], %[[GU]], %[[DN]] schedule({{.*}}) rows({{.*}}) hidden({{.*}}) expert_out({{.*}}) outs(%[[INIT]]) {activation = #lm.expert<swiglu>}
// CHECK:   return %[[G]]#6
// TWICE-LABEL: func.func @moe_grouped_only(
// TWICE-COUNT-1: lm.grouped_experts
// TWICE-NOT: lm.grouped_experts
func.func @moe_grouped_only(%x: tensor<?x?x64xf32>, %nw: tensor<64xf32>,
                            %w: tensor<?x?x32xf32>, %i: tensor<?x?x32xi64>,
                            %gu: tensor<32x64x64xbf16>,
                            %dn: tensor<32x64x32xbf16>) -> tensor<?x?x64xf32> {
  %n = lm.rms_norm %x, %nw {epsilon = 1.0e-06 : f64} : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
  %e = lm.moe_experts %n, %w, %i, %gu, %dn {activation = #lm.expert<swiglu>}
     : (tensor<?x?x64xf32>, tensor<?x?x32xf32>, tensor<?x?x32xi64>, tensor<32x64x64xbf16>,
        tensor<32x64x32xbf16>) -> tensor<?x?x64xf32>
  return %e : tensor<?x?x64xf32>
}

// -----

// The same MLA whose only reader is the bf16 rounding of its merged heads
// (o_proj's input under --dtype bf16): as for lm.attention, the output
// allocated before the choice is bf16, flash MLA decoding and the
// expanded form's flash attention both write it rounded, merge_heads
// collapses it, and the rounding goes.
// CHECK-LABEL: func.func @mla_rounded(
// CHECK:   %[[OUT:.*]] = bufferization.alloc_tensor(%{{.*}}, %{{.*}}) : tensor<?x?x16x128xbf16>
// CHECK:   %[[R:.*]] = scf.if %{{.*}} -> (tensor<?x?x16x128xbf16>) {
// CHECK:     lm.flash_mla_decode {{.*}} outs(%[[OUT]]) {{.*}} -> (tensor<?x1x16x512xf32>, tensor<?x16x?x514xf32>, tensor<?x?x16x128xbf16>)
// CHECK:   } else {
// CHECK:     lm.flash_attention {{.*}} outs(%[[OUT]])
// CHECK:   %[[M:.*]] = lm.merge_heads %[[R]] : tensor<?x?x16x128xbf16> -> tensor<?x?x2048xbf16>
// CHECK-NOT: arith.truncf
// CHECK:   return %[[M]]
func.func @mla_rounded(%qn: tensor<?x?x16x128xf32>, %qr: tensor<?x?x16x64xf32>,
                       %lat: tensor<?x?x512xf32>, %kr: tensor<?x?x64xf32>,
                       %kvb: tensor<4096x512xbf16>, %pos: tensor<?x?xi64>)
    -> tensor<?x?x2048xbf16> {
  %o = lm.mla_attention %qn, %qr, %lat, %kr, %kvb, %pos {bf16_products, scale = 0.07216878364870323 : f64}
     : (tensor<?x?x16x128xf32>, tensor<?x?x16x64xf32>, tensor<?x?x512xf32>,
        tensor<?x?x64xf32>, tensor<4096x512xbf16>, tensor<?x?xi64>)
     -> tensor<?x?x16x128xf32>
  %m = lm.merge_heads %o : tensor<?x?x16x128xf32> -> tensor<?x?x2048xf32>
  %r = arith.truncf %m : tensor<?x?x2048xf32> to tensor<?x?x2048xbf16>
  return %r : tensor<?x?x2048xbf16>
}
