// RUN: lmc-opt %s --lm-select-gpu-kernels="explain=true" -verify-diagnostics --split-input-file

// Why an op stays on the generic path, with explain=true: one remark per
// refused op; a claimed op gets none.

func.func @refused(%pos: tensor<?x?xi64>,
                   %mq: tensor<?x?x64x128xf32>, %mk: tensor<?x?x1x128xf32>,
                   %wq: tensor<?x?x4x512xf32>, %wk: tensor<?x?x1x512xf32>,
                   %bq: tensor<?x?x4x64xbf16>, %bk: tensor<?x?x4x64xbf16>)
    -> (tensor<?x?x64x128xf32>, tensor<?x?x4x512xf32>, tensor<?x?x4x64xbf16>) {
  // expected-remark @+2 {{no flash decoding: query-head group too large for a lane's registers}}
  // expected-remark @+1 {{no flash attention: products not bf16 (f32 attention stays exact)}}
  %a = lm.attention %mq, %mk, %mk, %pos {scale = 0.125 : f64}
     : (tensor<?x?x64x128xf32>, tensor<?x?x1x128xf32>, tensor<?x?x1x128xf32>, tensor<?x?xi64>)
     -> tensor<?x?x64x128xf32>
  // expected-remark @+2 {{no flash decoding: block combine exceeds static shared memory}}
  // expected-remark @+1 {{no flash attention: products not bf16 (f32 attention stays exact)}}
  %b = lm.attention %wq, %wk, %wk, %pos {scale = 0.125 : f64}
     : (tensor<?x?x4x512xf32>, tensor<?x?x1x512xf32>, tensor<?x?x1x512xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x512xf32>
  // expected-remark @+2 {{no flash decoding: not an f32 result}}
  // expected-remark @+1 {{no flash attention: products not bf16 (f32 attention stays exact)}}
  %c = lm.attention %bq, %bk, %bk, %pos {scale = 0.125 : f64}
     : (tensor<?x?x4x64xbf16>, tensor<?x?x4x64xbf16>, tensor<?x?x4x64xbf16>, tensor<?x?xi64>)
     -> tensor<?x?x4x64xbf16>
  return %a, %b, %c : tensor<?x?x64x128xf32>, tensor<?x?x4x512xf32>, tensor<?x?x4x64xbf16>
}

// -----

// Flash attention's own refusals (bf16 products; flash decoding claims
// these): a key dim above 256, a value dim above 128. Key and value tiles
// of Dk 256 / Dv 128 (36 KB + 20 KB, over static shared memory) are
// claimed: the template opts in to dynamic shared memory.
func.func @prompt_refused(%pos: tensor<?x?xi64>,
                          %kq: tensor<?x?x4x288xf32>, %kk: tensor<?x?x4x288xf32>,
                          %vv: tensor<?x?x4x160xf32>,
                          %sq: tensor<?x?x4x256xf32>, %sk: tensor<?x?x4x256xf32>,
                          %sv: tensor<?x?x4x128xf32>)
    -> (tensor<?x?x4x288xf32>, tensor<?x?x4x160xf32>, tensor<?x?x4x128xf32>) {
  // expected-remark @+1 {{no flash attention: key dim above 256}}
  %a = lm.attention %kq, %kk, %kk, %pos {bf16_products, scale = 0.125 : f64}
     : (tensor<?x?x4x288xf32>, tensor<?x?x4x288xf32>, tensor<?x?x4x288xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x288xf32>
  // expected-remark @+1 {{no flash attention: value dim above 128}}
  %b = lm.attention %vv, %vv, %vv, %pos {bf16_products, scale = 0.125 : f64}
     : (tensor<?x?x4x160xf32>, tensor<?x?x4x160xf32>, tensor<?x?x4x160xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x160xf32>
  %c = lm.attention %sq, %sk, %sv, %pos {bf16_products, scale = 0.125 : f64}
     : (tensor<?x?x4x256xf32>, tensor<?x?x4x256xf32>, tensor<?x?x4x128xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x128xf32>
  return %a, %b, %c : tensor<?x?x4x288xf32>, tensor<?x?x4x160xf32>, tensor<?x?x4x128xf32>
}

// -----

func.func @claimed(%q: tensor<?x?x4x16xf32>, %k: tensor<?x?x2x16xf32>,
                   %v: tensor<?x?x2x16xf32>, %pos: tensor<?x?xi64>) -> tensor<?x?x4x16xf32> {
  %o = lm.attention %q, %k, %v, %pos {bf16_products, scale = 0.25 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x16xf32>
  return %o : tensor<?x?x4x16xf32>
}

// -----

// Norms whose projections do not take them as a prologue: one read by a
// router too (its projection streams the normalised value, no remark), one
// whose projection reads a transposed weight (which then stays on the
// generic path), one whose normalised f32 row of 16384 takes 64 KB of
// shared memory (its projection streams the f32 value unstaged). A norm no
// projection reads (a per-head norm) gets no remark.
func.func @norms(%x: tensor<?x?x64xf32>, %nw: tensor<64xf32>, %w: tensor<32x64xf32>,
                 %wt: tensor<64x32xf32>, %big: tensor<?x?x16384xf32>,
                 %bigw: tensor<16384xf32>, %wb: tensor<16x16384xf32>,
                 %q: tensor<?x?x4x16xf32>, %qw: tensor<16xf32>)
    -> (tensor<?x?x32xf32>, tensor<?x?x64xf32>, tensor<?x?x32xf32>,
        tensor<?x?x16xf32>, tensor<?x?x4x16xf32>) {
  // expected-remark @+1 {{no streamed projections: the normalised value has users other than projections}}
  %n = lm.rms_norm %x, %nw {epsilon = 1.0e-06 : f64} : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
  %y = lm.linear %n, %w : tensor<?x?x64xf32>, tensor<32x64xf32> -> tensor<?x?x32xf32>
  // expected-remark @+1 {{no streamed projections: a weight or bias that is not a function argument (a transposed or sliced view)}}
  %m = lm.rms_norm %x, %nw {epsilon = 1.0e-06 : f64} : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
  %t = lm.transpose %wt [1, 0] : tensor<64x32xf32> -> tensor<32x64xf32>
  // expected-remark @+1 {{no streamed projection: a weight or bias that is not a function argument (a transposed or sliced view)}}
  %z = lm.linear %m, %t : tensor<?x?x64xf32>, tensor<32x64xf32> -> tensor<?x?x32xf32>
  // expected-remark @+1 {{no streamed projections: a normalised row exceeds static shared memory}}
  %b = lm.rms_norm %big, %bigw {epsilon = 1.0e-06 : f64} : tensor<?x?x16384xf32>, tensor<16384xf32> -> tensor<?x?x16384xf32>
  %u = lm.linear %b, %wb : tensor<?x?x16384xf32>, tensor<16x16384xf32> -> tensor<?x?x16xf32>
  %qn = lm.rms_norm %q, %qw {epsilon = 1.0e-06 : f64} : tensor<?x?x4x16xf32>, tensor<16xf32> -> tensor<?x?x4x16xf32>
  return %y, %n, %z, %u, %qn : tensor<?x?x32xf32>, tensor<?x?x64xf32>, tensor<?x?x32xf32>,
                               tensor<?x?x16xf32>, tensor<?x?x4x16xf32>
}

// -----

// Projections without a norm that stay on the generic path: a dynamic
// weight; bf16 weights read by an f32 input (lm.linear does not round it);
// an f32 row of 32768 rounded to bf16 would take 64 KB of shared memory.
func.func @projections(%x: tensor<?x?x64xf32>, %wd: tensor<?x64xf32>,
                       %wb: tensor<32x64xbf16>, %big: tensor<?x?x32768xf32>,
                       %wbig: tensor<16x32768xbf16>)
    -> (tensor<?x?x?xf32>, tensor<?x?x32xf32>, tensor<?x?x16xf32>) {
  // expected-remark @+1 {{no streamed projection: a dynamic weight}}
  %a = lm.linear %x, %wd : tensor<?x?x64xf32>, tensor<?x64xf32> -> tensor<?x?x?xf32>
  // expected-remark @+1 {{no streamed projection: weight and input types differ, or are neither f32 nor bf16}}
  %b = lm.linear %x, %wb : tensor<?x?x64xf32>, tensor<32x64xbf16> -> tensor<?x?x32xf32>
  %r = arith.truncf %big : tensor<?x?x32768xf32> to tensor<?x?x32768xbf16>
  // expected-remark @+1 {{no streamed projection: a rounded row exceeds static shared memory}}
  %c = lm.linear %r, %wbig : tensor<?x?x32768xbf16>, tensor<16x32768xbf16> -> tensor<?x?x16xf32>
  return %a, %b, %c : tensor<?x?x?xf32>, tensor<?x?x32xf32>, tensor<?x?x16xf32>
}

// -----

// Routers the warp router cannot take: more experts than its lanes hold,
// more groups or choices than it unrolls, weights not in f32.
func.func @routers(%wide: tensor<?x?x512xf32>, %many: tensor<?x?x64xf32>,
                   %half: tensor<?x?x8xf16>) {
  // expected-remark @+1 {{no warp router: more than 256 experts}}
  %a:2 = lm.router %wide {scoring = #lm.scoring<softmax>, top_k = 2 : i64}
      : (tensor<?x?x512xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  // expected-remark @+1 {{no warp router: more than 16 expert groups}}
  %b:2 = lm.router %many {scoring = #lm.scoring<sigmoid>, top_k = 2 : i64, num_groups = 32 : i64, top_k_groups = 2 : i64}
      : (tensor<?x?x64xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  // expected-remark @+1 {{no warp router: more than 16 experts chosen per token}}
  %c:2 = lm.router %many {scoring = #lm.scoring<softmax>, top_k = 20 : i64}
      : (tensor<?x?x64xf32>) -> (tensor<?x?x20xf32>, tensor<?x?x20xi64>)
  // expected-remark @+1 {{no warp router: weights not in f32}}
  %d:2 = lm.router %half {scoring = #lm.scoring<softmax>, top_k = 2 : i64}
      : (tensor<?x?x8xf16>) -> (tensor<?x?x2xf16>, tensor<?x?x2xi64>)
  return
}

// -----

// MLA stays generic with sparse attention's selected keys (DSA: neither
// form takes them), without bf16 products (the prompt form), where
// even one head's latent query and value sum (2 x 4096 / 32 per lane)
// exceed a lane's registers, and where the latent dim (36) is not a whole
// number of 16-byte slices of bf16 kv_b rows (8 elements).
func.func @mla_refused(%qn: tensor<?x?x4x16xf32>, %qr: tensor<?x?x4x8xf32>,
                       %lat: tensor<?x?x32xf32>, %kr: tensor<?x?x8xf32>,
                       %kvb: tensor<128x32xf32>, %pos: tensor<?x?xi64>,
                       %sel: tensor<?x?x4xi64>, %wide: tensor<?x?x4096xf32>,
                       %wkvb: tensor<128x4096xf32>, %odd: tensor<?x?x36xf32>,
                       %okvb: tensor<128x36xbf16>)
    -> (tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>) {
  // expected-remark @+2 {{no flash MLA decoding: sparse attention (selected keys)}}
  // expected-remark @+1 {{no flash attention: selected keys (DeepSeek sparse attention) are not in flash attention's mask}}
  %a = lm.mla_attention %qn, %qr, %lat, %kr, %kvb, %pos selected %sel {bf16_products, scale = 0.2 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>,
        tensor<128x32xf32>, tensor<?x?xi64>, tensor<?x?x4xi64>) -> tensor<?x?x4x16xf32>
  // expected-remark @+2 {{no flash MLA decoding: a head's latent query and sum exceed a lane's registers}}
  // expected-remark @+1 {{no flash attention: products not bf16 (f32 attention stays exact)}}
  %b = lm.mla_attention %qn, %qr, %wide, %kr, %wkvb, %pos {scale = 0.2 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<?x?x4096xf32>, tensor<?x?x8xf32>,
        tensor<128x4096xf32>, tensor<?x?xi64>) -> tensor<?x?x4x16xf32>
  // expected-remark @+2 {{no flash MLA decoding: a latent dim that is not a whole number of 16-byte slices}}
  // expected-remark @+1 {{no flash attention: products not bf16 (f32 attention stays exact)}}
  %c = lm.mla_attention %qn, %qr, %odd, %kr, %okvb, %pos {scale = 0.2 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<?x?x36xf32>, tensor<?x?x8xf32>,
        tensor<128x36xbf16>, tensor<?x?xi64>) -> tensor<?x?x4x16xf32>
  return %a, %b, %c : tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>
}

// -----

// Experts each template refuses: a transposed view of a fused expert
// tensor (GPT-OSS stores gate_up as [E, D, 2I]); f32 gate_up with bf16
// down; 32 choices (a down warp streams at most 16 rows side by side); f32
// experts stay exact, off tensor cores (grouped GEMMs are bf16); a row of
// 32768 rounded to bf16 weights would take 64 KB of shared memory to stage
// (grouped experts take it); a hidden size of 60 is no whole number of
// 16-byte rows for a tensor map, and 5000 experts' counts, starts and
// cursors overflow the sort's shared memory (streamed experts take both).
func.func @experts(%x: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>, %i: tensor<?x?x2xi64>,
                   %gut: tensor<8x64x128xf32>, %gu: tensor<8x128x64xf32>,
                   %dn: tensor<8x64x64xf32>, %dnb: tensor<8x64x64xbf16>,
                   %w32: tensor<?x?x32xf32>, %i32: tensor<?x?x32xi64>,
                   %gu32: tensor<32x128x64xf32>, %dn32: tensor<32x64x64xf32>,
                   %big: tensor<?x?x32768xf32>, %gubig: tensor<8x128x32768xbf16>,
                   %dnbig: tensor<8x32768x64xbf16>,
                   %odd: tensor<?x?x60xf32>, %guodd: tensor<8x128x60xbf16>,
                   %dnodd: tensor<8x60x64xbf16>,
                   %gumany: tensor<5000x16x64xbf16>, %dnmany: tensor<5000x64x8xbf16>)
    -> (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x32768xf32>,
        tensor<?x?x60xf32>, tensor<?x?x64xf32>) {
  %t = lm.transpose %gut [0, 2, 1] : tensor<8x64x128xf32> -> tensor<8x128x64xf32>
  // expected-remark @+2 {{no streamed experts: expert weights that are not function arguments (a transposed or sliced view)}}
  // expected-remark @+1 {{no grouped experts: expert weights that are not function arguments (a transposed or sliced view)}}
  %a = lm.moe_experts %x, %w, %i, %t, %dn {activation = #lm.expert<swiglu>}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x128x64xf32>,
        tensor<8x64x64xf32>) -> tensor<?x?x64xf32>
  // expected-remark @+2 {{no streamed experts: expert weights neither both f32 nor both bf16}}
  // expected-remark @+1 {{no grouped experts: expert weights not both bf16}}
  %b = lm.moe_experts %x, %w, %i, %gu, %dnb {activation = #lm.expert<swiglu>}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x128x64xf32>,
        tensor<8x64x64xbf16>) -> tensor<?x?x64xf32>
  // expected-remark @+2 {{no streamed experts: more than 16 experts chosen per token}}
  // expected-remark @+1 {{no grouped experts: expert weights not both bf16 (f32 experts stay exact, off tensor cores)}}
  %c = lm.moe_experts %x, %w32, %i32, %gu32, %dn32 {activation = #lm.expert<swiglu>}
     : (tensor<?x?x64xf32>, tensor<?x?x32xf32>, tensor<?x?x32xi64>, tensor<32x128x64xf32>,
        tensor<32x64x64xf32>) -> tensor<?x?x64xf32>
  // expected-remark @+1 {{no streamed experts: a staged row exceeds static shared memory}}
  %d = lm.moe_experts %big, %w, %i, %gubig, %dnbig {activation = #lm.expert<swiglu>}
     : (tensor<?x?x32768xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x128x32768xbf16>,
        tensor<8x32768x64xbf16>) -> tensor<?x?x32768xf32>
  // expected-remark @+1 {{no grouped experts: hidden size or expert width not a multiple of 8 (tensor maps' 16-byte rows)}}
  %e = lm.moe_experts %odd, %w, %i, %guodd, %dnodd {activation = #lm.expert<swiglu>}
     : (tensor<?x?x60xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x128x60xbf16>,
        tensor<8x60x64xbf16>) -> tensor<?x?x60xf32>
  // expected-remark @+1 {{no grouped experts: too many experts for the sort's shared memory}}
  %f = lm.moe_experts %x, %w, %i, %gumany, %dnmany {activation = #lm.expert<swiglu>}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<5000x16x64xbf16>,
        tensor<5000x64x8xbf16>) -> tensor<?x?x64xf32>
  return %a, %b, %c, %d, %e, %f : tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>,
                                  tensor<?x?x32768xf32>, tensor<?x?x60xf32>, tensor<?x?x64xf32>
}
