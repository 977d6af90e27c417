// RUN: lmc-opt %s | lmc-opt | FileCheck %s

// Round trip of every op and state type of the lm dialect.

//===----------------------------------------------------------------------===//
// State types
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @state_types(
// CHECK-SAME:    !lm.kv_cache<8 x 128 x 128, bf16>
// CHECK-SAME:    !lm.kv_cache<8 x 64 x 32, f16, window = 128>
// CHECK-SAME:    !lm.latent_cache<512 + 64, bf16>
// CHECK-SAME:    !lm.key_cache<128, bf16>
// CHECK-SAME:    !lm.key_cache<512, f32, window = 128>
// CHECK-SAME:    !lm.compressed_cache<512, f32, ratio = 128>
// CHECK-SAME:    !lm.compressed_cache<512, f32, ratio = 4, overlap = true>
// CHECK-SAME:    !lm.recurrent_state<[32, 128, 128], f32>
// CHECK-SAME:    !lm.recurrent_state<[96, 3], bf16>
func.func @state_types(
    %a: !lm.kv_cache<8 x 128 x 128, bf16>,
    %b: !lm.kv_cache<8 x 64 x 32, f16, window = 128>,
    %c: !lm.latent_cache<512 + 64, bf16>,
    %d: !lm.key_cache<128, bf16>,
    %e: !lm.key_cache<512, f32, window = 128>,
    %f: !lm.compressed_cache<512, f32, ratio = 128>,
    %g: !lm.compressed_cache<512, f32, ratio = 4, overlap = true>,
    %h: !lm.recurrent_state<[32, 128, 128], f32>,
    %i: !lm.recurrent_state<[96, 3], bf16>) {
  return
}

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @weights(
// CHECK:         %{{.*}} = lm.weight "model.layers.0.self_attn.q_proj.weight" : tensor<2048x1024xbf16>
// CHECK:         %{{.*}} = lm.stacked_weight ["model.layers.1.mlp.experts.{}.gate_proj.weight", "model.layers.1.mlp.experts.{}.up_proj.weight"] x 8 : tensor<8x64x64xbf16>
// CHECK:         %{{.*}} = lm.stacked_weight ["model.layers.1.mlp.experts.{}.down_proj.weight"] x 4 : tensor<4x32x16xf32>
// CHECK:         %{{.*}} = lm.transpose %{{.*}} [0, 2, 1] : tensor<4x32x16xf32> -> tensor<4x16x32xf32>
func.func @weights() -> (tensor<2048x1024xbf16>, tensor<8x64x64xbf16>,
                         tensor<4x32x16xf32>, tensor<4x16x32xf32>) {
  %w = lm.weight "model.layers.0.self_attn.q_proj.weight" : tensor<2048x1024xbf16>
  %gu = lm.stacked_weight ["model.layers.1.mlp.experts.{}.gate_proj.weight",
                           "model.layers.1.mlp.experts.{}.up_proj.weight"] x 8
        : tensor<8x64x64xbf16>
  %dn = lm.stacked_weight ["model.layers.1.mlp.experts.{}.down_proj.weight"] x 4
        : tensor<4x32x16xf32>
  %t = lm.transpose %dn [0, 2, 1] : tensor<4x32x16xf32> -> tensor<4x16x32xf32>
  return %w, %gu, %dn, %t : tensor<2048x1024xbf16>, tensor<8x64x64xbf16>,
                            tensor<4x32x16xf32>, tensor<4x16x32xf32>
}

//===----------------------------------------------------------------------===//
// Embedding and output
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @embed(
// CHECK:         %{{.*}} = lm.embed %{{.*}}, %{{.*}} : tensor<256x64xf32>, tensor<?x?xi64> -> tensor<?x?x64xf32>
// CHECK:         %{{.*}} = lm.embed %{{.*}}, %{{.*}} {scale = 8.000000e+00 : f64} : tensor<256x64xf32>, tensor<2x?xi32> -> tensor<2x?x64xf32>
// CHECK:         %{{.*}} = lm.softcap %{{.*}} {cap = 3.000000e+01 : f64} : tensor<?x?x256xf32>
func.func @embed(%table: tensor<256x64xf32>, %ids: tensor<?x?xi64>,
                 %ids32: tensor<2x?xi32>, %logits: tensor<?x?x256xf32>)
    -> (tensor<?x?x64xf32>, tensor<2x?x64xf32>, tensor<?x?x256xf32>) {
  %h = lm.embed %table, %ids : tensor<256x64xf32>, tensor<?x?xi64> -> tensor<?x?x64xf32>
  %g = lm.embed %table, %ids32 {scale = 8.0 : f64}
     : tensor<256x64xf32>, tensor<2x?xi32> -> tensor<2x?x64xf32>
  %l = lm.softcap %logits {cap = 30.0 : f64} : tensor<?x?x256xf32>
  return %h, %g, %l : tensor<?x?x64xf32>, tensor<2x?x64xf32>, tensor<?x?x256xf32>
}

// CHECK-LABEL: func.func @select_rows(
// CHECK:         %{{.*}} = lm.select_rows %{{.*}}, %{{.*}} : tensor<?x?x64xf32>, tensor<?x?xi64> -> tensor<?x?x64xf32>
// CHECK:         %{{.*}} = lm.select_rows %{{.*}}, %{{.*}} : tensor<2x?x64xbf16>, tensor<2x1xi32> -> tensor<2x1x64xbf16>
func.func @select_rows(%h: tensor<?x?x64xf32>, %rows: tensor<?x?xi64>,
                       %g: tensor<2x?x64xbf16>, %last: tensor<2x1xi32>)
    -> (tensor<?x?x64xf32>, tensor<2x1x64xbf16>) {
  %a = lm.select_rows %h, %rows : tensor<?x?x64xf32>, tensor<?x?xi64> -> tensor<?x?x64xf32>
  %b = lm.select_rows %g, %last : tensor<2x?x64xbf16>, tensor<2x1xi32> -> tensor<2x1x64xbf16>
  return %a, %b : tensor<?x?x64xf32>, tensor<2x1x64xbf16>
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @gated_rms_norm(
// CHECK:         %{{.*}} = lm.gated_rms_norm %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 9.9999999999999995E-7 : f64} : tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<16xf32> -> tensor<?x?x4x16xf32>
// CHECK:         %{{.*}} = lm.gated_rms_norm %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 9.9999999999999995E-7 : f64, norm_before_gate} : tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<16xf32> -> tensor<?x?x4x16xf32>
// CHECK:         %{{.*}} = lm.gated_rms_norm %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-05 : f64, gate_activation = #lm.activation<sigmoid>, group_size = 8 : i64} : tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<16xf32> -> tensor<?x?x4x16xf32>
func.func @gated_rms_norm(%x: tensor<?x?x4x16xf32>, %z: tensor<?x?x4x16xf32>,
                          %w: tensor<16xf32>)
    -> (tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>) {
  %a = lm.gated_rms_norm %x, %z, %w {epsilon = 1.0e-06 : f64}
     : tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<16xf32> -> tensor<?x?x4x16xf32>
  %b = lm.gated_rms_norm %x, %z, %w {epsilon = 1.0e-06 : f64, norm_before_gate}
     : tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<16xf32> -> tensor<?x?x4x16xf32>
  %c = lm.gated_rms_norm %x, %z, %w {epsilon = 1.0e-05 : f64, group_size = 8 : i64,
                                     gate_activation = #lm.activation<sigmoid>}
     : tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<16xf32> -> tensor<?x?x4x16xf32>
  return %a, %b, %c : tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>
}

// CHECK-LABEL: func.func @norms(
// CHECK:         %{{.*}} = lm.l2_norm %{{.*}} {epsilon = 9.9999999999999995E-7 : f64} : tensor<?x?x4x16xf32>
// CHECK:         %{{.*}} = lm.layer_norm %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 9.9999999999999995E-7 : f64} : tensor<?x?x64xf32>, tensor<64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
// CHECK:         %{{.*}} = lm.layer_norm %{{.*}}, %{{.*}} {epsilon = 1.000000e-05 : f64} : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
// CHECK:         %{{.*}} = lm.rms_norm %{{.*}}, %{{.*}} {epsilon = 9.9999999999999995E-7 : f64} : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
// CHECK:         %{{.*}} = lm.rms_norm %{{.*}} {epsilon = 1.000000e-05 : f64} : tensor<?x?x4x16xf32> -> tensor<?x?x4x16xf32>
// CHECK:         %{{.*}} = lm.rms_norm %{{.*}}, %{{.*}} {epsilon = 9.9999999999999995E-7 : f64, weight_offset = 1.000000e+00 : f64} : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
func.func @norms(%x: tensor<?x?x64xf32>, %w: tensor<64xf32>, %b: tensor<64xf32>,
                 %h: tensor<?x?x4x16xf32>)
    -> (tensor<?x?x4x16xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>,
        tensor<?x?x64xf32>, tensor<?x?x4x16xf32>, tensor<?x?x64xf32>) {
  %l2 = lm.l2_norm %h {epsilon = 1.0e-06 : f64} : tensor<?x?x4x16xf32>
  %ln = lm.layer_norm %x, %w, %b {epsilon = 1.0e-06 : f64}
      : tensor<?x?x64xf32>, tensor<64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
  %ln2 = lm.layer_norm %x, %w {epsilon = 1.0e-05 : f64}
       : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
  %rn = lm.rms_norm %x, %w {epsilon = 1.0e-06 : f64}
      : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
  %rn2 = lm.rms_norm %h {epsilon = 1.0e-05 : f64} : tensor<?x?x4x16xf32> -> tensor<?x?x4x16xf32>
  %rn3 = lm.rms_norm %x, %w {epsilon = 1.0e-06 : f64, weight_offset = 1.0 : f64}
       : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
  return %l2, %ln, %ln2, %rn, %rn2, %rn3
      : tensor<?x?x4x16xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>,
        tensor<?x?x64xf32>, tensor<?x?x4x16xf32>, tensor<?x?x64xf32>
}

//===----------------------------------------------------------------------===//
// Projections and shapes
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @projections(
// CHECK:         %{{.*}} = lm.linear %{{.*}}, %{{.*}} : tensor<?x?x64xf32>, tensor<128x64xf32> -> tensor<?x?x128xf32>
// CHECK:         %{{.*}} = lm.linear %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x?x64xf32>, tensor<64x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
// CHECK:         %{{.*}} = lm.grouped_linear %{{.*}}, %{{.*}} : tensor<?x?x2x64xf32>, tensor<64x64xf32> -> tensor<?x?x2x32xf32>
func.func @projections(%x: tensor<?x?x64xf32>, %wq: tensor<128x64xf32>,
                       %wo: tensor<64x64xf32>, %bo: tensor<64xf32>,
                       %g: tensor<?x?x2x64xf32>)
    -> (tensor<?x?x128xf32>, tensor<?x?x64xf32>, tensor<?x?x2x32xf32>) {
  %q = lm.linear %x, %wq : tensor<?x?x64xf32>, tensor<128x64xf32> -> tensor<?x?x128xf32>
  %o = lm.linear %x, %wo, %bo
     : tensor<?x?x64xf32>, tensor<64x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
  %y = lm.grouped_linear %g, %wo
     : tensor<?x?x2x64xf32>, tensor<64x64xf32> -> tensor<?x?x2x32xf32>
  return %q, %o, %y : tensor<?x?x128xf32>, tensor<?x?x64xf32>, tensor<?x?x2x32xf32>
}

// CHECK-LABEL: func.func @shapes(
// CHECK:         %{{.*}} = lm.split_heads %{{.*}} : tensor<?x?x64xf32> -> tensor<?x?x4x16xf32>
// CHECK:         %{{.*}} = lm.merge_heads %{{.*}} : tensor<?x?x4x16xf32> -> tensor<?x?x64xf32>
// CHECK:         %{{.*}} = lm.slice %{{.*}}[8, 32] : tensor<?x?x64xf32> -> tensor<?x?x32xf32>
// CHECK:         %{{.*}} = lm.concat %{{.*}}, %{{.*}} : tensor<?x?x4x8xf32>, tensor<?x?x4x4xf32> -> tensor<?x?x4x12xf32>
// CHECK:         %{{.*}} = lm.concat %{{.*}}, %{{.*}} : tensor<?x?x64xf32>, tensor<?x?x32xf32> -> tensor<?x?x96xf32>
func.func @shapes(%x: tensor<?x?x64xf32>, %a: tensor<?x?x4x8xf32>, %b: tensor<?x?x4x4xf32>)
    -> (tensor<?x?x4x16xf32>, tensor<?x?x64xf32>, tensor<?x?x32xf32>,
        tensor<?x?x4x12xf32>, tensor<?x?x96xf32>) {
  %h = lm.split_heads %x : tensor<?x?x64xf32> -> tensor<?x?x4x16xf32>
  %m = lm.merge_heads %h : tensor<?x?x4x16xf32> -> tensor<?x?x64xf32>
  %s = lm.slice %x [8, 32] : tensor<?x?x64xf32> -> tensor<?x?x32xf32>
  %c = lm.concat %a, %b : tensor<?x?x4x8xf32>, tensor<?x?x4x4xf32> -> tensor<?x?x4x12xf32>
  %c3 = lm.concat %x, %s : tensor<?x?x64xf32>, tensor<?x?x32xf32> -> tensor<?x?x96xf32>
  return %h, %m, %s, %c, %c3 : tensor<?x?x4x16xf32>, tensor<?x?x64xf32>,
      tensor<?x?x32xf32>, tensor<?x?x4x12xf32>, tensor<?x?x96xf32>
}

//===----------------------------------------------------------------------===//
// Pointwise
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @activations(
// CHECK:         %{{.*}} = lm.activation %{{.*}} {kind = #lm.activation<silu>} : tensor<?x?x64xf32>
// CHECK:         %{{.*}} = lm.activation %{{.*}} {kind = #lm.activation<gelu>} : tensor<?x?x64xf32>
// CHECK:         %{{.*}} = lm.activation %{{.*}} {kind = #lm.activation<gelu_tanh>} : tensor<?x?x64xf32>
// CHECK:         %{{.*}} = lm.activation %{{.*}} {kind = #lm.activation<relu>} : tensor<?x?x64xf32>
// CHECK:         %{{.*}} = lm.activation %{{.*}} {kind = #lm.activation<relu2>} : tensor<?x?x64xf32>
// CHECK:         %{{.*}} = lm.activation %{{.*}} {kind = #lm.activation<sigmoid>} : tensor<?x?x64xf32>
// CHECK:         %{{.*}} = lm.activation %{{.*}} {kind = #lm.activation<softplus>} : tensor<?x?x64xf32>
// CHECK:         %{{.*}} = lm.activation %{{.*}} {kind = #lm.activation<identity>} : tensor<?x?x64xf32>
func.func @activations(%x: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %0 = lm.activation %x {kind = #lm.activation<silu>} : tensor<?x?x64xf32>
  %1 = lm.activation %0 {kind = #lm.activation<gelu>} : tensor<?x?x64xf32>
  %2 = lm.activation %1 {kind = #lm.activation<gelu_tanh>} : tensor<?x?x64xf32>
  %3 = lm.activation %2 {kind = #lm.activation<relu>} : tensor<?x?x64xf32>
  %4 = lm.activation %3 {kind = #lm.activation<relu2>} : tensor<?x?x64xf32>
  %5 = lm.activation %4 {kind = #lm.activation<sigmoid>} : tensor<?x?x64xf32>
  %6 = lm.activation %5 {kind = #lm.activation<softplus>} : tensor<?x?x64xf32>
  %7 = lm.activation %6 {kind = #lm.activation<identity>} : tensor<?x?x64xf32>
  return %7 : tensor<?x?x64xf32>
}

// CHECK-LABEL: func.func @gates(
// CHECK:         %{{.*}} = lm.gate %{{.*}}, %{{.*}} {kind = #lm.activation<sigmoid>} : tensor<?x?x64xf32>, tensor<?x?x64xf32> -> tensor<?x?x64xf32>
// CHECK:         %{{.*}} = lm.gate %{{.*}}, %{{.*}} {kind = #lm.activation<sigmoid>} : tensor<?x?x64xf32>, tensor<?x?x1xf32> -> tensor<?x?x64xf32>
func.func @gates(%x: tensor<?x?x64xf32>, %g: tensor<?x?x64xf32>, %g1: tensor<?x?x1xf32>)
    -> (tensor<?x?x64xf32>, tensor<?x?x64xf32>) {
  %a = lm.gate %x, %g {kind = #lm.activation<sigmoid>}
     : tensor<?x?x64xf32>, tensor<?x?x64xf32> -> tensor<?x?x64xf32>
  %b = lm.gate %x, %g1 {kind = #lm.activation<sigmoid>}
     : tensor<?x?x64xf32>, tensor<?x?x1xf32> -> tensor<?x?x64xf32>
  return %a, %b : tensor<?x?x64xf32>, tensor<?x?x64xf32>
}

// CHECK-LABEL: func.func @glus(
// CHECK:         %{{.*}} = lm.glu %{{.*}}, %{{.*}} {kind = #lm.glu<swiglu>} : tensor<?x?x128xf32>
// CHECK:         %{{.*}} = lm.glu %{{.*}}, %{{.*}} {kind = #lm.glu<geglu_tanh>} : tensor<?x?x128xf32>
// CHECK:         %{{.*}} = lm.glu %{{.*}}, %{{.*}} {kind = #lm.glu<clamped_swiglu>, limit = 1.000000e+01 : f64} : tensor<?x?x128xf32>
// CHECK:         %{{.*}} = lm.glu %{{.*}}, %{{.*}} {alpha = 1.702000e+00 : f64, kind = #lm.glu<gpt_oss_swiglu>, limit = 7.000000e+00 : f64} : tensor<?x?x128xf32>
func.func @glus(%g: tensor<?x?x128xf32>, %u: tensor<?x?x128xf32>)
    -> (tensor<?x?x128xf32>, tensor<?x?x128xf32>, tensor<?x?x128xf32>, tensor<?x?x128xf32>) {
  %a = lm.glu %g, %u {kind = #lm.glu<swiglu>} : tensor<?x?x128xf32>
  %b = lm.glu %g, %u {kind = #lm.glu<geglu_tanh>} : tensor<?x?x128xf32>
  %c = lm.glu %g, %u {kind = #lm.glu<clamped_swiglu>, limit = 10.0 : f64} : tensor<?x?x128xf32>
  %d = lm.glu %g, %u {alpha = 1.702 : f64, kind = #lm.glu<gpt_oss_swiglu>, limit = 7.0 : f64}
     : tensor<?x?x128xf32>
  return %a, %b, %c, %d : tensor<?x?x128xf32>, tensor<?x?x128xf32>, tensor<?x?x128xf32>,
                          tensor<?x?x128xf32>
}

//===----------------------------------------------------------------------===//
// Positions
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @attention_temperature(
// CHECK:         %{{.*}} = lm.attention_temperature %{{.*}}, %{{.*}} {attn_scale = 1.000000e-01 : f64, floor_scale = 8.192000e+03 : f64} : tensor<?x?x4x16xf32>, tensor<?x?xi64>
func.func @attention_temperature(%q: tensor<?x?x4x16xf32>, %pos: tensor<?x?xi64>)
    -> tensor<?x?x4x16xf32> {
  %q2 = lm.attention_temperature %q, %pos {attn_scale = 1.0e-01 : f64, floor_scale = 8.192e+03 : f64}
      : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  return %q2 : tensor<?x?x4x16xf32>
}

// CHECK-LABEL: func.func @rope(
// CHECK:         %{{.*}} = lm.rope %{{.*}}, %{{.*}} {rotary_dim = 16 : i64, theta = 1.000000e+04 : f64} : tensor<?x?x4x16xf32>, tensor<?x?xi64>
// CHECK:         %{{.*}} = lm.rope %{{.*}}, %{{.*}} {interleaved, rotary_dim = 16 : i64, theta = 1.000000e+04 : f64} : tensor<?x?x4x16xf32>, tensor<?x?xi64>
// CHECK:         %{{.*}} = lm.rope %{{.*}}, %{{.*}} {rotary_dim = 8 : i64, theta = 1.000000e+06 : f64} : tensor<?x?x4x16xf32>, tensor<?x?xi64>
// CHECK:         %{{.*}} = lm.rope %{{.*}}, %{{.*}} {interleaved, inverse, rotary_dim = 4 : i64, rotary_offset = 12 : i64, theta = 1.000000e+04 : f64} : tensor<?x?x4x16xf32>, tensor<?x?xi64>
// CHECK:         %{{.*}} = lm.rope %{{.*}}, %{{.*}} {rotary_dim = 16 : i64, scaling = {factor = 2.000000e+00 : f64, rope_type = "linear"}, theta = 1.000000e+04 : f64} : tensor<?x?x4x16xf32>, tensor<?x?xi64>
// CHECK:         %{{.*}} = lm.rope %{{.*}}, %{{.*}} {rotary_dim = 16 : i64, scaling = {factor = 8.000000e+00 : f64, high_freq_factor = 4.000000e+00 : f64, low_freq_factor = 1.000000e+00 : f64, original_max_position_embeddings = 8192 : i64, rope_type = "llama3"}, theta = 5.000000e+05 : f64} : tensor<?x?x4x16xf32>, tensor<?x?xi64>
// CHECK:         %{{.*}} = lm.rope %{{.*}}, %{{.*}} {rotary_dim = 16 : i64, scaling = {attention_factor = 1.100000e+00 : f64, beta_fast = 3.200000e+01 : f64, beta_slow = 1.000000e+00 : f64, factor = 4.000000e+00 : f64, original_max_position_embeddings = 4096 : i64, rope_type = "yarn", truncate = false}, theta = 1.000000e+04 : f64} : tensor<?x?x4x16xf32>, tensor<?x?xi64>
func.func @rope(%x: tensor<?x?x4x16xf32>, %pos: tensor<?x?xi64>)
    -> (tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>,
        tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>,
        tensor<?x?x4x16xf32>) {
  %a = lm.rope %x, %pos {rotary_dim = 16 : i64, theta = 1.0e+04 : f64}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  %b = lm.rope %x, %pos {interleaved, rotary_dim = 16 : i64, theta = 1.0e+04 : f64}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  %c = lm.rope %x, %pos {rotary_dim = 8 : i64, theta = 1.0e+06 : f64}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  %d = lm.rope %x, %pos {inverse, interleaved, rotary_dim = 4 : i64, rotary_offset = 12 : i64,
                         theta = 1.0e+04 : f64}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  %e = lm.rope %x, %pos {rotary_dim = 16 : i64, theta = 1.0e+04 : f64,
                         scaling = {rope_type = "linear", factor = 2.0 : f64}}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  %f = lm.rope %x, %pos {rotary_dim = 16 : i64, theta = 5.0e+05 : f64,
                         scaling = {rope_type = "llama3", factor = 8.0 : f64,
                                    low_freq_factor = 1.0 : f64, high_freq_factor = 4.0 : f64,
                                    original_max_position_embeddings = 8192 : i64}}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  %g = lm.rope %x, %pos {rotary_dim = 16 : i64, theta = 1.0e+04 : f64,
                         scaling = {rope_type = "yarn", factor = 4.0 : f64,
                                    original_max_position_embeddings = 4096 : i64,
                                    beta_fast = 32.0 : f64, beta_slow = 1.0 : f64,
                                    truncate = false, attention_factor = 1.1 : f64}}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  return %a, %b, %c, %d, %e, %f, %g
      : tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>,
        tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>,
        tensor<?x?x4x16xf32>
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @attention(
// CHECK:         %{{.*}} = lm.attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {scale = 2.500000e-01 : f64} : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x8xf32>, tensor<?x?xi64>) -> tensor<?x?x4x8xf32>
// CHECK:         %{{.*}} = lm.attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} sinks %{{.*}} {scale = 2.500000e-01 : f64, sliding_window = 128 : i64} : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x8xf32>, tensor<?x?xi64>, tensor<4xf32>) -> tensor<?x?x4x8xf32>
// CHECK:         %{{.*}} = lm.attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {chunk_size = 8192 : i64, scale = 2.500000e-01 : f64} : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x8xf32>, tensor<?x?xi64>) -> tensor<?x?x4x8xf32>
// CHECK:         %{{.*}} = lm.attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {scale = 2.500000e-01 : f64, softcap = 5.000000e+01 : f64} : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x8xf32>, tensor<?x?xi64>) -> tensor<?x?x4x8xf32>
func.func @attention(%q: tensor<?x?x4x16xf32>, %k: tensor<?x?x2x16xf32>,
                     %v: tensor<?x?x2x8xf32>, %pos: tensor<?x?xi64>,
                     %sinks: tensor<4xf32>)
    -> (tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>) {
  %a = lm.attention %q, %k, %v, %pos {scale = 0.25 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x8xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x8xf32>
  %b = lm.attention %q, %k, %v, %pos sinks %sinks {scale = 0.25 : f64, sliding_window = 128 : i64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x8xf32>, tensor<?x?xi64>,
        tensor<4xf32>) -> tensor<?x?x4x8xf32>
  %c = lm.attention %q, %k, %v, %pos {chunk_size = 8192 : i64, scale = 0.25 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x8xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x8xf32>
  %d = lm.attention %q, %k, %v, %pos {scale = 0.25 : f64, softcap = 50.0 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x8xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x8xf32>
  return %a, %b, %c, %d : tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>,
                          tensor<?x?x4x8xf32>
}

// Attention whose products take bf16 operands (--dtype bf16).
// CHECK-LABEL: func.func @attention_bf16_products(
// CHECK:         %{{.*}} = lm.attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {bf16_products, scale = 2.500000e-01 : f64} : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x8xf32>, tensor<?x?xi64>) -> tensor<?x?x4x8xf32>
func.func @attention_bf16_products(%q: tensor<?x?x4x16xf32>, %k: tensor<?x?x2x16xf32>,
                                   %v: tensor<?x?x2x8xf32>, %pos: tensor<?x?xi64>)
    -> tensor<?x?x4x8xf32> {
  %a = lm.attention %q, %k, %v, %pos {bf16_products, scale = 0.25 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x8xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x8xf32>
  return %a : tensor<?x?x4x8xf32>
}

// CHECK-LABEL: func.func @compressed_attention(
// CHECK:         %{{.*}} = lm.compressed_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {scale = 1.700000e-01 : f64, sliding_window = 8 : i64} : (tensor<?x?x4x32xf32>, tensor<?x?x32xf32>, tensor<?x?xi64>, tensor<4xf32>) -> tensor<?x?x4x32xf32>
// CHECK:         %{{.*}} = lm.compressed_attention %{{.*}}, %{{.*}} entries %{{.*}}, %{{.*}}, %{{.*}} {ratio = 128 : i64, scale = 1.700000e-01 : f64, sliding_window = 8 : i64} : (tensor<?x?x4x32xf32>, tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<?x?xi64>, tensor<4xf32>) -> tensor<?x?x4x32xf32>
// CHECK:         %{{.*}} = lm.compressed_attention %{{.*}}, %{{.*}} entries %{{.*}}, %{{.*}}, %{{.*}} selected %{{.*}} {ratio = 4 : i64, scale = 1.700000e-01 : f64, sliding_window = 8 : i64} : (tensor<?x?x4x32xf32>, tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<?x?xi64>, tensor<4xf32>, tensor<?x?x8xi64>) -> tensor<?x?x4x32xf32>
func.func @compressed_attention(%q: tensor<?x?x4x32xf32>, %kv: tensor<?x?x32xf32>,
                                %entries: tensor<?x?x32xf32>, %pos: tensor<?x?xi64>,
                                %sinks: tensor<4xf32>, %sel: tensor<?x?x8xi64>)
    -> (tensor<?x?x4x32xf32>, tensor<?x?x4x32xf32>, tensor<?x?x4x32xf32>) {
  %a = lm.compressed_attention %q, %kv, %pos, %sinks {scale = 0.17 : f64, sliding_window = 8 : i64}
     : (tensor<?x?x4x32xf32>, tensor<?x?x32xf32>, tensor<?x?xi64>, tensor<4xf32>)
     -> tensor<?x?x4x32xf32>
  %b = lm.compressed_attention %q, %kv entries %entries, %pos, %sinks
         {ratio = 128 : i64, scale = 0.17 : f64, sliding_window = 8 : i64}
     : (tensor<?x?x4x32xf32>, tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<?x?xi64>,
        tensor<4xf32>) -> tensor<?x?x4x32xf32>
  %c = lm.compressed_attention %q, %kv entries %entries, %pos, %sinks selected %sel
         {ratio = 4 : i64, scale = 0.17 : f64, sliding_window = 8 : i64}
     : (tensor<?x?x4x32xf32>, tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<?x?xi64>,
        tensor<4xf32>, tensor<?x?x8xi64>) -> tensor<?x?x4x32xf32>
  return %a, %b, %c : tensor<?x?x4x32xf32>, tensor<?x?x4x32xf32>, tensor<?x?x4x32xf32>
}

// CHECK-LABEL: func.func @lightning_indexer(
// CHECK:         %{{.*}} = lm.lightning_indexer %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {scale = 2.500000e-01 : f64, top_k = 8 : i64} : (tensor<?x?x16x16xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?xi64>) -> tensor<?x?x8xi64>
// CHECK:         %{{.*}} = lm.lightning_indexer %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {ratio = 4 : i64, scale = 2.500000e-01 : f64, top_k = 4 : i64} : (tensor<?x?x16x16xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?xi64>) -> tensor<?x?x4xi64>
func.func @lightning_indexer(%qi: tensor<?x?x16x16xf32>, %ki: tensor<?x?x16xf32>,
                             %wi: tensor<?x?x16xf32>, %pos: tensor<?x?xi64>)
    -> (tensor<?x?x8xi64>, tensor<?x?x4xi64>) {
  %a = lm.lightning_indexer %qi, %ki, %wi, %pos {scale = 0.25 : f64, top_k = 8 : i64}
     : (tensor<?x?x16x16xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x8xi64>
  %b = lm.lightning_indexer %qi, %ki, %wi, %pos {ratio = 4 : i64, scale = 0.25 : f64, top_k = 4 : i64}
     : (tensor<?x?x16x16xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4xi64>
  return %a, %b : tensor<?x?x8xi64>, tensor<?x?x4xi64>
}

// CHECK-LABEL: func.func @mla_attention(
// CHECK:         %{{.*}} = lm.mla_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {scale = 2.000000e-01 : f64} : (tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>, tensor<128x32xf32>, tensor<?x?xi64>) -> tensor<?x?x4x16xf32>
// CHECK:         %{{.*}} = lm.mla_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} selected %{{.*}} {bf16_products, scale = 2.000000e-01 : f64} : (tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>, tensor<128x32xf32>, tensor<?x?xi64>, tensor<?x?x8xi64>) -> tensor<?x?x4x16xf32>
func.func @mla_attention(%qn: tensor<?x?x4x16xf32>, %qr: tensor<?x?x4x8xf32>,
                         %c: tensor<?x?x32xf32>, %kr: tensor<?x?x8xf32>,
                         %wkvb: tensor<128x32xf32>, %pos: tensor<?x?xi64>,
                         %sel: tensor<?x?x8xi64>)
    -> (tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>) {
  %a = lm.mla_attention %qn, %qr, %c, %kr, %wkvb, %pos {scale = 0.2 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>,
        tensor<128x32xf32>, tensor<?x?xi64>) -> tensor<?x?x4x16xf32>
  %b = lm.mla_attention %qn, %qr, %c, %kr, %wkvb, %pos selected %sel {bf16_products, scale = 0.2 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>,
        tensor<128x32xf32>, tensor<?x?xi64>, tensor<?x?x8xi64>) -> tensor<?x?x4x16xf32>
  return %a, %b : tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>
}

//===----------------------------------------------------------------------===//
// Inference state
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @kv_compress(
// CHECK:         %{{.*}}, %{{.*}}, %{{.*}} = lm.kv_compress %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (!lm.compressed_cache<32, f32, ratio = 8>, tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<8x32xf32>, tensor<?x?xi64>) -> (!lm.compressed_cache<32, f32, ratio = 8>, tensor<?x?x32xf32>, tensor<?x?xi64>)
// CHECK:         %{{.*}}, %{{.*}}, %{{.*}} = lm.kv_compress %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (!lm.compressed_cache<16, f32, ratio = 4, overlap = true>, tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<4x32xf32>, tensor<?x?xi64>) -> (!lm.compressed_cache<16, f32, ratio = 4, overlap = true>, tensor<?x?x16xf32>, tensor<?x?xi64>)
func.func @kv_compress(%c0: !lm.compressed_cache<32, f32, ratio = 8>,
                       %kv: tensor<?x?x32xf32>, %g: tensor<?x?x32xf32>,
                       %ape: tensor<8x32xf32>, %pos: tensor<?x?xi64>,
                       %o0: !lm.compressed_cache<16, f32, ratio = 4, overlap = true>,
                       %ape4: tensor<4x32xf32>)
    -> (!lm.compressed_cache<32, f32, ratio = 8>, tensor<?x?x32xf32>, tensor<?x?xi64>,
        !lm.compressed_cache<16, f32, ratio = 4, overlap = true>, tensor<?x?x16xf32>,
        tensor<?x?xi64>) {
  %c1, %e, %epos = lm.kv_compress %c0, %kv, %g, %ape, %pos
      : (!lm.compressed_cache<32, f32, ratio = 8>, tensor<?x?x32xf32>, tensor<?x?x32xf32>,
         tensor<8x32xf32>, tensor<?x?xi64>)
      -> (!lm.compressed_cache<32, f32, ratio = 8>, tensor<?x?x32xf32>, tensor<?x?xi64>)
  %o1, %oe, %opos = lm.kv_compress %o0, %kv, %g, %ape4, %pos
      : (!lm.compressed_cache<16, f32, ratio = 4, overlap = true>, tensor<?x?x32xf32>,
         tensor<?x?x32xf32>, tensor<4x32xf32>, tensor<?x?xi64>)
      -> (!lm.compressed_cache<16, f32, ratio = 4, overlap = true>, tensor<?x?x16xf32>,
          tensor<?x?xi64>)
  return %c1, %e, %epos, %o1, %oe, %opos
      : !lm.compressed_cache<32, f32, ratio = 8>, tensor<?x?x32xf32>, tensor<?x?xi64>,
        !lm.compressed_cache<16, f32, ratio = 4, overlap = true>, tensor<?x?x16xf32>,
        tensor<?x?xi64>
}

// CHECK-LABEL: func.func @cache_updates(
// CHECK:         %{{.*}}, %{{.*}} = lm.key_cache_update %{{.*}}, %{{.*}}, %{{.*}} : (!lm.key_cache<16, f32>, tensor<?x?x16xf32>, tensor<?x?xi64>) -> (!lm.key_cache<16, f32>, tensor<?x?x16xf32>)
// CHECK:         %{{.*}}, %{{.*}}, %{{.*}} = lm.kv_cache_update %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (!lm.kv_cache<2 x 16 x 8, f32, window = 64>, tensor<?x?x2x16xf32>, tensor<?x?x2x8xf32>, tensor<?x?xi64>) -> (!lm.kv_cache<2 x 16 x 8, f32, window = 64>, tensor<?x?x2x16xf32>, tensor<?x?x2x8xf32>)
// CHECK:         %{{.*}}, %{{.*}}, %{{.*}} = lm.latent_cache_update %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (!lm.latent_cache<32 + 8, f32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>, tensor<?x?xi64>) -> (!lm.latent_cache<32 + 8, f32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>)
func.func @cache_updates(%kc0: !lm.key_cache<16, f32>, %k1: tensor<?x?x16xf32>,
                         %cc0: !lm.kv_cache<2 x 16 x 8, f32, window = 64>,
                         %k: tensor<?x?x2x16xf32>, %v: tensor<?x?x2x8xf32>,
                         %lc0: !lm.latent_cache<32 + 8, f32>, %c: tensor<?x?x32xf32>,
                         %kr: tensor<?x?x8xf32>, %pos: tensor<?x?xi64>)
    -> (!lm.key_cache<16, f32>, !lm.kv_cache<2 x 16 x 8, f32, window = 64>,
        !lm.latent_cache<32 + 8, f32>) {
  %kc1, %keys = lm.key_cache_update %kc0, %k1, %pos
      : (!lm.key_cache<16, f32>, tensor<?x?x16xf32>, tensor<?x?xi64>)
      -> (!lm.key_cache<16, f32>, tensor<?x?x16xf32>)
  %cc1, %ks, %vs = lm.kv_cache_update %cc0, %k, %v, %pos
      : (!lm.kv_cache<2 x 16 x 8, f32, window = 64>, tensor<?x?x2x16xf32>,
         tensor<?x?x2x8xf32>, tensor<?x?xi64>)
      -> (!lm.kv_cache<2 x 16 x 8, f32, window = 64>, tensor<?x?x2x16xf32>,
          tensor<?x?x2x8xf32>)
  %lc1, %lat, %krs = lm.latent_cache_update %lc0, %c, %kr, %pos
      : (!lm.latent_cache<32 + 8, f32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>, tensor<?x?xi64>)
      -> (!lm.latent_cache<32 + 8, f32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>)
  return %kc1, %cc1, %lc1 : !lm.key_cache<16, f32>,
      !lm.kv_cache<2 x 16 x 8, f32, window = 64>, !lm.latent_cache<32 + 8, f32>
}

// A bf16 cache stores f32 keys and values rounded; attention reads them as
// stored (lm-set-cache-types).
// CHECK-LABEL: func.func @bf16_kv_cache(
// CHECK:         %{{.*}}, %{{.*}}, %{{.*}} = lm.kv_cache_update %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (!lm.kv_cache<2 x 16 x 8, bf16>, tensor<?x?x2x16xf32>, tensor<?x?x2x8xf32>, tensor<?x?xi64>) -> (!lm.kv_cache<2 x 16 x 8, bf16>, tensor<?x?x2x16xbf16>, tensor<?x?x2x8xbf16>)
// CHECK:         lm.attention {{.*}} : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xbf16>, tensor<?x?x2x8xbf16>, tensor<?x?xi64>) -> tensor<?x?x4x8xf32>
func.func @bf16_kv_cache(%c0: !lm.kv_cache<2 x 16 x 8, bf16>, %q: tensor<?x?x4x16xf32>,
                         %k: tensor<?x?x2x16xf32>, %v: tensor<?x?x2x8xf32>,
                         %pos: tensor<?x?xi64>) -> tensor<?x?x4x8xf32> {
  %c1, %ks, %vs = lm.kv_cache_update %c0, %k, %v, %pos
      : (!lm.kv_cache<2 x 16 x 8, bf16>, tensor<?x?x2x16xf32>, tensor<?x?x2x8xf32>, tensor<?x?xi64>)
      -> (!lm.kv_cache<2 x 16 x 8, bf16>, tensor<?x?x2x16xbf16>, tensor<?x?x2x8xbf16>)
  %o = lm.attention %q, %ks, %vs, %pos {scale = 0.25 : f64}
      : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xbf16>, tensor<?x?x2x8xbf16>, tensor<?x?xi64>) -> tensor<?x?x4x8xf32>
  return %o : tensor<?x?x4x8xf32>
}

//===----------------------------------------------------------------------===//
// Recurrent mixers
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @causal_conv1d(
// CHECK:         %{{.*}}, %{{.*}} = lm.causal_conv1d %{{.*}}, %{{.*}}, %{{.*}} {activation = #lm.activation<silu>} : (tensor<?x?x96xf32>, tensor<96x1x4xf32>, !lm.recurrent_state<[96, 3], f32>) -> (tensor<?x?x96xf32>, !lm.recurrent_state<[96, 3], f32>)
// CHECK:         %{{.*}}, %{{.*}} = lm.causal_conv1d %{{.*}}, %{{.*}} bias %{{.*}}, %{{.*}} {activation = #lm.activation<identity>} : (tensor<?x?x96xf32>, tensor<96x1x4xf32>, tensor<96xf32>, !lm.recurrent_state<[96, 3], f32>) -> (tensor<?x?x96xf32>, !lm.recurrent_state<[96, 3], f32>)
func.func @causal_conv1d(%x: tensor<?x?x96xf32>, %w: tensor<96x1x4xf32>,
                         %b: tensor<96xf32>, %s0: !lm.recurrent_state<[96, 3], f32>)
    -> (tensor<?x?x96xf32>, tensor<?x?x96xf32>, !lm.recurrent_state<[96, 3], f32>) {
  %y, %s1 = lm.causal_conv1d %x, %w, %s0 {activation = #lm.activation<silu>}
      : (tensor<?x?x96xf32>, tensor<96x1x4xf32>, !lm.recurrent_state<[96, 3], f32>)
      -> (tensor<?x?x96xf32>, !lm.recurrent_state<[96, 3], f32>)
  %y2, %s2 = lm.causal_conv1d %x, %w bias %b, %s1 {activation = #lm.activation<identity>}
      : (tensor<?x?x96xf32>, tensor<96x1x4xf32>, tensor<96xf32>,
         !lm.recurrent_state<[96, 3], f32>)
      -> (tensor<?x?x96xf32>, !lm.recurrent_state<[96, 3], f32>)
  return %y, %y2, %s2 : tensor<?x?x96xf32>, tensor<?x?x96xf32>, !lm.recurrent_state<[96, 3], f32>
}

// CHECK-LABEL: func.func @decay_gate(
// CHECK:         %{{.*}} = lm.decay_gate %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x?x4xf32>, tensor<4xf32>, tensor<4xf32> -> tensor<?x?x4xf32>
// CHECK:         %{{.*}} = lm.decay_gate %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x?x4x16xf32>, tensor<4xf32>, tensor<64xf32> -> tensor<?x?x4x16xf32>
func.func @decay_gate(%a: tensor<?x?x4xf32>, %alog: tensor<4xf32>, %dtb: tensor<4xf32>,
                      %a4: tensor<?x?x4x16xf32>, %dtb4: tensor<64xf32>)
    -> (tensor<?x?x4xf32>, tensor<?x?x4x16xf32>) {
  %g = lm.decay_gate %a, %alog, %dtb
     : tensor<?x?x4xf32>, tensor<4xf32>, tensor<4xf32> -> tensor<?x?x4xf32>
  %g4 = lm.decay_gate %a4, %alog, %dtb4
      : tensor<?x?x4x16xf32>, tensor<4xf32>, tensor<64xf32> -> tensor<?x?x4x16xf32>
  return %g, %g4 : tensor<?x?x4xf32>, tensor<?x?x4x16xf32>
}

// CHECK-LABEL: func.func @gated_delta_rule(
// CHECK:         %{{.*}}, %{{.*}} = lm.gated_delta_rule %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {scale = 2.500000e-01 : f64} : (tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>, !lm.recurrent_state<[4, 16, 16], f32>) -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
// CHECK:         %{{.*}}, %{{.*}} = lm.gated_delta_rule %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {scale = 2.500000e-01 : f64} : (tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4xf32>, !lm.recurrent_state<[4, 16, 16], f32>) -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
func.func @gated_delta_rule(%q: tensor<?x?x2x16xf32>, %k: tensor<?x?x2x16xf32>,
                            %v: tensor<?x?x4x16xf32>, %g: tensor<?x?x4xf32>,
                            %gk: tensor<?x?x4x16xf32>, %beta: tensor<?x?x4xf32>,
                            %s0: !lm.recurrent_state<[4, 16, 16], f32>)
    -> (tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 16], f32>) {
  %o, %s1 = lm.gated_delta_rule %q, %k, %v, %g, %beta, %s0 {scale = 0.25 : f64}
      : (tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4xf32>,
         tensor<?x?x4xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
  %o2, %s2 = lm.gated_delta_rule %q, %k, %v, %gk, %beta, %s1 {scale = 0.25 : f64}
      : (tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>,
         tensor<?x?x4xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
  return %o, %o2, %s2 : tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>,
                        !lm.recurrent_state<[4, 16, 16], f32>
}

// CHECK-LABEL: func.func @selective_scan(
// CHECK:         %{{.*}}, %{{.*}} = lm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x?x4x16xf32>, tensor<?x?x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<4xf32>, !lm.recurrent_state<[4, 16, 8], f32>) -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
// CHECK:         %{{.*}}, %{{.*}} = lm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {dt_max = 1.000000e+02 : f64, dt_min = 1.000000e-03 : f64} : (tensor<?x?x4x16xf32>, tensor<?x?x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<4xf32>, !lm.recurrent_state<[4, 16, 8], f32>) -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
func.func @selective_scan(%x: tensor<?x?x4x16xf32>, %dt: tensor<?x?x4xf32>,
                          %dtb: tensor<4xf32>, %alog: tensor<4xf32>,
                          %b: tensor<?x?x1x8xf32>, %c: tensor<?x?x1x8xf32>,
                          %d: tensor<4xf32>, %s0: !lm.recurrent_state<[4, 16, 8], f32>)
    -> (tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 8], f32>) {
  %y, %s1 = lm.selective_scan %x, %dt, %dtb, %alog, %b, %c, %d, %s0
      : (tensor<?x?x4x16xf32>, tensor<?x?x4xf32>, tensor<4xf32>, tensor<4xf32>,
         tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<4xf32>,
         !lm.recurrent_state<[4, 16, 8], f32>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
  %y2, %s2 = lm.selective_scan %x, %dt, %dtb, %alog, %b, %c, %d, %s1
        {dt_max = 1.0e+02 : f64, dt_min = 1.0e-03 : f64}
      : (tensor<?x?x4x16xf32>, tensor<?x?x4xf32>, tensor<4xf32>, tensor<4xf32>,
         tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<4xf32>,
         !lm.recurrent_state<[4, 16, 8], f32>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
  return %y, %y2, %s2 : tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>,
                        !lm.recurrent_state<[4, 16, 8], f32>
}

// A ragged batch: the recurrences take the tokens each sequence holds.
// CHECK-LABEL: func.func @recurrences_with_lengths(
// CHECK:         lm.causal_conv1d %{{.*}}, %{{.*}} bias %{{.*}}, %{{.*}} lengths %{{.*}} {activation = #lm.activation<silu>} : (tensor<2x?x96xf32>, tensor<96x1x4xf32>, tensor<96xf32>, !lm.recurrent_state<[96, 3], f32>, tensor<2xi64>)
// CHECK:         lm.gated_delta_rule %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} lengths %{{.*}} {scale = 2.500000e-01 : f64} : ({{.*}}, !lm.recurrent_state<[4, 16, 16], f32>, tensor<?xi64>)
// CHECK:         lm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} lengths %{{.*}} : ({{.*}}, !lm.recurrent_state<[4, 16, 8], f32>, tensor<?xi64>)
func.func @recurrences_with_lengths(
    %x: tensor<2x?x96xf32>, %w: tensor<96x1x4xf32>, %bias: tensor<96xf32>,
    %cs: !lm.recurrent_state<[96, 3], f32>, %n2: tensor<2xi64>,
    %q: tensor<?x?x2x16xf32>, %v: tensor<?x?x4x16xf32>, %g: tensor<?x?x4xf32>,
    %ds: !lm.recurrent_state<[4, 16, 16], f32>, %n: tensor<?xi64>,
    %sx: tensor<?x?x4x16xf32>, %h: tensor<4xf32>, %b: tensor<?x?x1x8xf32>,
    %ss: !lm.recurrent_state<[4, 16, 8], f32>) {
  %y, %cs1 = lm.causal_conv1d %x, %w bias %bias, %cs lengths %n2
        {activation = #lm.activation<silu>}
      : (tensor<2x?x96xf32>, tensor<96x1x4xf32>, tensor<96xf32>,
         !lm.recurrent_state<[96, 3], f32>, tensor<2xi64>)
      -> (tensor<2x?x96xf32>, !lm.recurrent_state<[96, 3], f32>)
  %o, %ds1 = lm.gated_delta_rule %q, %q, %v, %g, %g, %ds lengths %n {scale = 0.25 : f64}
      : (tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4xf32>,
         tensor<?x?x4xf32>, !lm.recurrent_state<[4, 16, 16], f32>, tensor<?xi64>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
  %sy, %ss1 = lm.selective_scan %sx, %g, %h, %h, %b, %b, %h, %ss lengths %n
      : (tensor<?x?x4x16xf32>, tensor<?x?x4xf32>, tensor<4xf32>, tensor<4xf32>,
         tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<4xf32>,
         !lm.recurrent_state<[4, 16, 8], f32>, tensor<?xi64>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
  return
}

//===----------------------------------------------------------------------===//
// Hyper-connections
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @hyper_connections(
// CHECK:         %{{.*}} = lm.hc_expand %{{.*}} : tensor<?x?x64xf32> -> tensor<?x?x4x64xf32>
// CHECK:         %{{.*}}, %{{.*}}, %{{.*}} = lm.hc_pre %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 9.9999999999999995E-7 : f64, hc_epsilon = 9.9999999999999995E-7 : f64} : (tensor<?x?x4x64xf32>, tensor<24x256xf32>, tensor<24xf32>, tensor<3xf32>) -> (tensor<?x?x64xf32>, tensor<?x?x4xf32>, tensor<?x?x4x4xf32>)
// CHECK:         %{{.*}} = lm.sinkhorn %{{.*}} {epsilon = 9.9999999999999995E-7 : f64, iterations = 20 : i64} : tensor<?x?x4x4xf32>
// CHECK:         %{{.*}} = lm.hc_post %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x?x4x64xf32>, tensor<?x?x64xf32>, tensor<?x?x4xf32>, tensor<?x?x4x4xf32>) -> tensor<?x?x4x64xf32>
// CHECK:         %{{.*}} = lm.hc_collapse %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 9.9999999999999995E-7 : f64, hc_epsilon = 9.9999999999999995E-7 : f64} : (tensor<?x?x4x64xf32>, tensor<4x256xf32>, tensor<4xf32>, tensor<1xf32>) -> tensor<?x?x64xf32>
func.func @hyper_connections(%h: tensor<?x?x64xf32>, %fn: tensor<24x256xf32>,
                             %base: tensor<24xf32>, %scale: tensor<3xf32>,
                             %fn1: tensor<4x256xf32>, %base1: tensor<4xf32>,
                             %scale1: tensor<1xf32>, %out: tensor<?x?x64xf32>)
    -> (tensor<?x?x4x64xf32>, tensor<?x?x64xf32>) {
  %X = lm.hc_expand %h : tensor<?x?x64xf32> -> tensor<?x?x4x64xf32>
  %x, %post, %cl = lm.hc_pre %X, %fn, %base, %scale {epsilon = 1.0e-06 : f64, hc_epsilon = 1.0e-06 : f64}
      : (tensor<?x?x4x64xf32>, tensor<24x256xf32>, tensor<24xf32>, tensor<3xf32>)
      -> (tensor<?x?x64xf32>, tensor<?x?x4xf32>, tensor<?x?x4x4xf32>)
  %comb = lm.sinkhorn %cl {epsilon = 1.0e-06 : f64, iterations = 20 : i64} : tensor<?x?x4x4xf32>
  %X1 = lm.hc_post %X, %out, %post, %comb
      : (tensor<?x?x4x64xf32>, tensor<?x?x64xf32>, tensor<?x?x4xf32>, tensor<?x?x4x4xf32>)
      -> tensor<?x?x4x64xf32>
  %y = lm.hc_collapse %X1, %fn1, %base1, %scale1 {epsilon = 1.0e-06 : f64, hc_epsilon = 1.0e-06 : f64}
     : (tensor<?x?x4x64xf32>, tensor<4x256xf32>, tensor<4xf32>, tensor<1xf32>) -> tensor<?x?x64xf32>
  return %X1, %y : tensor<?x?x4x64xf32>, tensor<?x?x64xf32>
}

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @routers(
// CHECK:         %{{.*}}, %{{.*}} = lm.router %{{.*}} {scoring = #lm.scoring<softmax>, top_k = 2 : i64} : (tensor<?x?x8xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
// CHECK:         %{{.*}}, %{{.*}} = lm.router %{{.*}} bias %{{.*}} {normalize, normalize_epsilon = 9.9999999999999995E-21 : f64, num_groups = 4 : i64, routed_scaling = 2.500000e+00 : f64, scoring = #lm.scoring<sigmoid>, top_k = 2 : i64, top_k_groups = 2 : i64} : (tensor<?x?x8xf32>, tensor<8xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
// CHECK:         %{{.*}}, %{{.*}} = lm.hash_router %{{.*}}, %{{.*}}, %{{.*}} {normalize, routed_scaling = 1.500000e+00 : f64, scoring = #lm.scoring<sqrtsoftplus>} : (tensor<?x?xi64>, tensor<256x2xi64>, tensor<?x?x8xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
func.func @routers(%logits: tensor<?x?x8xf32>, %bias: tensor<8xf32>,
                   %ids: tensor<?x?xi64>, %table: tensor<256x2xi64>)
    -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<?x?x2xf32>, tensor<?x?x2xi64>,
        tensor<?x?x2xf32>, tensor<?x?x2xi64>) {
  %w, %i = lm.router %logits {scoring = #lm.scoring<softmax>, top_k = 2 : i64}
      : (tensor<?x?x8xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  %w2, %i2 = lm.router %logits bias %bias {normalize, normalize_epsilon = 1.0e-20 : f64,
                                           num_groups = 4 : i64, routed_scaling = 2.5 : f64,
                                           scoring = #lm.scoring<sigmoid>, top_k = 2 : i64,
                                           top_k_groups = 2 : i64}
      : (tensor<?x?x8xf32>, tensor<8xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  %w3, %i3 = lm.hash_router %ids, %table, %logits {normalize, routed_scaling = 1.5 : f64,
                                                   scoring = #lm.scoring<sqrtsoftplus>}
      : (tensor<?x?xi64>, tensor<256x2xi64>, tensor<?x?x8xf32>)
      -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  return %w, %i, %w2, %i2, %w3, %i3
      : tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<?x?x2xf32>, tensor<?x?x2xi64>,
        tensor<?x?x2xf32>, tensor<?x?x2xi64>
}

// CHECK-LABEL: func.func @moe_experts(
// CHECK:         %{{.*}} = lm.moe_experts %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {activation = #lm.expert<swiglu>} : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>, tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
// CHECK:         %{{.*}} = lm.moe_experts %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {activation = #lm.expert<relu2>} : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x32x64xf32>, tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
// CHECK:         %{{.*}} = lm.moe_experts %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} biases %{{.*}}, %{{.*}} {activation = #lm.expert<gpt_oss_swiglu>, alpha = 1.702000e+00 : f64, interleaved_gate_up, limit = 7.000000e+00 : f64} : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>, tensor<8x64x32xf32>, tensor<8x64xf32>, tensor<8x64xf32>) -> tensor<?x?x64xf32>
// CHECK:         %{{.*}} = lm.moe_experts %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {activation = #lm.expert<swiglu>, scale_input} : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>, tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
// CHECK:         %{{.*}} = lm.moe_experts %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {activation = #lm.expert<clamped_swiglu>, limit = 1.000000e+01 : f64} : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>, tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
// CHECK:         %{{.*}} = lm.moe_experts %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {activation = #lm.expert<geglu_tanh>} : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>, tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
func.func @moe_experts(%x: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>, %i: tensor<?x?x2xi64>,
                       %gu: tensor<8x64x64xf32>, %dn: tensor<8x64x32xf32>,
                       %up: tensor<8x32x64xf32>, %gub: tensor<8x64xf32>,
                       %dnb: tensor<8x64xf32>)
    -> (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>,
        tensor<?x?x64xf32>, tensor<?x?x64xf32>) {
  %a = lm.moe_experts %x, %w, %i, %gu, %dn {activation = #lm.expert<swiglu>}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>,
        tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
  %b = lm.moe_experts %x, %w, %i, %up, %dn {activation = #lm.expert<relu2>}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x32x64xf32>,
        tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
  %c = lm.moe_experts %x, %w, %i, %gu, %dn biases %gub, %dnb
         {activation = #lm.expert<gpt_oss_swiglu>, alpha = 1.702 : f64,
          interleaved_gate_up, limit = 7.0 : f64}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>,
        tensor<8x64x32xf32>, tensor<8x64xf32>, tensor<8x64xf32>) -> tensor<?x?x64xf32>
  %d = lm.moe_experts %x, %w, %i, %gu, %dn {activation = #lm.expert<swiglu>, scale_input}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>,
        tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
  %e = lm.moe_experts %x, %w, %i, %gu, %dn {activation = #lm.expert<clamped_swiglu>, limit = 10.0 : f64}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>,
        tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
  %f = lm.moe_experts %x, %w, %i, %gu, %dn {activation = #lm.expert<geglu_tanh>}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>,
        tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
  return %a, %b, %c, %d, %e, %f : tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>,
                                  tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>
}

//===----------------------------------------------------------------------===//
// Kernel choices
//===----------------------------------------------------------------------===//

// On tensors (as lm-select-gpu-kernels makes it) and on memrefs (after
// bufferization).
// CHECK-LABEL: func.func @flash_decode(
// CHECK:         %{{.*}}:2 = lm.flash_decode %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} sinks %{{.*}} partials(%{{.*}}) outs(%{{.*}}) {scale = 1.250000e-01 : f64, sliding_window = 128 : i64, warps = 8 : i64} : (tensor<?x?x4x64xf32>, tensor<?x?x2x64xf32>, tensor<?x?x2x32xf32>, tensor<?x?xi64>, tensor<4xf32>, tensor<?x4x?x34xf32>, tensor<?x?x4x32xf32>) -> (tensor<?x4x?x34xf32>, tensor<?x?x4x32xf32>)
// CHECK:         lm.flash_decode %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} partials(%{{.*}}) outs(%{{.*}}) {chunk_size = 64 : i64, scale = 1.250000e-01 : f64, softcap = 3.000000e+01 : f64, warps = 4 : i64} : (memref<?x1x4x64xf32>, memref<?x?x2x64xf32>, memref<?x?x2x32xf32>, memref<?x1xi64>, memref<?x4x?x34xf32>, memref<?x1x4x32xf32>) -> ()
func.func @flash_decode(%q: tensor<?x?x4x64xf32>, %k: tensor<?x?x2x64xf32>,
                        %v: tensor<?x?x2x32xf32>, %pos: tensor<?x?xi64>,
                        %sinks: tensor<4xf32>, %p: tensor<?x4x?x34xf32>,
                        %init: tensor<?x?x4x32xf32>,
                        %mq: memref<?x1x4x64xf32>, %mk: memref<?x?x2x64xf32>,
                        %mv: memref<?x?x2x32xf32>, %mpos: memref<?x1xi64>,
                        %mp: memref<?x4x?x34xf32>, %mo: memref<?x1x4x32xf32>)
    -> tensor<?x?x4x32xf32> {
  %r:2 = lm.flash_decode %q, %k, %v, %pos sinks %sinks partials(%p) outs(%init)
      {scale = 0.125 : f64, sliding_window = 128 : i64, warps = 8 : i64}
      : (tensor<?x?x4x64xf32>, tensor<?x?x2x64xf32>, tensor<?x?x2x32xf32>,
         tensor<?x?xi64>, tensor<4xf32>, tensor<?x4x?x34xf32>, tensor<?x?x4x32xf32>)
      -> (tensor<?x4x?x34xf32>, tensor<?x?x4x32xf32>)
  lm.flash_decode %mq, %mk, %mv, %mpos partials(%mp) outs(%mo)
      {chunk_size = 64 : i64, scale = 0.125 : f64, softcap = 30.0 : f64, warps = 4 : i64}
      : (memref<?x1x4x64xf32>, memref<?x?x2x64xf32>, memref<?x?x2x32xf32>,
         memref<?x1xi64>, memref<?x4x?x34xf32>, memref<?x1x4x32xf32>) -> ()
  return %r#1 : tensor<?x?x4x32xf32>
}

// Flash decoding with bf16 products.
// CHECK-LABEL: func.func @flash_decode_bf16(
// CHECK:         lm.flash_decode {{.*}} {bf16_products, scale = 1.250000e-01 : f64, warps = 8 : i64} : (memref<?x1x4x64xf32>
func.func @flash_decode_bf16(%mq: memref<?x1x4x64xf32>, %mk: memref<?x?x2x64xf32>,
                             %mv: memref<?x?x2x32xf32>, %mpos: memref<?x1xi64>,
                             %mp: memref<?x4x?x34xf32>, %mo: memref<?x1x4x32xf32>) {
  lm.flash_decode %mq, %mk, %mv, %mpos partials(%mp) outs(%mo)
      {bf16_products, scale = 0.125 : f64, warps = 8 : i64}
      : (memref<?x1x4x64xf32>, memref<?x?x2x64xf32>, memref<?x?x2x32xf32>,
         memref<?x1xi64>, memref<?x4x?x34xf32>, memref<?x1x4x32xf32>) -> ()
  return
}

// MLA's absorbed decode on flash decoding's kernels, on tensors and on
// memrefs (a bf16 latent cache).
// CHECK-LABEL: func.func @flash_mla_decode(
// CHECK:         %{{.*}}:3 = lm.flash_mla_decode %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} query_latent(%{{.*}}) partials(%{{.*}}) outs(%{{.*}}) {head_tile = 2 : i64, scale = 1.250000e-01 : f64, warps = 8 : i64} : (tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>, tensor<128x32xbf16>, tensor<?x?xi64>, tensor<?x1x4x32xf32>, tensor<?x4x?x34xf32>, tensor<?x1x4x16xf32>) -> (tensor<?x1x4x32xf32>, tensor<?x4x?x34xf32>, tensor<?x1x4x16xf32>)
// CHECK:         lm.flash_mla_decode %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} query_latent(%{{.*}}) partials(%{{.*}}) outs(%{{.*}}) {head_tile = 4 : i64, scale = 1.250000e-01 : f64, warps = 8 : i64} : (memref<?x1x4x16xf32>, memref<?x1x4x8xf32>, memref<?x?x32xbf16>, memref<?x?x8xbf16>, memref<128x32xf32>, memref<?x1xi64>, memref<?x1x4x32xf32>, memref<?x4x?x34xf32>, memref<?x1x4x16xf32>) -> ()
func.func @flash_mla_decode(%qn: tensor<?x?x4x16xf32>, %qr: tensor<?x?x4x8xf32>,
                            %lat: tensor<?x?x32xf32>, %kr: tensor<?x?x8xf32>,
                            %kvb: tensor<128x32xbf16>, %pos: tensor<?x?xi64>,
                            %ql: tensor<?x1x4x32xf32>, %p: tensor<?x4x?x34xf32>,
                            %init: tensor<?x1x4x16xf32>,
                            %mqn: memref<?x1x4x16xf32>, %mqr: memref<?x1x4x8xf32>,
                            %mlat: memref<?x?x32xbf16>, %mkr: memref<?x?x8xbf16>,
                            %mkvb: memref<128x32xf32>, %mpos: memref<?x1xi64>,
                            %mql: memref<?x1x4x32xf32>, %mp: memref<?x4x?x34xf32>,
                            %mo: memref<?x1x4x16xf32>) -> tensor<?x1x4x16xf32> {
  %r:3 = lm.flash_mla_decode %qn, %qr, %lat, %kr, %kvb, %pos query_latent(%ql)
      partials(%p) outs(%init)
      {scale = 0.125 : f64, warps = 8 : i64, head_tile = 2 : i64}
      : (tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<?x?x32xf32>,
         tensor<?x?x8xf32>, tensor<128x32xbf16>, tensor<?x?xi64>,
         tensor<?x1x4x32xf32>, tensor<?x4x?x34xf32>, tensor<?x1x4x16xf32>)
      -> (tensor<?x1x4x32xf32>, tensor<?x4x?x34xf32>, tensor<?x1x4x16xf32>)
  lm.flash_mla_decode %mqn, %mqr, %mlat, %mkr, %mkvb, %mpos query_latent(%mql)
      partials(%mp) outs(%mo)
      {scale = 0.125 : f64, warps = 8 : i64, head_tile = 4 : i64}
      : (memref<?x1x4x16xf32>, memref<?x1x4x8xf32>, memref<?x?x32xbf16>,
         memref<?x?x8xbf16>, memref<128x32xf32>, memref<?x1xi64>,
         memref<?x1x4x32xf32>, memref<?x4x?x34xf32>, memref<?x1x4x16xf32>) -> ()
  return %r#2 : tensor<?x1x4x16xf32>
}

// Flash attention of prompts, on tensors (with sinks and a window) and on
// memrefs.
// CHECK-LABEL: func.func @flash_attention(
// CHECK:         %{{.*}} = lm.flash_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} sinks %{{.*}} outs(%{{.*}}) {scale = 1.250000e-01 : f64, sliding_window = 128 : i64, warps = 4 : i64} : (tensor<?x?x4x64xf32>, tensor<?x?x2x64xf32>, tensor<?x?x2x32xf32>, tensor<?x?xi64>, tensor<4xf32>, tensor<?x?x4x32xf32>) -> tensor<?x?x4x32xf32>
// CHECK:         lm.flash_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} outs(%{{.*}}) {chunk_size = 64 : i64, scale = 1.250000e-01 : f64, softcap = 3.000000e+01 : f64, warps = 4 : i64} : (memref<?x?x4x64xf32>, memref<?x?x2x64xf32>, memref<?x?x2x32xf32>, memref<?x?xi64>, memref<?x?x4x32xf32>) -> ()
func.func @flash_attention(%q: tensor<?x?x4x64xf32>, %k: tensor<?x?x2x64xf32>,
                           %v: tensor<?x?x2x32xf32>, %pos: tensor<?x?xi64>,
                           %sinks: tensor<4xf32>, %init: tensor<?x?x4x32xf32>,
                           %mq: memref<?x?x4x64xf32>, %mk: memref<?x?x2x64xf32>,
                           %mv: memref<?x?x2x32xf32>, %mpos: memref<?x?xi64>,
                           %mo: memref<?x?x4x32xf32>) -> tensor<?x?x4x32xf32> {
  %r = lm.flash_attention %q, %k, %v, %pos sinks %sinks outs(%init)
      {scale = 0.125 : f64, sliding_window = 128 : i64, warps = 4 : i64}
      : (tensor<?x?x4x64xf32>, tensor<?x?x2x64xf32>, tensor<?x?x2x32xf32>,
         tensor<?x?xi64>, tensor<4xf32>, tensor<?x?x4x32xf32>) -> tensor<?x?x4x32xf32>
  lm.flash_attention %mq, %mk, %mv, %mpos outs(%mo)
      {chunk_size = 64 : i64, scale = 0.125 : f64, softcap = 30.0 : f64, warps = 4 : i64}
      : (memref<?x?x4x64xf32>, memref<?x?x2x64xf32>, memref<?x?x2x32xf32>,
         memref<?x?xi64>, memref<?x?x4x32xf32>) -> ()
  return %r : tensor<?x?x4x32xf32>
}

// A router as a warp per token, on tensors (with group-limited routing and
// a correction bias) and on memrefs.
// CHECK-LABEL: func.func @warp_router(
// CHECK:         %{{.*}}:2 = lm.warp_router %{{.*}} bias %{{.*}} outs(%{{.*}}, %{{.*}}) {normalize, num_groups = 4 : i64, routed_scaling = 2.500000e+00 : f64, scoring = #lm.scoring<sigmoid>, top_k = 2 : i64, top_k_groups = 2 : i64} : (tensor<?x?x8xf32>, tensor<8xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
// CHECK:         lm.warp_router %{{.*}} outs(%{{.*}}, %{{.*}}) {scoring = #lm.scoring<softmax>, top_k = 6 : i64} : (memref<?x1x64xf32>, memref<?x1x6xf32>, memref<?x1x6xi64>) -> ()
func.func @warp_router(%logits: tensor<?x?x8xf32>, %bias: tensor<8xf32>,
                       %w: tensor<?x?x2xf32>, %i: tensor<?x?x2xi64>,
                       %ml: memref<?x1x64xf32>, %mw: memref<?x1x6xf32>,
                       %mi: memref<?x1x6xi64>) -> tensor<?x?x2xi64> {
  %r:2 = lm.warp_router %logits bias %bias outs(%w, %i)
      {scoring = #lm.scoring<sigmoid>, top_k = 2 : i64, num_groups = 4 : i64,
       top_k_groups = 2 : i64, normalize, routed_scaling = 2.5 : f64}
      : (tensor<?x?x8xf32>, tensor<8xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>)
      -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  lm.warp_router %ml outs(%mw, %mi) {scoring = #lm.scoring<softmax>, top_k = 6 : i64}
      : (memref<?x1x64xf32>, memref<?x1x6xf32>, memref<?x1x6xi64>) -> ()
  return %r#1 : tensor<?x?x2xi64>
}

// Projections of a few rows, with and without the input's RMS norm and a
// bias; a GLU of two projections (GPT-OSS's, with biases) written rounded to
// bf16; an f32 input rounded to bf16 weights, accumulated into the
// residual; on tensors and on memrefs.
// The chosen experts of a few tokens: on tensors with a norm and a
// residual, on memrefs with GPT-OSS's biases and interleaved clamped GLU.
// CHECK-LABEL: func.func @streamed_experts(
// CHECK:         %{{.*}}:2 = lm.streamed_experts %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} norm(%{{.*}}) hidden(%{{.*}}) outs(%{{.*}}) {accumulate, activation = #lm.expert<swiglu>, epsilon = 9.9999999999999995E-7 : f64, warps = 8 : i64} : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xbf16>, tensor<8x64x32xbf16>, tensor<64xbf16>, tensor<?x?x2x32xbf16>, tensor<?x?x64xf32>) -> (tensor<?x?x2x32xbf16>, tensor<?x?x64xf32>)
// CHECK:         lm.streamed_experts %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} biases %{{.*}}, %{{.*}} hidden(%{{.*}}) outs(%{{.*}}) {activation = #lm.expert<gpt_oss_swiglu>, alpha = 1.702000e+00 : f64, interleaved_gate_up, limit = 7.000000e+00 : f64, warps = 4 : i64} : (memref<?x1x64xf32>, memref<?x1x2xf32>, memref<?x1x2xi64>, memref<8x64x64xf32>, memref<8x64x32xf32>, memref<8x64xf32>, memref<8x64xf32>, memref<?x1x2x32xf32>, memref<?x1x64xf32>) -> ()
func.func @streamed_experts(%x: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>,
                            %i: tensor<?x?x2xi64>, %gu: tensor<8x64x64xbf16>,
                            %dn: tensor<8x64x32xbf16>, %nw: tensor<64xbf16>,
                            %h: tensor<?x?x2x32xbf16>, %r: tensor<?x?x64xf32>,
                            %mx: memref<?x1x64xf32>, %mw: memref<?x1x2xf32>,
                            %mi: memref<?x1x2xi64>, %mgu: memref<8x64x64xf32>,
                            %mdn: memref<8x64x32xf32>, %mgb: memref<8x64xf32>,
                            %mdb: memref<8x64xf32>, %mh: memref<?x1x2x32xf32>,
                            %mo: memref<?x1x64xf32>) -> tensor<?x?x64xf32> {
  %y:2 = lm.streamed_experts %x, %w, %i, %gu, %dn norm(%nw) hidden(%h) outs(%r)
      {activation = #lm.expert<swiglu>, epsilon = 1.0e-06 : f64, accumulate,
       warps = 8 : i64}
      : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>,
         tensor<8x64x64xbf16>, tensor<8x64x32xbf16>, tensor<64xbf16>,
         tensor<?x?x2x32xbf16>, tensor<?x?x64xf32>)
      -> (tensor<?x?x2x32xbf16>, tensor<?x?x64xf32>)
  lm.streamed_experts %mx, %mw, %mi, %mgu, %mdn biases %mgb, %mdb
      hidden(%mh) outs(%mo)
      {activation = #lm.expert<gpt_oss_swiglu>, alpha = 1.702 : f64,
       limit = 7.0 : f64, interleaved_gate_up, warps = 4 : i64}
      : (memref<?x1x64xf32>, memref<?x1x2xf32>, memref<?x1x2xi64>,
         memref<8x64x64xf32>, memref<8x64x32xf32>, memref<8x64xf32>,
         memref<8x64xf32>, memref<?x1x2x32xf32>, memref<?x1x64xf32>) -> ()
  return %y#1 : tensor<?x?x64xf32>
}

// The experts of many tokens as grouped GEMMs: on tensors accumulating into
// a residual, on memrefs with biases, interleaved GLU and scaled input.
// CHECK-LABEL: func.func @grouped_experts(
// CHECK:         %{{.*}}:7 = lm.grouped_experts %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} schedule(%{{.*}}, %{{.*}}, %{{.*}}) rows(%{{.*}}) hidden(%{{.*}}) expert_out(%{{.*}}) outs(%{{.*}}) {accumulate, activation = #lm.expert<swiglu>} : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xbf16>, tensor<8x64x32xbf16>, tensor<?xi32>, tensor<?x3xi32>, tensor<?x?x2xi32>, tensor<?x64xbf16>, tensor<?x32xbf16>, tensor<?x64xf32>, tensor<?x?x64xf32>) -> (tensor<?xi32>, tensor<?x3xi32>, tensor<?x?x2xi32>, tensor<?x64xbf16>, tensor<?x32xbf16>, tensor<?x64xf32>, tensor<?x?x64xf32>)
// CHECK:         lm.grouped_experts %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} biases %{{.*}}, %{{.*}} schedule(%{{.*}}, %{{.*}}, %{{.*}}) rows(%{{.*}}) hidden(%{{.*}}) expert_out(%{{.*}}) outs(%{{.*}}) {activation = #lm.expert<gpt_oss_swiglu>, alpha = 1.702000e+00 : f64, interleaved_gate_up, limit = 7.000000e+00 : f64, scale_input} : (memref<2x4x64xf32>, memref<2x4x2xf32>, memref<2x4x2xi64>, memref<8x64x64xbf16>, memref<8x64x32xbf16>, memref<8x64xf32>, memref<8x64xf32>, memref<16xi32>, memref<9x3xi32>, memref<2x4x2xi32>, memref<16x64xbf16>, memref<16x32xbf16>, memref<16x64xf32>, memref<2x4x64xf32>) -> ()
func.func @grouped_experts(%x: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>,
                           %i: tensor<?x?x2xi64>, %gu: tensor<8x64x64xbf16>,
                           %dn: tensor<8x64x32xbf16>, %order: tensor<?xi32>,
                           %tiles: tensor<?x3xi32>, %slots: tensor<?x?x2xi32>,
                           %rows: tensor<?x64xbf16>, %h: tensor<?x32xbf16>,
                           %y: tensor<?x64xf32>, %r: tensor<?x?x64xf32>,
                           %mx: memref<2x4x64xf32>, %mw: memref<2x4x2xf32>,
                           %mi: memref<2x4x2xi64>, %mgu: memref<8x64x64xbf16>,
                           %mdn: memref<8x64x32xbf16>, %mgb: memref<8x64xf32>,
                           %mdb: memref<8x64xf32>, %morder: memref<16xi32>,
                           %mtiles: memref<9x3xi32>, %mslots: memref<2x4x2xi32>,
                           %mrows: memref<16x64xbf16>,
                           %mh: memref<16x32xbf16>, %my: memref<16x64xf32>,
                           %mo: memref<2x4x64xf32>) -> tensor<?x?x64xf32> {
  %e:7 = lm.grouped_experts %x, %w, %i, %gu, %dn
      schedule(%order, %tiles, %slots) rows(%rows) hidden(%h) expert_out(%y)
      outs(%r) {activation = #lm.expert<swiglu>, accumulate}
      : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>,
         tensor<8x64x64xbf16>, tensor<8x64x32xbf16>, tensor<?xi32>,
         tensor<?x3xi32>, tensor<?x?x2xi32>, tensor<?x64xbf16>,
         tensor<?x32xbf16>, tensor<?x64xf32>, tensor<?x?x64xf32>)
      -> (tensor<?xi32>, tensor<?x3xi32>, tensor<?x?x2xi32>, tensor<?x64xbf16>,
          tensor<?x32xbf16>, tensor<?x64xf32>, tensor<?x?x64xf32>)
  lm.grouped_experts %mx, %mw, %mi, %mgu, %mdn biases %mgb, %mdb
      schedule(%morder, %mtiles, %mslots) rows(%mrows) hidden(%mh)
      expert_out(%my) outs(%mo)
      {activation = #lm.expert<gpt_oss_swiglu>, alpha = 1.702 : f64,
       limit = 7.0 : f64, interleaved_gate_up, scale_input}
      : (memref<2x4x64xf32>, memref<2x4x2xf32>, memref<2x4x2xi64>,
         memref<8x64x64xbf16>, memref<8x64x32xbf16>, memref<8x64xf32>,
         memref<8x64xf32>, memref<16xi32>, memref<9x3xi32>,
         memref<2x4x2xi32>, memref<16x64xbf16>, memref<16x32xbf16>,
         memref<16x64xf32>, memref<2x4x64xf32>) -> ()
  return %e#6 : tensor<?x?x64xf32>
}

// CHECK-LABEL: func.func @streamed_linear(
// CHECK:         %{{.*}} = lm.streamed_linear %{{.*}}, %{{.*}} norm(%{{.*}}) outs(%{{.*}}) {epsilon = 9.9999999999999995E-7 : f64, row_group = 4 : i64, warps = 8 : i64, weight_offset = 1.000000e+00 : f64} : (tensor<?x?x64xf32>, tensor<128x64xbf16>, tensor<64xbf16>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
// CHECK:         lm.streamed_linear %{{.*}}, %{{.*}} bias %{{.*}} outs(%{{.*}}) {row_group = 2 : i64, warps = 4 : i64} : (memref<?x1x64xf32>, memref<32x64xf32>, memref<32xf32>, memref<?x1x32xf32>) -> ()
// CHECK:         %{{.*}} = lm.streamed_linear %{{.*}}, %{{.*}} bias %{{.*}} up(%{{.*}}) up_bias %{{.*}} norm(%{{.*}}) outs(%{{.*}}) {alpha = 1.702000e+00 : f64, epsilon = 9.9999999999999995E-7 : f64, glu = #lm.glu<gpt_oss_swiglu>, limit = 7.000000e+00 : f64, row_group = 4 : i64, warps = 8 : i64} : (tensor<?x?x64xf32>, tensor<128x64xbf16>, tensor<128xbf16>, tensor<128x64xbf16>, tensor<128xbf16>, tensor<64xbf16>, tensor<?x?x128xbf16>) -> tensor<?x?x128xbf16>
// CHECK:         %{{.*}} = lm.streamed_linear %{{.*}}, %{{.*}} outs(%{{.*}}) {accumulate, row_group = 4 : i64, warps = 8 : i64} : (tensor<?x?x128xf32>, tensor<64x128xbf16>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
func.func @streamed_linear(%x: tensor<?x?x64xf32>, %w: tensor<128x64xbf16>,
                           %nw: tensor<64xbf16>, %init: tensor<?x?x128xf32>,
                           %mx: memref<?x1x64xf32>, %mw: memref<32x64xf32>,
                           %mb: memref<32xf32>, %mo: memref<?x1x32xf32>,
                           %b: tensor<128xbf16>, %u: tensor<128x64xbf16>,
                           %ub: tensor<128xbf16>, %hinit: tensor<?x?x128xbf16>,
                           %d: tensor<64x128xbf16>)
    -> (tensor<?x?x128xf32>, tensor<?x?x128xbf16>, tensor<?x?x64xf32>) {
  %y = lm.streamed_linear %x, %w norm(%nw) outs(%init)
      {epsilon = 1.0e-06 : f64, weight_offset = 1.0 : f64, row_group = 4 : i64, warps = 8 : i64}
      : (tensor<?x?x64xf32>, tensor<128x64xbf16>, tensor<64xbf16>, tensor<?x?x128xf32>)
      -> tensor<?x?x128xf32>
  lm.streamed_linear %mx, %mw bias %mb outs(%mo) {row_group = 2 : i64, warps = 4 : i64}
      : (memref<?x1x64xf32>, memref<32x64xf32>, memref<32xf32>, memref<?x1x32xf32>) -> ()
  %h = lm.streamed_linear %x, %w bias %b up(%u) up_bias %ub norm(%nw) outs(%hinit)
      {epsilon = 1.0e-06 : f64, glu = #lm.glu<gpt_oss_swiglu>, alpha = 1.702 : f64,
       limit = 7.0 : f64, row_group = 4 : i64, warps = 8 : i64}
      : (tensor<?x?x64xf32>, tensor<128x64xbf16>, tensor<128xbf16>, tensor<128x64xbf16>,
         tensor<128xbf16>, tensor<64xbf16>, tensor<?x?x128xbf16>) -> tensor<?x?x128xbf16>
  %r = lm.streamed_linear %y, %d outs(%x) {accumulate, row_group = 4 : i64, warps = 8 : i64}
      : (tensor<?x?x128xf32>, tensor<64x128xbf16>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return %y, %h, %r : tensor<?x?x128xf32>, tensor<?x?x128xbf16>, tensor<?x?x64xf32>
}

// CHECK-LABEL: func.func @tiled_linear(
// CHECK:         %{{.*}} = lm.tiled_linear %{{.*}}, %{{.*}} outs(%{{.*}}) : (tensor<?x?x64xbf16>, tensor<128x64xbf16>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
// CHECK:         lm.tiled_linear %{{.*}}, %{{.*}} bias %{{.*}} outs(%{{.*}}) : (memref<?x64xbf16>, memref<32x64xbf16>, memref<32xf32>, memref<?x32xf32>) -> ()
// CHECK:         %{{.*}} = lm.tiled_linear %{{.*}}, %{{.*}} bias %{{.*}} up(%{{.*}}) up_bias %{{.*}} outs(%{{.*}}) {alpha = 1.702000e+00 : f64, glu = #lm.glu<gpt_oss_swiglu>, limit = 7.000000e+00 : f64} : (tensor<?x?x64xbf16>, tensor<128x64xbf16>, tensor<128xbf16>, tensor<128x64xbf16>, tensor<128xbf16>, tensor<?x?x128xbf16>) -> tensor<?x?x128xbf16>
// CHECK:         %{{.*}} = lm.tiled_linear %{{.*}}, %{{.*}} outs(%{{.*}}) {accumulate} : (tensor<?x?x128xbf16>, tensor<64x128xbf16>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
func.func @tiled_linear(%x: tensor<?x?x64xbf16>, %w: tensor<128x64xbf16>,
                        %init: tensor<?x?x128xf32>, %mx: memref<?x64xbf16>,
                        %mw: memref<32x64xbf16>, %mb: memref<32xf32>,
                        %mo: memref<?x32xf32>, %b: tensor<128xbf16>,
                        %u: tensor<128x64xbf16>, %ub: tensor<128xbf16>,
                        %hinit: tensor<?x?x128xbf16>, %d: tensor<64x128xbf16>,
                        %res: tensor<?x?x64xf32>)
    -> (tensor<?x?x128xf32>, tensor<?x?x128xbf16>, tensor<?x?x64xf32>) {
  %y = lm.tiled_linear %x, %w outs(%init)
      : (tensor<?x?x64xbf16>, tensor<128x64xbf16>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  lm.tiled_linear %mx, %mw bias %mb outs(%mo)
      : (memref<?x64xbf16>, memref<32x64xbf16>, memref<32xf32>, memref<?x32xf32>) -> ()
  %h = lm.tiled_linear %x, %w bias %b up(%u) up_bias %ub outs(%hinit)
      {glu = #lm.glu<gpt_oss_swiglu>, alpha = 1.702 : f64, limit = 7.0 : f64}
      : (tensor<?x?x64xbf16>, tensor<128x64xbf16>, tensor<128xbf16>, tensor<128x64xbf16>,
         tensor<128xbf16>, tensor<?x?x128xbf16>) -> tensor<?x?x128xbf16>
  %r = lm.tiled_linear %h, %d outs(%res) {accumulate}
      : (tensor<?x?x128xbf16>, tensor<64x128xbf16>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return %y, %h, %r : tensor<?x?x128xf32>, tensor<?x?x128xbf16>, tensor<?x?x64xf32>
}
