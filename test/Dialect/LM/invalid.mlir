// RUN: lmc-opt %s -split-input-file -verify-diagnostics

// Negative tests of the lm dialect's verifiers: one per state type parameter
// check and per op verifier branch.

//===----------------------------------------------------------------------===//
// State types
//===----------------------------------------------------------------------===//

// expected-error @+1 {{expected kv_cache head count to be positive, got 0}}
func.func @kv_cache_heads(%c: !lm.kv_cache<0 x 128 x 128, bf16>) { return }

// -----

// expected-error @+1 {{expected kv_cache key dim to be positive, got 0}}
func.func @kv_cache_key_dim(%c: !lm.kv_cache<8 x 0 x 128, bf16>) { return }

// -----

// expected-error @+1 {{expected kv_cache value dim to be positive, got -4}}
func.func @kv_cache_value_dim(%c: !lm.kv_cache<8 x 128 x -4, bf16>) { return }

// -----

// expected-error @+1 {{expected kv_cache window to be non-negative, got -1}}
func.func @kv_cache_window(%c: !lm.kv_cache<8 x 128 x 128, bf16, window = -1>) { return }

// -----

// expected-error @+1 {{expected kv_cache element type to be a float type, got 'i8'}}
func.func @kv_cache_element(%c: !lm.kv_cache<8 x 128 x 128, i8>) { return }

// -----

// expected-error @+1 {{expected latent_cache latent dim to be positive, got 0}}
func.func @latent_cache_latent(%c: !lm.latent_cache<0 + 64, bf16>) { return }

// -----

// expected-error @+1 {{expected latent_cache rope dim to be positive, got 0}}
func.func @latent_cache_rope(%c: !lm.latent_cache<512 + 0, bf16>) { return }

// -----

// expected-error @+1 {{expected latent_cache element type to be a float type, got 'i32'}}
func.func @latent_cache_element(%c: !lm.latent_cache<512 + 64, i32>) { return }

// -----

// expected-error @+1 {{expected key_cache dim to be positive, got 0}}
func.func @key_cache_dim(%c: !lm.key_cache<0, bf16>) { return }

// -----

// expected-error @+1 {{expected key_cache window to be non-negative, got -128}}
func.func @key_cache_window(%c: !lm.key_cache<128, bf16, window = -128>) { return }

// -----

// expected-error @+1 {{expected key_cache element type to be a float type, got 'index'}}
func.func @key_cache_element(%c: !lm.key_cache<128, index>) { return }

// -----

// expected-error @+1 {{expected compressed_cache dim to be positive, got 0}}
func.func @compressed_cache_dim(%c: !lm.compressed_cache<0, f32, ratio = 4>) { return }

// -----

// expected-error @+1 {{expected compressed_cache ratio to be at least 2, got 1}}
func.func @compressed_cache_ratio(%c: !lm.compressed_cache<512, f32, ratio = 1>) { return }

// -----

// expected-error @+1 {{expected compressed_cache element type to be a float type, got 'i1'}}
func.func @compressed_cache_element(%c: !lm.compressed_cache<512, i1, ratio = 4>) { return }

// -----

// expected-error @+1 {{expected recurrent_state dimension to be positive, got 0}}
func.func @recurrent_state_dim(%s: !lm.recurrent_state<[4, 0, 16], f32>) { return }

// -----

// expected-error @+1 {{expected recurrent_state element type to be a float type, got 'i64'}}
func.func @recurrent_state_element(%s: !lm.recurrent_state<[4, 16], i64>) { return }

// -----

// The shape list cannot be empty: the parser already rejects it.
// expected-error @+2 {{expected integer value}}
// expected-error @+1 {{failed to parse LM_RecurrentStateType parameter 'shape'}}
func.func @recurrent_state_empty(%s: !lm.recurrent_state<[], f32>) { return }

// -----

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

func.func @stacked_weight_count() {
  // expected-error @+1 {{'lm.stacked_weight' op expected a positive expert count, got 0}}
  %0 = lm.stacked_weight ["e.{}.w"] x 0 : tensor<1x4x4xf32>
  return
}

// -----

func.func @stacked_weight_no_pattern() {
  // expected-error @+1 {{expected at least one name pattern}}
  %0 = lm.stacked_weight [] x 2 : tensor<2x4x4xf32>
  return
}

// -----

func.func @stacked_weight_placeholder() {
  // expected-error @+1 {{expected name pattern 'experts.0.w' to contain '{}' for the expert index}}
  %0 = lm.stacked_weight ["experts.{}.v", "experts.0.w"] x 2 : tensor<2x4x4xf32>
  return
}

// -----

func.func @stacked_weight_dynamic() {
  // expected-error @+1 {{expected a static shape, got 'tensor<2x?x4xf32>'}}
  %0 = lm.stacked_weight ["e.{}.w"] x 2 : tensor<2x?x4xf32>
  return
}

// -----

func.func @stacked_weight_rank() {
  // expected-error @+1 {{expected a result of rank >= 2, got 'tensor<2xf32>'}}
  %0 = lm.stacked_weight ["e.{}.w"] x 2 : tensor<2xf32>
  return
}

// -----

func.func @stacked_weight_experts() {
  // expected-error @+1 {{expected 'result' dimension 0 (experts) to be 8, got 4}}
  %0 = lm.stacked_weight ["e.{}.w"] x 8 : tensor<4x16x8xf32>
  return
}

// -----

func.func @transpose_size(%w: tensor<4x8x16xf32>) {
  // expected-error @+1 {{expected a permutation of 3 dimensions, got 2}}
  %0 = lm.transpose %w [1, 0] : tensor<4x8x16xf32> -> tensor<8x4x16xf32>
  return
}

// -----

func.func @transpose_repeated(%w: tensor<4x8x16xf32>) {
  // expected-error @+1 {{expected 'permutation' to be a permutation of 0..2}}
  %0 = lm.transpose %w [0, 1, 1] : tensor<4x8x16xf32> -> tensor<4x8x8xf32>
  return
}

// -----

func.func @transpose_out_of_range(%w: tensor<4x8x16xf32>) {
  // expected-error @+1 {{expected 'permutation' to be a permutation of 0..2}}
  %0 = lm.transpose %w [0, 3, 1] : tensor<4x8x16xf32> -> tensor<4x8x8xf32>
  return
}

// -----

func.func @transpose_result_rank(%w: tensor<4x8x16xf32>) {
  // expected-error @+1 {{expected 'result' of rank 3, got rank 2}}
  %0 = lm.transpose %w [0, 2, 1] : tensor<4x8x16xf32> -> tensor<4x16xf32>
  return
}

// -----

func.func @transpose_result_dim(%w: tensor<4x8x16xf32>) {
  // expected-error @+1 {{expected 'result' dimension 1 (permuted) to be 16, got 8}}
  %0 = lm.transpose %w [0, 2, 1] : tensor<4x8x16xf32> -> tensor<4x8x16xf32>
  return
}

// -----

func.func @weight_name() {
  // expected-error @+1 {{expected a non-empty weight name}}
  %0 = lm.weight "" : tensor<4x4xf32>
  return
}

// -----

func.func @weight_dynamic() {
  // expected-error @+1 {{expected weight 'lm_head.weight' to have a static shape, got 'tensor<?x64xf32>'}}
  %0 = lm.weight "lm_head.weight" : tensor<?x64xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Embedding and output
//===----------------------------------------------------------------------===//

func.func @embed_table_rank(%t: tensor<256xf32>, %ids: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'table' of rank 2, got rank 1}}
  %0 = lm.embed %t, %ids : tensor<256xf32>, tensor<?x?xi64> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @embed_ids_rank(%t: tensor<256x64xf32>, %ids: tensor<?xi64>) {
  // expected-error @+1 {{expected 'ids' of rank 2, got rank 1}}
  %0 = lm.embed %t, %ids : tensor<256x64xf32>, tensor<?xi64> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @embed_ids_type(%t: tensor<256x64xf32>, %ids: tensor<?x?xf32>) {
  // expected-error @+1 {{operand #1 must be ranked tensor of signless integer values, but got 'tensor<?x?xf32>'}}
  %0 = lm.embed %t, %ids : tensor<256x64xf32>, tensor<?x?xf32> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @embed_hidden(%t: tensor<256x64xf32>, %ids: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'result' dimension 2 (hidden) to be 64, got 32}}
  %0 = lm.embed %t, %ids : tensor<256x64xf32>, tensor<?x?xi64> -> tensor<?x?x32xf32>
  return
}

// -----

func.func @embed_batch(%t: tensor<256x64xf32>, %ids: tensor<2x?xi64>) {
  // expected-error @+1 {{expected 'result' dimension 0 (batch) to be 2, got 3}}
  %0 = lm.embed %t, %ids : tensor<256x64xf32>, tensor<2x?xi64> -> tensor<3x?x64xf32>
  return
}

// -----

func.func @embed_result_rank(%t: tensor<256x64xf32>, %ids: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'result' of rank 3, got rank 2}}
  %0 = lm.embed %t, %ids : tensor<256x64xf32>, tensor<?x?xi64> -> tensor<?x64xf32>
  return
}

// -----

func.func @select_rows_input_rank(%h: tensor<?x64xf32>, %rows: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'input' of rank 3, got rank 2}}
  %0 = lm.select_rows %h, %rows : tensor<?x64xf32>, tensor<?x?xi64> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @select_rows_rows_rank(%h: tensor<?x?x64xf32>, %rows: tensor<?xi64>) {
  // expected-error @+1 {{expected 'rows' of rank 2, got rank 1}}
  %0 = lm.select_rows %h, %rows : tensor<?x?x64xf32>, tensor<?xi64> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @select_rows_batch(%h: tensor<2x?x64xf32>, %rows: tensor<3x1xi64>) {
  // expected-error @+1 {{expected 'rows' dimension 0 (batch) to be 2, got 3}}
  %0 = lm.select_rows %h, %rows : tensor<2x?x64xf32>, tensor<3x1xi64> -> tensor<2x1x64xf32>
  return
}

// -----

func.func @select_rows_count(%h: tensor<2x?x64xf32>, %rows: tensor<2x1xi64>) {
  // expected-error @+1 {{expected 'result' dimension 1 (rows) to be 1, got 4}}
  %0 = lm.select_rows %h, %rows : tensor<2x?x64xf32>, tensor<2x1xi64> -> tensor<2x4x64xf32>
  return
}

// -----

func.func @select_rows_type(%h: tensor<?x?x64xf32>, %rows: tensor<?x?xi64>) {
  // expected-error @+1 {{expected the result's element type to be the input's, got 'tensor<?x?x64xbf16>'}}
  %0 = lm.select_rows %h, %rows : tensor<?x?x64xf32>, tensor<?x?xi64> -> tensor<?x?x64xbf16>
  return
}

// -----

func.func @softcap_cap(%x: tensor<?x?x256xf32>) {
  // expected-error @+1 {{expected 'cap' to be positive, got 0.000000e+00}}
  %0 = lm.softcap %x {cap = 0.0 : f64} : tensor<?x?x256xf32>
  return
}

// -----

func.func @softcap_types(%x: tensor<?x?x256xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "lm.softcap"(%x) {cap = 30.0 : f64} : (tensor<?x?x256xf32>) -> tensor<?x?x256xf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

func.func @gated_rms_norm_gate(%x: tensor<?x?x4x16xf32>, %z: tensor<?x?x4x8xf32>,
                               %w: tensor<16xf32>) {
  // expected-error @+1 {{expected 'gate' to have the input type 'tensor<?x?x4x16xf32>', got 'tensor<?x?x4x8xf32>'}}
  %0 = lm.gated_rms_norm %x, %z, %w {epsilon = 1.0e-06 : f64}
     : tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<16xf32> -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @gated_rms_norm_result(%x: tensor<?x?x4x16xf32>, %w: tensor<16xf32>) {
  // expected-error @+1 {{expected the result to have the input type 'tensor<?x?x4x16xf32>'}}
  %0 = lm.gated_rms_norm %x, %x, %w {epsilon = 1.0e-06 : f64}
     : tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<16xf32> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @gated_rms_norm_weight_rank(%x: tensor<?x?x4x16xf32>, %w: tensor<4x16xf32>) {
  // expected-error @+1 {{expected 'weight' of rank 1, got rank 2}}
  %0 = lm.gated_rms_norm %x, %x, %w {epsilon = 1.0e-06 : f64}
     : tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<4x16xf32> -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @gated_rms_norm_weight(%x: tensor<?x?x4x16xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{expected 'weight' dimension 0 (channels) to be 16, got 64}}
  %0 = lm.gated_rms_norm %x, %x, %w {epsilon = 1.0e-06 : f64}
     : tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<64xf32> -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @gated_rms_norm_group(%x: tensor<?x?x4x16xf32>, %w: tensor<16xf32>) {
  // expected-error @+1 {{expected 'group_size' to divide the 16 channels, got 6}}
  %0 = lm.gated_rms_norm %x, %x, %w {epsilon = 1.0e-06 : f64, group_size = 6 : i64}
     : tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<16xf32> -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @gated_rms_norm_negative_group(%x: tensor<?x?x4x16xf32>, %w: tensor<16xf32>) {
  // expected-error @+1 {{expected 'group_size' to divide the 16 channels, got -8}}
  %0 = lm.gated_rms_norm %x, %x, %w {epsilon = 1.0e-06 : f64, group_size = -8 : i64}
     : tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<16xf32> -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @l2_norm_types(%x: tensor<?x?x4x16xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "lm.l2_norm"(%x) {epsilon = 1.0e-06 : f64} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @l2_norm_epsilon(%x: tensor<?x?x4x16xf32>) {
  // expected-error @+1 {{requires attribute 'epsilon'}}
  %0 = lm.l2_norm %x : tensor<?x?x4x16xf32>
  return
}

// -----

func.func @layer_norm_result(%x: tensor<?x?x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{expected the result to have the input type 'tensor<?x?x64xf32>'}}
  %0 = lm.layer_norm %x, %w {epsilon = 1.0e-06 : f64}
     : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xbf16>
  return
}

// -----

func.func @layer_norm_weight(%x: tensor<?x?x64xf32>, %w: tensor<32xf32>) {
  // expected-error @+1 {{expected 'weight' dimension 0 (channels) to be 64, got 32}}
  %0 = lm.layer_norm %x, %w {epsilon = 1.0e-06 : f64}
     : tensor<?x?x64xf32>, tensor<32xf32> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @layer_norm_bias_rank(%x: tensor<?x?x64xf32>, %w: tensor<64xf32>, %b: tensor<1x64xf32>) {
  // expected-error @+1 {{expected 'bias' of rank 1, got rank 2}}
  %0 = lm.layer_norm %x, %w, %b {epsilon = 1.0e-06 : f64}
     : tensor<?x?x64xf32>, tensor<64xf32>, tensor<1x64xf32> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @layer_norm_bias(%x: tensor<?x?x64xf32>, %w: tensor<64xf32>, %b: tensor<63xf32>) {
  // expected-error @+1 {{expected 'bias' dimension 0 (channels) to be 64, got 63}}
  %0 = lm.layer_norm %x, %w, %b {epsilon = 1.0e-06 : f64}
     : tensor<?x?x64xf32>, tensor<64xf32>, tensor<63xf32> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @rms_norm_result(%x: tensor<?x?x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{expected the result to have the input type 'tensor<?x?x64xf32>'}}
  %0 = lm.rms_norm %x, %w {epsilon = 1.0e-06 : f64}
     : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @rms_norm_offset_without_weight(%x: tensor<?x?x64xf32>) {
  // expected-error @+1 {{expected a 'weight' with a non-zero 'weight_offset'}}
  %0 = lm.rms_norm %x {epsilon = 1.0e-06 : f64, weight_offset = 1.0 : f64}
     : tensor<?x?x64xf32> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @rms_norm_weight_rank(%x: tensor<?x?x4x16xf32>, %w: tensor<4x16xf32>) {
  // expected-error @+1 {{expected 'weight' of rank 1, got rank 2}}
  %0 = lm.rms_norm %x, %w {epsilon = 1.0e-06 : f64}
     : tensor<?x?x4x16xf32>, tensor<4x16xf32> -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @rms_norm_weight(%x: tensor<?x?x4x16xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{expected 'weight' dimension 0 (channels) to be 16, got 64}}
  %0 = lm.rms_norm %x, %w {epsilon = 1.0e-06 : f64}
     : tensor<?x?x4x16xf32>, tensor<64xf32> -> tensor<?x?x4x16xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Projections and shapes
//===----------------------------------------------------------------------===//

func.func @concat_empty() {
  // expected-error @+1 {{expected at least one input}}
  %0 = "lm.concat"() : () -> tensor<?x?x4xf32>
  return
}

// -----

func.func @concat_rank(%a: tensor<?x?x4x8xf32>, %b: tensor<?x?x4xf32>) {
  // expected-error @+1 {{expected 'inputs #1' of rank 4, got rank 3}}
  %0 = lm.concat %a, %b : tensor<?x?x4x8xf32>, tensor<?x?x4xf32> -> tensor<?x?x4x12xf32>
  return
}

// -----

func.func @concat_leading(%a: tensor<?x?x4x8xf32>, %b: tensor<?x?x2x4xf32>) {
  // expected-error @+1 {{expected 'inputs #1' dimension 2 (leading) to be 4, got 2}}
  %0 = lm.concat %a, %b : tensor<?x?x4x8xf32>, tensor<?x?x2x4xf32> -> tensor<?x?x4x12xf32>
  return
}

// -----

func.func @concat_result_leading(%a: tensor<?x?x4x8xf32>, %b: tensor<?x?x4x4xf32>) {
  // expected-error @+1 {{expected 'result' dimension 2 (leading) to be 4, got 1}}
  %0 = lm.concat %a, %b : tensor<?x?x4x8xf32>, tensor<?x?x4x4xf32> -> tensor<?x?x1x12xf32>
  return
}

// -----

func.func @concat_channels(%a: tensor<?x?x4x8xf32>, %b: tensor<?x?x4x4xf32>) {
  // expected-error @+1 {{expected 'result' dimension 3 (sum of input channels) to be 12, got 16}}
  %0 = lm.concat %a, %b : tensor<?x?x4x8xf32>, tensor<?x?x4x4xf32> -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @grouped_linear_input_rank(%x: tensor<?x?x64xf32>, %w: tensor<64x64xf32>) {
  // expected-error @+1 {{expected 'input' of rank 4, got rank 3}}
  %0 = lm.grouped_linear %x, %w : tensor<?x?x64xf32>, tensor<64x64xf32> -> tensor<?x?x2x32xf32>
  return
}

// -----

func.func @grouped_linear_weight_rank(%x: tensor<?x?x2x64xf32>, %w: tensor<2x32x64xf32>) {
  // expected-error @+1 {{expected 'weight' of rank 2, got rank 3}}
  %0 = lm.grouped_linear %x, %w : tensor<?x?x2x64xf32>, tensor<2x32x64xf32> -> tensor<?x?x2x32xf32>
  return
}

// -----

func.func @grouped_linear_in_features(%x: tensor<?x?x2x64xf32>, %w: tensor<64x32xf32>) {
  // expected-error @+1 {{expected 'weight' dimension 1 (in features) to be 64, got 32}}
  %0 = lm.grouped_linear %x, %w : tensor<?x?x2x64xf32>, tensor<64x32xf32> -> tensor<?x?x2x32xf32>
  return
}

// -----

func.func @grouped_linear_groups(%x: tensor<?x?x3x64xf32>, %w: tensor<64x64xf32>) {
  // expected-error @+1 {{expected 'weight' rows (64) to be a multiple of the 3 groups}}
  %0 = lm.grouped_linear %x, %w : tensor<?x?x3x64xf32>, tensor<64x64xf32> -> tensor<?x?x3x21xf32>
  return
}

// -----

func.func @grouped_linear_result(%x: tensor<?x?x2x64xf32>, %w: tensor<64x64xf32>) {
  // expected-error @+1 {{expected 'result' dimension 3 (out features) to be 32, got 64}}
  %0 = lm.grouped_linear %x, %w : tensor<?x?x2x64xf32>, tensor<64x64xf32> -> tensor<?x?x2x64xf32>
  return
}

// -----

func.func @linear_input_rank(%x: tensor<64xf32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{expected 'input' of rank >= 2}}
  %0 = lm.linear %x, %w : tensor<64xf32>, tensor<128x64xf32> -> tensor<128xf32>
  return
}

// -----

func.func @linear_weight_rank(%x: tensor<?x?x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{expected 'weight' of rank 2, got rank 1}}
  %0 = lm.linear %x, %w : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @linear_in_features(%x: tensor<?x?x64xf32>, %w: tensor<64x128xf32>) {
  // expected-error @+1 {{expected 'weight' dimension 1 (in features) to be 64, got 128}}
  %0 = lm.linear %x, %w : tensor<?x?x64xf32>, tensor<64x128xf32> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @linear_result_rank(%x: tensor<?x?x64xf32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{expected 'result' of rank 3, got rank 2}}
  %0 = lm.linear %x, %w : tensor<?x?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  return
}

// -----

func.func @linear_result_leading(%x: tensor<2x?x64xf32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{expected 'result' dimension 0 (leading) to be 2, got 4}}
  %0 = lm.linear %x, %w : tensor<2x?x64xf32>, tensor<128x64xf32> -> tensor<4x?x128xf32>
  return
}

// -----

func.func @linear_out_features(%x: tensor<?x?x64xf32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{expected 'result' dimension 2 (out features) to be 128, got 64}}
  %0 = lm.linear %x, %w : tensor<?x?x64xf32>, tensor<128x64xf32> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @linear_bias_rank(%x: tensor<?x?x64xf32>, %w: tensor<128x64xf32>, %b: tensor<1x128xf32>) {
  // expected-error @+1 {{expected 'bias' of rank 1, got rank 2}}
  %0 = lm.linear %x, %w, %b
     : tensor<?x?x64xf32>, tensor<128x64xf32>, tensor<1x128xf32> -> tensor<?x?x128xf32>
  return
}

// -----

func.func @linear_bias(%x: tensor<?x?x64xf32>, %w: tensor<128x64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{expected 'bias' dimension 0 (out features) to be 128, got 64}}
  %0 = lm.linear %x, %w, %b
     : tensor<?x?x64xf32>, tensor<128x64xf32>, tensor<64xf32> -> tensor<?x?x128xf32>
  return
}

// -----

func.func @merge_heads_rank(%x: tensor<?x?x64xf32>) {
  // expected-error @+1 {{expected 'input' of rank 4, got rank 3}}
  %0 = lm.merge_heads %x : tensor<?x?x64xf32> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @merge_heads_channels(%x: tensor<?x?x4x16xf32>) {
  // expected-error @+1 {{expected 'result' dimension 2 (heads x head dim) to be 64, got 32}}
  %0 = lm.merge_heads %x : tensor<?x?x4x16xf32> -> tensor<?x?x32xf32>
  return
}

// -----

func.func @merge_heads_result_rank(%x: tensor<?x?x4x16xf32>) {
  // expected-error @+1 {{expected 'result' of rank 3, got rank 4}}
  %0 = lm.merge_heads %x : tensor<?x?x4x16xf32> -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @slice_bounds(%x: tensor<?x?x40xf32>) {
  // expected-error @+1 {{expected slice [32, 48) to lie within the 40 input channels}}
  %0 = lm.slice %x [32, 16] : tensor<?x?x40xf32> -> tensor<?x?x16xf32>
  return
}

// -----

func.func @slice_negative_offset(%x: tensor<?x?x40xf32>) {
  // expected-error @+1 {{expected slice [-1, 7) to lie within the 40 input channels}}
  %0 = lm.slice %x [-1, 8] : tensor<?x?x40xf32> -> tensor<?x?x8xf32>
  return
}

// -----

func.func @slice_empty(%x: tensor<?x?x40xf32>) {
  // expected-error @+1 {{expected slice [4, 4) to lie within the 40 input channels}}
  %0 = lm.slice %x [4, 0] : tensor<?x?x40xf32> -> tensor<?x?x0xf32>
  return
}

// -----

func.func @slice_result_rank(%x: tensor<?x?x40xf32>) {
  // expected-error @+1 {{expected 'result' of rank 3, got rank 4}}
  %0 = lm.slice %x [0, 32] : tensor<?x?x40xf32> -> tensor<?x?x1x32xf32>
  return
}

// -----

func.func @slice_result(%x: tensor<?x?x40xf32>) {
  // expected-error @+1 {{expected 'result' dimension 2 (slice size) to be 32, got 40}}
  %0 = lm.slice %x [0, 32] : tensor<?x?x40xf32> -> tensor<?x?x40xf32>
  return
}

// -----

func.func @split_heads_input_rank(%x: tensor<?x?x4x16xf32>) {
  // expected-error @+1 {{expected 'input' of rank 3, got rank 4}}
  %0 = lm.split_heads %x : tensor<?x?x4x16xf32> -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @split_heads_result_rank(%x: tensor<?x?x64xf32>) {
  // expected-error @+1 {{expected 'result' of rank 4, got rank 3}}
  %0 = lm.split_heads %x : tensor<?x?x64xf32> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @split_heads_dynamic(%x: tensor<?x?x64xf32>) {
  // expected-error @+1 {{expected static heads and head dim, got 'tensor<?x?x?x16xf32>'}}
  %0 = lm.split_heads %x : tensor<?x?x64xf32> -> tensor<?x?x?x16xf32>
  return
}

// -----

func.func @split_heads_batch(%x: tensor<2x?x64xf32>) {
  // expected-error @+1 {{expected 'result' dimension 0 (batch) to be 2, got 1}}
  %0 = lm.split_heads %x : tensor<2x?x64xf32> -> tensor<1x?x4x16xf32>
  return
}

// -----

func.func @split_heads_tokens(%x: tensor<?x7x64xf32>) {
  // expected-error @+1 {{expected 'result' dimension 1 (tokens) to be 7, got 8}}
  %0 = lm.split_heads %x : tensor<?x7x64xf32> -> tensor<?x8x4x16xf32>
  return
}

// -----

func.func @split_heads_channels(%x: tensor<?x?x64xf32>) {
  // expected-error @+1 {{expected 'input' dimension 2 (heads x head dim) to be 32, got 64}}
  %0 = lm.split_heads %x : tensor<?x?x64xf32> -> tensor<?x?x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Pointwise
//===----------------------------------------------------------------------===//

func.func @activation_kind(%x: tensor<?x?x64xf32>) {
  // expected-error @+2 {{expected ::mlir::lm::ActivationKind to be one of: silu, gelu, gelu_tanh, relu, relu2, sigmoid, softplus, identity}}
  // expected-error @+1 {{failed to parse LM_ActivationAttr parameter 'value'}}
  %0 = lm.activation %x {kind = #lm.activation<swish>} : tensor<?x?x64xf32>
  return
}

// -----

func.func @activation_types(%x: tensor<?x?x64xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "lm.activation"(%x) {kind = #lm.activation<silu>} : (tensor<?x?x64xf32>) -> tensor<?x?x64xbf16>
  return
}

// -----

func.func @activation_float(%x: tensor<?x?x64xi32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of floating-point values, but got 'tensor<?x?x64xi32>'}}
  %0 = lm.activation %x {kind = #lm.activation<relu>} : tensor<?x?x64xi32>
  return
}

// -----

func.func @gate_result(%x: tensor<?x?x64xf32>, %g: tensor<?x?x64xf32>) {
  // expected-error @+1 {{expected the result to have the input type 'tensor<?x?x64xf32>'}}
  %0 = lm.gate %x, %g {kind = #lm.activation<sigmoid>}
     : tensor<?x?x64xf32>, tensor<?x?x64xf32> -> tensor<?x?x32xf32>
  return
}

// -----

func.func @gate_rank(%x: tensor<?x?x64xf32>, %g: tensor<?x?x4x16xf32>) {
  // expected-error @+1 {{expected 'gate' of rank 3, got rank 4}}
  %0 = lm.gate %x, %g {kind = #lm.activation<sigmoid>}
     : tensor<?x?x64xf32>, tensor<?x?x4x16xf32> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @gate_leading(%x: tensor<2x?x64xf32>, %g: tensor<3x?x64xf32>) {
  // expected-error @+1 {{expected 'gate' dimension 0 (leading) to be 2, got 3}}
  %0 = lm.gate %x, %g {kind = #lm.activation<sigmoid>}
     : tensor<2x?x64xf32>, tensor<3x?x64xf32> -> tensor<2x?x64xf32>
  return
}

// -----

func.func @gate_channels(%x: tensor<?x?x64xf32>, %g: tensor<?x?x2xf32>) {
  // expected-error @+1 {{expected 'gate' dimension 2 (channels, or 1 to broadcast) to be 64, got 2}}
  %0 = lm.gate %x, %g {kind = #lm.activation<sigmoid>}
     : tensor<?x?x64xf32>, tensor<?x?x2xf32> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @glu_missing_limit(%g: tensor<?x?x128xf32>, %u: tensor<?x?x128xf32>) {
  // expected-error @+1 {{expected a 'limit' for clamped_swiglu}}
  %0 = lm.glu %g, %u {kind = #lm.glu<clamped_swiglu>} : tensor<?x?x128xf32>
  return
}

// -----

func.func @glu_unexpected_limit(%g: tensor<?x?x128xf32>, %u: tensor<?x?x128xf32>) {
  // expected-error @+1 {{unexpected 'limit' for swiglu}}
  %0 = lm.glu %g, %u {kind = #lm.glu<swiglu>, limit = 7.0 : f64} : tensor<?x?x128xf32>
  return
}

// -----

func.func @glu_missing_alpha(%g: tensor<?x?x128xf32>, %u: tensor<?x?x128xf32>) {
  // expected-error @+1 {{expected an 'alpha' for gpt_oss_swiglu}}
  %0 = lm.glu %g, %u {kind = #lm.glu<gpt_oss_swiglu>, limit = 7.0 : f64} : tensor<?x?x128xf32>
  return
}

// -----

func.func @glu_unexpected_alpha(%g: tensor<?x?x128xf32>, %u: tensor<?x?x128xf32>) {
  // expected-error @+1 {{unexpected 'alpha' for clamped_swiglu}}
  %0 = lm.glu %g, %u {alpha = 1.702 : f64, kind = #lm.glu<clamped_swiglu>, limit = 7.0 : f64}
     : tensor<?x?x128xf32>
  return
}

// -----

func.func @glu_unexpected_alpha_geglu(%g: tensor<?x?x128xf32>, %u: tensor<?x?x128xf32>) {
  // expected-error @+1 {{unexpected 'alpha' for geglu_tanh}}
  %0 = lm.glu %g, %u {alpha = 1.702 : f64, kind = #lm.glu<geglu_tanh>} : tensor<?x?x128xf32>
  return
}

// -----

func.func @glu_limit(%g: tensor<?x?x128xf32>, %u: tensor<?x?x128xf32>) {
  // expected-error @+1 {{expected a positive 'limit', got -7.000000e+00}}
  %0 = lm.glu %g, %u {alpha = 1.702 : f64, kind = #lm.glu<gpt_oss_swiglu>, limit = -7.0 : f64}
     : tensor<?x?x128xf32>
  return
}

// -----

func.func @glu_types(%g: tensor<?x?x128xf32>, %u: tensor<?x?x64xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "lm.glu"(%g, %u) {kind = #lm.glu<swiglu>} : (tensor<?x?x128xf32>, tensor<?x?x64xf32>) -> tensor<?x?x128xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Positions
//===----------------------------------------------------------------------===//

func.func @attention_temperature_rank(%q: tensor<?x?x64xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'input' of rank 4, got rank 3}}
  %0 = lm.attention_temperature %q, %pos {attn_scale = 1.0e-01 : f64, floor_scale = 8.192e+03 : f64}
     : tensor<?x?x64xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @attention_temperature_positions(%q: tensor<?x?x4x16xf32>, %pos: tensor<?xi64>) {
  // expected-error @+1 {{expected 'positions' of rank 2, got rank 1}}
  %0 = lm.attention_temperature %q, %pos {attn_scale = 1.0e-01 : f64, floor_scale = 8.192e+03 : f64}
     : tensor<?x?x4x16xf32>, tensor<?xi64>
  return
}

// -----

func.func @attention_temperature_tokens(%q: tensor<?x5x4x16xf32>, %pos: tensor<?x4xi64>) {
  // expected-error @+1 {{expected 'positions' dimension 1 (tokens) to be 5, got 4}}
  %0 = lm.attention_temperature %q, %pos {attn_scale = 1.0e-01 : f64, floor_scale = 8.192e+03 : f64}
     : tensor<?x5x4x16xf32>, tensor<?x4xi64>
  return
}

// -----

func.func @attention_temperature_floor(%q: tensor<?x?x4x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'floor_scale' to be positive, got 0.000000e+00}}
  %0 = lm.attention_temperature %q, %pos {attn_scale = 1.0e-01 : f64, floor_scale = 0.0 : f64}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @rope_rank(%x: tensor<?x?x64xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'input' of rank 4 ([B, T, H, D]), got rank 3}}
  %0 = lm.rope %x, %pos {rotary_dim = 16 : i64, theta = 1.0e+04 : f64}
     : tensor<?x?x64xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @rope_positions(%x: tensor<?x?x4x16xf32>, %pos: tensor<?x?x1xi64>) {
  // expected-error @+1 {{expected 'positions' of rank 2, got rank 3}}
  %0 = lm.rope %x, %pos {rotary_dim = 16 : i64, theta = 1.0e+04 : f64}
     : tensor<?x?x4x16xf32>, tensor<?x?x1xi64>
  return
}

// -----

func.func @rope_odd_dim(%x: tensor<?x?x4x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'rotary_dim' to be even and in [2, 16], got 7}}
  %0 = lm.rope %x, %pos {rotary_dim = 7 : i64, theta = 1.0e+04 : f64}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @rope_large_dim(%x: tensor<?x?x4x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'rotary_dim' to be even and in [2, 16], got 32}}
  %0 = lm.rope %x, %pos {rotary_dim = 32 : i64, theta = 1.0e+04 : f64}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @rope_zero_dim(%x: tensor<?x?x4x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'rotary_dim' to be even and in [2, 16], got 0}}
  %0 = lm.rope %x, %pos {rotary_dim = 0 : i64, theta = 1.0e+04 : f64}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @rope_offset(%x: tensor<?x?x4x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected rotated channels [12, 20) within the head dim 16}}
  %0 = lm.rope %x, %pos {rotary_dim = 8 : i64, rotary_offset = 12 : i64, theta = 1.0e+04 : f64}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @rope_negative_offset(%x: tensor<?x?x4x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected rotated channels [-2, 6) within the head dim 16}}
  %0 = lm.rope %x, %pos {rotary_dim = 8 : i64, rotary_offset = -2 : i64, theta = 1.0e+04 : f64}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @rope_theta(%x: tensor<?x?x4x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected a positive 'theta', got -1.000000e+04}}
  %0 = lm.rope %x, %pos {rotary_dim = 16 : i64, theta = -1.0e+04 : f64}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @rope_scaling_type(%x: tensor<?x?x4x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'scaling' to name its 'rope_type'}}
  %0 = lm.rope %x, %pos {rotary_dim = 16 : i64, theta = 1.0e+04 : f64,
                         scaling = {factor = 2.0 : f64}}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @rope_scaling_type_string(%x: tensor<?x?x4x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'scaling' to name its 'rope_type'}}
  %0 = lm.rope %x, %pos {rotary_dim = 16 : i64, theta = 1.0e+04 : f64,
                         scaling = {rope_type = 3 : i64, factor = 2.0 : f64}}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @rope_scaling_unknown(%x: tensor<?x?x4x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{unsupported rope_type 'dynamic' (expected linear, llama3 or yarn)}}
  %0 = lm.rope %x, %pos {rotary_dim = 16 : i64, theta = 1.0e+04 : f64,
                         scaling = {rope_type = "dynamic", factor = 2.0 : f64}}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @rope_scaling_field(%x: tensor<?x?x4x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{unexpected field 'beta_fast' in linear rope scaling}}
  %0 = lm.rope %x, %pos {rotary_dim = 16 : i64, theta = 1.0e+04 : f64,
                         scaling = {rope_type = "linear", factor = 2.0 : f64, beta_fast = 32.0 : f64}}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @rope_scaling_number(%x: tensor<?x?x4x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected rope scaling field 'factor' to be a number}}
  %0 = lm.rope %x, %pos {rotary_dim = 16 : i64, theta = 1.0e+04 : f64,
                         scaling = {rope_type = "linear", factor = "2"}}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @rope_scaling_truncate(%x: tensor<?x?x4x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected rope scaling field 'truncate' to be a bool}}
  %0 = lm.rope %x, %pos {rotary_dim = 16 : i64, theta = 1.0e+04 : f64,
                         scaling = {rope_type = "yarn", factor = 4.0 : f64,
                                    original_max_position_embeddings = 4096 : i64,
                                    truncate = 1 : i64}}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @rope_scaling_missing(%x: tensor<?x?x4x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected field 'original_max_position_embeddings' in llama3 rope scaling}}
  %0 = lm.rope %x, %pos {rotary_dim = 16 : i64, theta = 5.0e+05 : f64,
                         scaling = {rope_type = "llama3", factor = 8.0 : f64,
                                    low_freq_factor = 1.0 : f64, high_freq_factor = 4.0 : f64}}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @rope_scaling_missing_factor(%x: tensor<?x?x4x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected field 'factor' in yarn rope scaling}}
  %0 = lm.rope %x, %pos {rotary_dim = 16 : i64, theta = 1.0e+04 : f64,
                         scaling = {rope_type = "yarn", original_max_position_embeddings = 4096 : i64}}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @rope_scaling_factor(%x: tensor<?x?x4x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected a positive rope scaling 'factor'}}
  %0 = lm.rope %x, %pos {rotary_dim = 16 : i64, theta = 1.0e+04 : f64,
                         scaling = {rope_type = "linear", factor = 0 : i64}}
     : tensor<?x?x4x16xf32>, tensor<?x?xi64>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

func.func @attention_query_rank(%q: tensor<?x?x64xf32>, %k: tensor<?x?x2x16xf32>,
                                %v: tensor<?x?x2x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'query' of rank 4, got rank 3}}
  %0 = lm.attention %q, %k, %v, %pos {scale = 0.25 : f64}
     : (tensor<?x?x64xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @attention_key_rank(%q: tensor<?x?x4x16xf32>, %k: tensor<?x?x32xf32>,
                              %v: tensor<?x?x2x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'key' of rank 4, got rank 3}}
  %0 = lm.attention %q, %k, %v, %pos {scale = 0.25 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x32xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @attention_value_rank(%q: tensor<?x?x4x16xf32>, %k: tensor<?x?x2x16xf32>,
                                %v: tensor<?x?x32xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'value' of rank 4, got rank 3}}
  %0 = lm.attention %q, %k, %v, %pos {scale = 0.25 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x32xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @attention_positions(%q: tensor<2x?x4x16xf32>, %k: tensor<2x?x2x16xf32>,
                               %v: tensor<2x?x2x16xf32>, %pos: tensor<1x?xi64>) {
  // expected-error @+1 {{expected 'positions' dimension 0 (batch) to be 2, got 1}}
  %0 = lm.attention %q, %k, %v, %pos {scale = 0.25 : f64}
     : (tensor<2x?x4x16xf32>, tensor<2x?x2x16xf32>, tensor<2x?x2x16xf32>, tensor<1x?xi64>)
     -> tensor<2x?x4x16xf32>
  return
}

// -----

func.func @attention_key_batch(%q: tensor<2x?x4x16xf32>, %k: tensor<3x?x2x16xf32>,
                               %v: tensor<3x?x2x16xf32>, %pos: tensor<2x?xi64>) {
  // expected-error @+1 {{expected 'key' dimension 0 (batch) to be 2, got 3}}
  %0 = lm.attention %q, %k, %v, %pos {scale = 0.25 : f64}
     : (tensor<2x?x4x16xf32>, tensor<3x?x2x16xf32>, tensor<3x?x2x16xf32>, tensor<2x?xi64>)
     -> tensor<2x?x4x16xf32>
  return
}

// -----

func.func @attention_head_dim(%q: tensor<?x?x4x16xf32>, %k: tensor<?x?x2x8xf32>,
                              %v: tensor<?x?x2x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'key' dimension 3 (head dim) to be 16, got 8}}
  %0 = lm.attention %q, %k, %v, %pos {scale = 0.25 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x2x8xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @attention_value_batch(%q: tensor<?x?x4x16xf32>, %k: tensor<2x?x2x16xf32>,
                                 %v: tensor<4x?x2x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'value' dimension 0 (batch) to be 2, got 4}}
  %0 = lm.attention %q, %k, %v, %pos {scale = 0.25 : f64}
     : (tensor<?x?x4x16xf32>, tensor<2x?x2x16xf32>, tensor<4x?x2x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @attention_value_keys(%q: tensor<?x?x4x16xf32>, %k: tensor<?x10x2x16xf32>,
                                %v: tensor<?x9x2x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'value' dimension 1 (keys) to be 10, got 9}}
  %0 = lm.attention %q, %k, %v, %pos {scale = 0.25 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x10x2x16xf32>, tensor<?x9x2x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @attention_value_heads(%q: tensor<?x?x4x16xf32>, %k: tensor<?x?x2x16xf32>,
                                 %v: tensor<?x?x1x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'value' dimension 2 (kv heads) to be 2, got 1}}
  %0 = lm.attention %q, %k, %v, %pos {scale = 0.25 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x1x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @attention_gqa(%q: tensor<?x?x4x16xf32>, %k: tensor<?x?x3x16xf32>,
                         %v: tensor<?x?x3x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected the 4 query heads to be a multiple of the 3 kv heads}}
  %0 = lm.attention %q, %k, %v, %pos {scale = 0.25 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x3x16xf32>, tensor<?x?x3x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @attention_sinks(%q: tensor<?x?x4x16xf32>, %k: tensor<?x?x2x16xf32>,
                           %v: tensor<?x?x2x16xf32>, %pos: tensor<?x?xi64>, %s: tensor<2xf32>) {
  // expected-error @+1 {{expected 'sinks' dimension 0 (heads) to be 4, got 2}}
  %0 = lm.attention %q, %k, %v, %pos sinks %s {scale = 0.25 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>,
        tensor<2xf32>) -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @attention_window_and_chunk(%q: tensor<?x?x4x16xf32>, %k: tensor<?x?x2x16xf32>,
                                      %v: tensor<?x?x2x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected at most one of 'sliding_window' and 'chunk_size'}}
  %0 = lm.attention %q, %k, %v, %pos {chunk_size = 64 : i64, scale = 0.25 : f64, sliding_window = 8 : i64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @attention_window(%q: tensor<?x?x4x16xf32>, %k: tensor<?x?x2x16xf32>,
                            %v: tensor<?x?x2x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected a positive 'sliding_window', got 0}}
  %0 = lm.attention %q, %k, %v, %pos {scale = 0.25 : f64, sliding_window = 0 : i64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @attention_chunk(%q: tensor<?x?x4x16xf32>, %k: tensor<?x?x2x16xf32>,
                           %v: tensor<?x?x2x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected a positive 'chunk_size', got 0}}
  %0 = lm.attention %q, %k, %v, %pos {chunk_size = 0 : i64, scale = 0.25 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @attention_softcap(%q: tensor<?x?x4x16xf32>, %k: tensor<?x?x2x16xf32>,
                             %v: tensor<?x?x2x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'softcap' to be positive, got 0.000000e+00}}
  %0 = lm.attention %q, %k, %v, %pos {scale = 0.25 : f64, softcap = 0.0 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @attention_scale(%q: tensor<?x?x4x16xf32>, %k: tensor<?x?x2x16xf32>,
                           %v: tensor<?x?x2x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'scale' to be positive, got -2.500000e-01}}
  %0 = lm.attention %q, %k, %v, %pos {scale = -0.25 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @attention_result(%q: tensor<?x?x4x16xf32>, %k: tensor<?x?x2x16xf32>,
                            %v: tensor<?x?x2x8xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'result' dimension 3 (value dim) to be 8, got 16}}
  %0 = lm.attention %q, %k, %v, %pos {scale = 0.25 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x8xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @compressed_attention_rank(%q: tensor<?x?x128xf32>, %kv: tensor<?x?x32xf32>,
                                     %pos: tensor<?x?xi64>, %s: tensor<4xf32>) {
  // expected-error @+1 {{expected 'query' of rank 4, got rank 3}}
  %0 = lm.compressed_attention %q, %kv, %pos, %s {scale = 0.17 : f64, sliding_window = 8 : i64}
     : (tensor<?x?x128xf32>, tensor<?x?x32xf32>, tensor<?x?xi64>, tensor<4xf32>)
     -> tensor<?x?x128xf32>
  return
}

// -----

func.func @compressed_attention_positions(%q: tensor<?x3x4x32xf32>, %kv: tensor<?x?x32xf32>,
                                          %pos: tensor<?x2xi64>, %s: tensor<4xf32>) {
  // expected-error @+1 {{expected 'positions' dimension 1 (tokens) to be 3, got 2}}
  %0 = lm.compressed_attention %q, %kv, %pos, %s {scale = 0.17 : f64, sliding_window = 8 : i64}
     : (tensor<?x3x4x32xf32>, tensor<?x?x32xf32>, tensor<?x2xi64>, tensor<4xf32>)
     -> tensor<?x3x4x32xf32>
  return
}

// -----

func.func @compressed_attention_kv(%q: tensor<?x?x4x32xf32>, %kv: tensor<?x?x16xf32>,
                                   %pos: tensor<?x?xi64>, %s: tensor<4xf32>) {
  // expected-error @+1 {{expected 'kv' dimension 2 (head dim) to be 32, got 16}}
  %0 = lm.compressed_attention %q, %kv, %pos, %s {scale = 0.17 : f64, sliding_window = 8 : i64}
     : (tensor<?x?x4x32xf32>, tensor<?x?x16xf32>, tensor<?x?xi64>, tensor<4xf32>)
     -> tensor<?x?x4x32xf32>
  return
}

// -----

func.func @compressed_attention_entries(%q: tensor<?x?x4x32xf32>, %kv: tensor<?x?x32xf32>,
                                        %e: tensor<?x?x4x32xf32>, %pos: tensor<?x?xi64>,
                                        %s: tensor<4xf32>) {
  // expected-error @+1 {{expected 'entries' of rank 3, got rank 4}}
  %0 = lm.compressed_attention %q, %kv entries %e, %pos, %s
         {ratio = 4 : i64, scale = 0.17 : f64, sliding_window = 8 : i64}
     : (tensor<?x?x4x32xf32>, tensor<?x?x32xf32>, tensor<?x?x4x32xf32>, tensor<?x?xi64>,
        tensor<4xf32>) -> tensor<?x?x4x32xf32>
  return
}

// -----

func.func @compressed_attention_sinks(%q: tensor<?x?x4x32xf32>, %kv: tensor<?x?x32xf32>,
                                      %pos: tensor<?x?xi64>, %s: tensor<8xf32>) {
  // expected-error @+1 {{expected 'sinks' dimension 0 (heads) to be 4, got 8}}
  %0 = lm.compressed_attention %q, %kv, %pos, %s {scale = 0.17 : f64, sliding_window = 8 : i64}
     : (tensor<?x?x4x32xf32>, tensor<?x?x32xf32>, tensor<?x?xi64>, tensor<8xf32>)
     -> tensor<?x?x4x32xf32>
  return
}

// -----

func.func @compressed_attention_selected_without_entries(
    %q: tensor<?x?x4x32xf32>, %kv: tensor<?x?x32xf32>, %pos: tensor<?x?xi64>,
    %s: tensor<4xf32>, %sel: tensor<?x?x8xi64>) {
  // expected-error @+1 {{expected 'entries' to select from}}
  %0 = lm.compressed_attention %q, %kv, %pos, %s selected %sel
         {ratio = 4 : i64, scale = 0.17 : f64, sliding_window = 8 : i64}
     : (tensor<?x?x4x32xf32>, tensor<?x?x32xf32>, tensor<?x?xi64>, tensor<4xf32>,
        tensor<?x?x8xi64>) -> tensor<?x?x4x32xf32>
  return
}

// -----

func.func @compressed_attention_selected_rank(
    %q: tensor<?x?x4x32xf32>, %kv: tensor<?x?x32xf32>, %e: tensor<?x?x32xf32>,
    %pos: tensor<?x?xi64>, %s: tensor<4xf32>, %sel: tensor<?x8xi64>) {
  // expected-error @+1 {{expected 'selected' of rank 3, got rank 2}}
  %0 = lm.compressed_attention %q, %kv entries %e, %pos, %s selected %sel
         {ratio = 4 : i64, scale = 0.17 : f64, sliding_window = 8 : i64}
     : (tensor<?x?x4x32xf32>, tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<?x?xi64>,
        tensor<4xf32>, tensor<?x8xi64>) -> tensor<?x?x4x32xf32>
  return
}

// -----

func.func @compressed_attention_window(%q: tensor<?x?x4x32xf32>, %kv: tensor<?x?x32xf32>,
                                       %pos: tensor<?x?xi64>, %s: tensor<4xf32>) {
  // expected-error @+1 {{expected a positive 'sliding_window' and 'ratio'}}
  %0 = lm.compressed_attention %q, %kv, %pos, %s {scale = 0.17 : f64, sliding_window = 0 : i64}
     : (tensor<?x?x4x32xf32>, tensor<?x?x32xf32>, tensor<?x?xi64>, tensor<4xf32>)
     -> tensor<?x?x4x32xf32>
  return
}

// -----

func.func @compressed_attention_ratio(%q: tensor<?x?x4x32xf32>, %kv: tensor<?x?x32xf32>,
                                      %e: tensor<?x?x32xf32>, %pos: tensor<?x?xi64>,
                                      %s: tensor<4xf32>) {
  // expected-error @+1 {{expected a positive 'sliding_window' and 'ratio'}}
  %0 = lm.compressed_attention %q, %kv entries %e, %pos, %s
         {ratio = 0 : i64, scale = 0.17 : f64, sliding_window = 8 : i64}
     : (tensor<?x?x4x32xf32>, tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<?x?xi64>,
        tensor<4xf32>) -> tensor<?x?x4x32xf32>
  return
}

// -----

func.func @compressed_attention_scale(%q: tensor<?x?x4x32xf32>, %kv: tensor<?x?x32xf32>,
                                      %pos: tensor<?x?xi64>, %s: tensor<4xf32>) {
  // expected-error @+1 {{expected 'scale' to be positive, got 0.000000e+00}}
  %0 = lm.compressed_attention %q, %kv, %pos, %s {scale = 0.0 : f64, sliding_window = 8 : i64}
     : (tensor<?x?x4x32xf32>, tensor<?x?x32xf32>, tensor<?x?xi64>, tensor<4xf32>)
     -> tensor<?x?x4x32xf32>
  return
}

// -----

func.func @compressed_attention_result(%q: tensor<?x?x4x32xf32>, %kv: tensor<?x?x32xf32>,
                                       %pos: tensor<?x?xi64>, %s: tensor<4xf32>) {
  // expected-error @+1 {{expected the result to have the query type 'tensor<?x?x4x32xf32>'}}
  %0 = lm.compressed_attention %q, %kv, %pos, %s {scale = 0.17 : f64, sliding_window = 8 : i64}
     : (tensor<?x?x4x32xf32>, tensor<?x?x32xf32>, tensor<?x?xi64>, tensor<4xf32>)
     -> tensor<?x?x128xf32>
  return
}

// -----

func.func @lightning_indexer_query(%q: tensor<?x?x256xf32>, %k: tensor<?x?x16xf32>,
                                   %w: tensor<?x?x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'query' of rank 4, got rank 3}}
  %0 = lm.lightning_indexer %q, %k, %w, %pos {scale = 0.25 : f64, top_k = 8 : i64}
     : (tensor<?x?x256xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x8xi64>
  return
}

// -----

func.func @lightning_indexer_key_rank(%q: tensor<?x?x16x16xf32>, %k: tensor<?x?x1x16xf32>,
                                      %w: tensor<?x?x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'key' of rank 3, got rank 4}}
  %0 = lm.lightning_indexer %q, %k, %w, %pos {scale = 0.25 : f64, top_k = 8 : i64}
     : (tensor<?x?x16x16xf32>, tensor<?x?x1x16xf32>, tensor<?x?x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x8xi64>
  return
}

// -----

func.func @lightning_indexer_key_dim(%q: tensor<?x?x16x16xf32>, %k: tensor<?x?x32xf32>,
                                     %w: tensor<?x?x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'key' dimension 2 (index head dim) to be 16, got 32}}
  %0 = lm.lightning_indexer %q, %k, %w, %pos {scale = 0.25 : f64, top_k = 8 : i64}
     : (tensor<?x?x16x16xf32>, tensor<?x?x32xf32>, tensor<?x?x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x8xi64>
  return
}

// -----

func.func @lightning_indexer_positions(%q: tensor<?x?x16x16xf32>, %k: tensor<?x?x16xf32>,
                                       %w: tensor<?x?x16xf32>, %pos: tensor<?xi64>) {
  // expected-error @+1 {{expected 'positions' of rank 2, got rank 1}}
  %0 = lm.lightning_indexer %q, %k, %w, %pos {scale = 0.25 : f64, top_k = 8 : i64}
     : (tensor<?x?x16x16xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?xi64>)
     -> tensor<?x?x8xi64>
  return
}

// -----

func.func @lightning_indexer_weights(%q: tensor<?x?x16x16xf32>, %k: tensor<?x?x16xf32>,
                                     %w: tensor<?x?x8xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'head_weights' dimension 2 (index heads) to be 16, got 8}}
  %0 = lm.lightning_indexer %q, %k, %w, %pos {scale = 0.25 : f64, top_k = 8 : i64}
     : (tensor<?x?x16x16xf32>, tensor<?x?x16xf32>, tensor<?x?x8xf32>, tensor<?x?xi64>)
     -> tensor<?x?x8xi64>
  return
}

// -----

func.func @lightning_indexer_top_k(%q: tensor<?x?x16x16xf32>, %k: tensor<?x?x16xf32>,
                                   %w: tensor<?x?x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected a positive 'top_k', got 0}}
  %0 = lm.lightning_indexer %q, %k, %w, %pos {scale = 0.25 : f64, top_k = 0 : i64}
     : (tensor<?x?x16x16xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x0xi64>
  return
}

// -----

func.func @lightning_indexer_ratio(%q: tensor<?x?x16x16xf32>, %k: tensor<?x?x16xf32>,
                                   %w: tensor<?x?x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected a positive 'ratio', got 0}}
  %0 = lm.lightning_indexer %q, %k, %w, %pos {ratio = 0 : i64, scale = 0.25 : f64, top_k = 8 : i64}
     : (tensor<?x?x16x16xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x8xi64>
  return
}

// -----

func.func @lightning_indexer_result(%q: tensor<?x?x16x16xf32>, %k: tensor<?x?x16xf32>,
                                    %w: tensor<?x?x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'result' dimension 2 (top_k) to be 8, got 4}}
  %0 = lm.lightning_indexer %q, %k, %w, %pos {scale = 0.25 : f64, top_k = 8 : i64}
     : (tensor<?x?x16x16xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4xi64>
  return
}

// -----

func.func @mla_attention_rank(%qn: tensor<?x?x64xf32>, %qr: tensor<?x?x4x8xf32>,
                              %c: tensor<?x?x32xf32>, %kr: tensor<?x?x8xf32>,
                              %w: tensor<128x32xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'query_nope' of rank 4, got rank 3}}
  %0 = lm.mla_attention %qn, %qr, %c, %kr, %w, %pos {scale = 0.2 : f64}
     : (tensor<?x?x64xf32>, tensor<?x?x4x8xf32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>,
        tensor<128x32xf32>, tensor<?x?xi64>) -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @mla_attention_latent_rank(%qn: tensor<?x?x4x16xf32>, %qr: tensor<?x?x4x8xf32>,
                                     %c: tensor<?x?x1x32xf32>, %kr: tensor<?x?x8xf32>,
                                     %w: tensor<128x32xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'latent' of rank 3, got rank 4}}
  %0 = lm.mla_attention %qn, %qr, %c, %kr, %w, %pos {scale = 0.2 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<?x?x1x32xf32>, tensor<?x?x8xf32>,
        tensor<128x32xf32>, tensor<?x?xi64>) -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @mla_attention_kv_b_rank(%qn: tensor<?x?x4x16xf32>, %qr: tensor<?x?x4x8xf32>,
                                   %c: tensor<?x?x32xf32>, %kr: tensor<?x?x8xf32>,
                                   %w: tensor<4x32x32xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'kv_b' of rank 2, got rank 3}}
  %0 = lm.mla_attention %qn, %qr, %c, %kr, %w, %pos {scale = 0.2 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>,
        tensor<4x32x32xf32>, tensor<?x?xi64>) -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @mla_attention_heads(%qn: tensor<?x?x4x16xf32>, %qr: tensor<?x?x2x8xf32>,
                               %c: tensor<?x?x32xf32>, %kr: tensor<?x?x8xf32>,
                               %w: tensor<128x32xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'query_rope' dimension 2 (heads) to be 4, got 2}}
  %0 = lm.mla_attention %qn, %qr, %c, %kr, %w, %pos {scale = 0.2 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x2x8xf32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>,
        tensor<128x32xf32>, tensor<?x?xi64>) -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @mla_attention_rope_dim(%qn: tensor<?x?x4x16xf32>, %qr: tensor<?x?x4x8xf32>,
                                  %c: tensor<?x?x32xf32>, %kr: tensor<?x?x4xf32>,
                                  %w: tensor<128x32xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'key_rope' dimension 2 (rope dim) to be 8, got 4}}
  %0 = lm.mla_attention %qn, %qr, %c, %kr, %w, %pos {scale = 0.2 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<?x?x32xf32>, tensor<?x?x4xf32>,
        tensor<128x32xf32>, tensor<?x?xi64>) -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @mla_attention_keys(%qn: tensor<?x?x4x16xf32>, %qr: tensor<?x?x4x8xf32>,
                              %c: tensor<?x12x32xf32>, %kr: tensor<?x10x8xf32>,
                              %w: tensor<128x32xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'key_rope' dimension 1 (keys) to be 12, got 10}}
  %0 = lm.mla_attention %qn, %qr, %c, %kr, %w, %pos {scale = 0.2 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<?x12x32xf32>, tensor<?x10x8xf32>,
        tensor<128x32xf32>, tensor<?x?xi64>) -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @mla_attention_latent_dim(%qn: tensor<?x?x4x16xf32>, %qr: tensor<?x?x4x8xf32>,
                                    %c: tensor<?x?x32xf32>, %kr: tensor<?x?x8xf32>,
                                    %w: tensor<128x64xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'kv_b' dimension 1 (latent dim) to be 32, got 64}}
  %0 = lm.mla_attention %qn, %qr, %c, %kr, %w, %pos {scale = 0.2 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>,
        tensor<128x64xf32>, tensor<?x?xi64>) -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @mla_attention_kv_b_rows(%qn: tensor<?x?x4x16xf32>, %qr: tensor<?x?x4x8xf32>,
                                   %c: tensor<?x?x32xf32>, %kr: tensor<?x?x8xf32>,
                                   %w: tensor<64x32xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'kv_b' rows (64) to be heads (4) x (nope dim 16 + value dim)}}
  %0 = lm.mla_attention %qn, %qr, %c, %kr, %w, %pos {scale = 0.2 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>,
        tensor<64x32xf32>, tensor<?x?xi64>) -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @mla_attention_kv_b_heads(%qn: tensor<?x?x4x16xf32>, %qr: tensor<?x?x4x8xf32>,
                                    %c: tensor<?x?x32xf32>, %kr: tensor<?x?x8xf32>,
                                    %w: tensor<130x32xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'kv_b' rows (130) to be heads (4) x (nope dim 16 + value dim)}}
  %0 = lm.mla_attention %qn, %qr, %c, %kr, %w, %pos {scale = 0.2 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>,
        tensor<130x32xf32>, tensor<?x?xi64>) -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @mla_attention_selected(%qn: tensor<?x?x4x16xf32>, %qr: tensor<?x?x4x8xf32>,
                                  %c: tensor<?x?x32xf32>, %kr: tensor<?x?x8xf32>,
                                  %w: tensor<128x32xf32>, %pos: tensor<?x?xi64>,
                                  %sel: tensor<?x?x1x8xi64>) {
  // expected-error @+1 {{expected 'selected' of rank 3, got rank 4}}
  %0 = lm.mla_attention %qn, %qr, %c, %kr, %w, %pos selected %sel {scale = 0.2 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>,
        tensor<128x32xf32>, tensor<?x?xi64>, tensor<?x?x1x8xi64>) -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @mla_attention_result(%qn: tensor<?x?x4x16xf32>, %qr: tensor<?x?x4x8xf32>,
                                %c: tensor<?x?x32xf32>, %kr: tensor<?x?x8xf32>,
                                %w: tensor<128x32xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'result' dimension 3 (value dim) to be 16, got 32}}
  %0 = lm.mla_attention %qn, %qr, %c, %kr, %w, %pos {scale = 0.2 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>,
        tensor<128x32xf32>, tensor<?x?xi64>) -> tensor<?x?x4x32xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Inference state
//===----------------------------------------------------------------------===//

func.func @kv_compress_updated(%c: !lm.compressed_cache<32, f32, ratio = 8>,
                               %kv: tensor<?x?x32xf32>, %ape: tensor<8x32xf32>,
                               %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected the updated cache to have type '!lm.compressed_cache<32, f32, ratio = 8>'}}
  %0:3 = lm.kv_compress %c, %kv, %kv, %ape, %pos
      : (!lm.compressed_cache<32, f32, ratio = 8>, tensor<?x?x32xf32>, tensor<?x?x32xf32>,
         tensor<8x32xf32>, tensor<?x?xi64>)
      -> (!lm.compressed_cache<32, f32, ratio = 4>, tensor<?x?x32xf32>, tensor<?x?xi64>)
  return
}

// -----

func.func @kv_compress_row_width(%c: !lm.compressed_cache<32, f32, ratio = 8, overlap = true>,
                                 %kv: tensor<?x?x32xf32>, %ape: tensor<8x32xf32>,
                                 %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'kv' dimension 2 (row width) to be 64, got 32}}
  %0:3 = lm.kv_compress %c, %kv, %kv, %ape, %pos
      : (!lm.compressed_cache<32, f32, ratio = 8, overlap = true>, tensor<?x?x32xf32>,
         tensor<?x?x32xf32>, tensor<8x32xf32>, tensor<?x?xi64>)
      -> (!lm.compressed_cache<32, f32, ratio = 8, overlap = true>, tensor<?x?x32xf32>,
          tensor<?x?xi64>)
  return
}

// -----

func.func @kv_compress_positions(%c: !lm.compressed_cache<32, f32, ratio = 8>,
                                 %kv: tensor<1x?x32xf32>, %ape: tensor<8x32xf32>,
                                 %pos: tensor<2x?xi64>) {
  // expected-error @+1 {{expected 'positions' dimension 0 (batch) to be 1, got 2}}
  %0:3 = lm.kv_compress %c, %kv, %kv, %ape, %pos
      : (!lm.compressed_cache<32, f32, ratio = 8>, tensor<1x?x32xf32>, tensor<1x?x32xf32>,
         tensor<8x32xf32>, tensor<2x?xi64>)
      -> (!lm.compressed_cache<32, f32, ratio = 8>, tensor<1x?x32xf32>, tensor<1x?xi64>)
  return
}

// -----

func.func @kv_compress_gate(%c: !lm.compressed_cache<32, f32, ratio = 8>,
                            %kv: tensor<?x?x32xf32>, %g: tensor<?x?x16xf32>,
                            %ape: tensor<8x32xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'gate' dimension 2 (row width) to be 32, got 16}}
  %0:3 = lm.kv_compress %c, %kv, %g, %ape, %pos
      : (!lm.compressed_cache<32, f32, ratio = 8>, tensor<?x?x32xf32>, tensor<?x?x16xf32>,
         tensor<8x32xf32>, tensor<?x?xi64>)
      -> (!lm.compressed_cache<32, f32, ratio = 8>, tensor<?x?x32xf32>, tensor<?x?xi64>)
  return
}

// -----

func.func @kv_compress_ape(%c: !lm.compressed_cache<32, f32, ratio = 8>,
                           %kv: tensor<?x?x32xf32>, %ape: tensor<4x32xf32>,
                           %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'ape' dimension 0 (ratio) to be 8, got 4}}
  %0:3 = lm.kv_compress %c, %kv, %kv, %ape, %pos
      : (!lm.compressed_cache<32, f32, ratio = 8>, tensor<?x?x32xf32>, tensor<?x?x32xf32>,
         tensor<4x32xf32>, tensor<?x?xi64>)
      -> (!lm.compressed_cache<32, f32, ratio = 8>, tensor<?x?x32xf32>, tensor<?x?xi64>)
  return
}

// -----

func.func @kv_compress_entries(%c: !lm.compressed_cache<16, f32, ratio = 4, overlap = true>,
                               %kv: tensor<?x?x32xf32>, %ape: tensor<4x32xf32>,
                               %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'entries' dimension 2 (dim) to be 16, got 32}}
  %0:3 = lm.kv_compress %c, %kv, %kv, %ape, %pos
      : (!lm.compressed_cache<16, f32, ratio = 4, overlap = true>, tensor<?x?x32xf32>,
         tensor<?x?x32xf32>, tensor<4x32xf32>, tensor<?x?xi64>)
      -> (!lm.compressed_cache<16, f32, ratio = 4, overlap = true>, tensor<?x?x32xf32>,
          tensor<?x?xi64>)
  return
}

// -----

func.func @kv_compress_entry_positions(%c: !lm.compressed_cache<32, f32, ratio = 8>,
                                       %kv: tensor<?x?x32xf32>, %ape: tensor<8x32xf32>,
                                       %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'entry_positions' dimension 1 (entries) to be 3, got 4}}
  %0:3 = lm.kv_compress %c, %kv, %kv, %ape, %pos
      : (!lm.compressed_cache<32, f32, ratio = 8>, tensor<?x?x32xf32>, tensor<?x?x32xf32>,
         tensor<8x32xf32>, tensor<?x?xi64>)
      -> (!lm.compressed_cache<32, f32, ratio = 8>, tensor<?x3x32xf32>, tensor<?x4xi64>)
  return
}

// -----

func.func @key_cache_update_updated(%c: !lm.key_cache<16, f32>, %k: tensor<?x?x16xf32>,
                                    %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected the updated cache to have type '!lm.key_cache<16, f32>'}}
  %0:2 = lm.key_cache_update %c, %k, %pos
      : (!lm.key_cache<16, f32>, tensor<?x?x16xf32>, tensor<?x?xi64>)
      -> (!lm.key_cache<16, f32, window = 8>, tensor<?x?x16xf32>)
  return
}

// -----

func.func @key_cache_update_key(%c: !lm.key_cache<16, f32>, %k: tensor<?x?x8xf32>,
                                %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'key' dimension 2 (key dim) to be 16, got 8}}
  %0:2 = lm.key_cache_update %c, %k, %pos
      : (!lm.key_cache<16, f32>, tensor<?x?x8xf32>, tensor<?x?xi64>)
      -> (!lm.key_cache<16, f32>, tensor<?x?x16xf32>)
  return
}

// -----

func.func @key_cache_update_positions(%c: !lm.key_cache<16, f32>, %k: tensor<?x4x16xf32>,
                                      %pos: tensor<?x1xi64>) {
  // expected-error @+1 {{expected 'positions' dimension 1 (tokens) to be 4, got 1}}
  %0:2 = lm.key_cache_update %c, %k, %pos
      : (!lm.key_cache<16, f32>, tensor<?x4x16xf32>, tensor<?x1xi64>)
      -> (!lm.key_cache<16, f32>, tensor<?x?x16xf32>)
  return
}

// -----

func.func @key_cache_update_keys(%c: !lm.key_cache<16, f32>, %k: tensor<2x?x16xf32>,
                                 %pos: tensor<2x?xi64>) {
  // expected-error @+1 {{expected 'keys' dimension 0 (batch) to be 2, got 1}}
  %0:2 = lm.key_cache_update %c, %k, %pos
      : (!lm.key_cache<16, f32>, tensor<2x?x16xf32>, tensor<2x?xi64>)
      -> (!lm.key_cache<16, f32>, tensor<1x?x16xf32>)
  return
}

// -----

func.func @kv_cache_update_updated(%c: !lm.kv_cache<2 x 16 x 16, f32>,
                                   %k: tensor<?x?x2x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected the updated cache to have type '!lm.kv_cache<2 x 16 x 16, f32>'}}
  %0:3 = lm.kv_cache_update %c, %k, %k, %pos
      : (!lm.kv_cache<2 x 16 x 16, f32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
      -> (!lm.kv_cache<2 x 16 x 16, bf16>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>)
  return
}

// -----

func.func @kv_cache_update_heads(%c: !lm.kv_cache<2 x 16 x 16, f32>,
                                 %k: tensor<?x?x4x16xf32>, %v: tensor<?x?x2x16xf32>,
                                 %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'key' dimension 2 (kv heads) to be 2, got 4}}
  %0:3 = lm.kv_cache_update %c, %k, %v, %pos
      : (!lm.kv_cache<2 x 16 x 16, f32>, tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
      -> (!lm.kv_cache<2 x 16 x 16, f32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>)
  return
}

// -----

func.func @kv_cache_update_value_dim(%c: !lm.kv_cache<2 x 16 x 8, f32>,
                                     %k: tensor<?x?x2x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'value' dimension 3 (value dim) to be 8, got 16}}
  %0:3 = lm.kv_cache_update %c, %k, %k, %pos
      : (!lm.kv_cache<2 x 16 x 8, f32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
      -> (!lm.kv_cache<2 x 16 x 8, f32>, tensor<?x?x2x16xf32>, tensor<?x?x2x8xf32>)
  return
}

// -----

func.func @kv_cache_update_keys(%c: !lm.kv_cache<2 x 16 x 16, f32>,
                                %k: tensor<?x?x2x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'keys' of rank 4, got rank 3}}
  %0:3 = lm.kv_cache_update %c, %k, %k, %pos
      : (!lm.kv_cache<2 x 16 x 16, f32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
      -> (!lm.kv_cache<2 x 16 x 16, f32>, tensor<?x?x32xf32>, tensor<?x?x2x16xf32>)
  return
}

// -----

func.func @kv_cache_update_values(%c: !lm.kv_cache<2 x 16 x 16, f32>,
                                  %k: tensor<?x?x2x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'values' dimension 2 (kv heads) to be 2, got 1}}
  %0:3 = lm.kv_cache_update %c, %k, %k, %pos
      : (!lm.kv_cache<2 x 16 x 16, f32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
      -> (!lm.kv_cache<2 x 16 x 16, f32>, tensor<?x?x2x16xf32>, tensor<?x?x1x16xf32>)
  return
}

// -----

func.func @latent_cache_update_updated(%c: !lm.latent_cache<32 + 8, f32>,
                                       %l: tensor<?x?x32xf32>, %kr: tensor<?x?x8xf32>,
                                       %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected the updated cache to have type '!lm.latent_cache<32 + 8, f32>'}}
  %0:3 = lm.latent_cache_update %c, %l, %kr, %pos
      : (!lm.latent_cache<32 + 8, f32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>, tensor<?x?xi64>)
      -> (!lm.latent_cache<32 + 16, f32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>)
  return
}

// -----

func.func @latent_cache_update_latent(%c: !lm.latent_cache<32 + 8, f32>,
                                      %l: tensor<?x?x40xf32>, %kr: tensor<?x?x8xf32>,
                                      %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'latent' dimension 2 (latent dim) to be 32, got 40}}
  %0:3 = lm.latent_cache_update %c, %l, %kr, %pos
      : (!lm.latent_cache<32 + 8, f32>, tensor<?x?x40xf32>, tensor<?x?x8xf32>, tensor<?x?xi64>)
      -> (!lm.latent_cache<32 + 8, f32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>)
  return
}

// -----

func.func @latent_cache_update_key_rope(%c: !lm.latent_cache<32 + 8, f32>,
                                        %l: tensor<?x?x32xf32>, %kr: tensor<?x?x1x8xf32>,
                                        %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'key_rope' of rank 3, got rank 4}}
  %0:3 = lm.latent_cache_update %c, %l, %kr, %pos
      : (!lm.latent_cache<32 + 8, f32>, tensor<?x?x32xf32>, tensor<?x?x1x8xf32>, tensor<?x?xi64>)
      -> (!lm.latent_cache<32 + 8, f32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>)
  return
}

// -----

func.func @latent_cache_update_key_ropes(%c: !lm.latent_cache<32 + 8, f32>,
                                         %l: tensor<?x?x32xf32>, %kr: tensor<?x?x8xf32>,
                                         %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'key_ropes' dimension 2 (rope dim) to be 8, got 4}}
  %0:3 = lm.latent_cache_update %c, %l, %kr, %pos
      : (!lm.latent_cache<32 + 8, f32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>, tensor<?x?xi64>)
      -> (!lm.latent_cache<32 + 8, f32>, tensor<?x?x32xf32>, tensor<?x?x4xf32>)
  return
}

// -----

func.func @cache_update_state_type(%c: !lm.recurrent_state<[16], f32>, %k: tensor<?x?x16xf32>,
                                   %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{operand #0 must be Single-head keys of a sparse-attention indexer, but got '!lm.recurrent_state<[16], f32>'}}
  %0:2 = lm.key_cache_update %c, %k, %pos
      : (!lm.recurrent_state<[16], f32>, tensor<?x?x16xf32>, tensor<?x?xi64>)
      -> (!lm.recurrent_state<[16], f32>, tensor<?x?x16xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// Recurrent mixers
//===----------------------------------------------------------------------===//

func.func @causal_conv1d_input(%x: tensor<?x?x4x24xf32>, %w: tensor<96x1x4xf32>,
                               %s: !lm.recurrent_state<[96, 3], f32>) {
  // expected-error @+1 {{expected 'input' of rank 3, got rank 4}}
  %0:2 = lm.causal_conv1d %x, %w, %s {activation = #lm.activation<silu>}
      : (tensor<?x?x4x24xf32>, tensor<96x1x4xf32>, !lm.recurrent_state<[96, 3], f32>)
      -> (tensor<?x?x4x24xf32>, !lm.recurrent_state<[96, 3], f32>)
  return
}

// -----

func.func @causal_conv1d_weight_rank(%x: tensor<?x?x96xf32>, %w: tensor<96x4xf32>,
                                     %s: !lm.recurrent_state<[96, 3], f32>) {
  // expected-error @+1 {{expected 'weight' of rank 3, got rank 2}}
  %0:2 = lm.causal_conv1d %x, %w, %s {activation = #lm.activation<silu>}
      : (tensor<?x?x96xf32>, tensor<96x4xf32>, !lm.recurrent_state<[96, 3], f32>)
      -> (tensor<?x?x96xf32>, !lm.recurrent_state<[96, 3], f32>)
  return
}

// -----

func.func @causal_conv1d_channels(%x: tensor<?x?x96xf32>, %w: tensor<64x1x4xf32>,
                                  %s: !lm.recurrent_state<[64, 3], f32>) {
  // expected-error @+1 {{expected 'weight' dimension 0 (channels) to be 96, got 64}}
  %0:2 = lm.causal_conv1d %x, %w, %s {activation = #lm.activation<silu>}
      : (tensor<?x?x96xf32>, tensor<64x1x4xf32>, !lm.recurrent_state<[64, 3], f32>)
      -> (tensor<?x?x96xf32>, !lm.recurrent_state<[64, 3], f32>)
  return
}

// -----

func.func @causal_conv1d_depthwise(%x: tensor<?x?x96xf32>, %w: tensor<96x2x4xf32>,
                                   %s: !lm.recurrent_state<[96, 3], f32>) {
  // expected-error @+1 {{expected 'weight' dimension 1 (depthwise) to be 1, got 2}}
  %0:2 = lm.causal_conv1d %x, %w, %s {activation = #lm.activation<silu>}
      : (tensor<?x?x96xf32>, tensor<96x2x4xf32>, !lm.recurrent_state<[96, 3], f32>)
      -> (tensor<?x?x96xf32>, !lm.recurrent_state<[96, 3], f32>)
  return
}

// -----

func.func @causal_conv1d_result(%x: tensor<?x?x96xf32>, %w: tensor<96x1x4xf32>,
                                %s: !lm.recurrent_state<[96, 3], f32>) {
  // expected-error @+1 {{expected the result to have the input type 'tensor<?x?x96xf32>'}}
  %0:2 = lm.causal_conv1d %x, %w, %s {activation = #lm.activation<silu>}
      : (tensor<?x?x96xf32>, tensor<96x1x4xf32>, !lm.recurrent_state<[96, 3], f32>)
      -> (tensor<?x?x96xbf16>, !lm.recurrent_state<[96, 3], f32>)
  return
}

// -----

func.func @causal_conv1d_bias(%x: tensor<?x?x96xf32>, %w: tensor<96x1x4xf32>,
                              %b: tensor<4xf32>, %s: !lm.recurrent_state<[96, 3], f32>) {
  // expected-error @+1 {{expected 'bias' dimension 0 (channels) to be 96, got 4}}
  %0:2 = lm.causal_conv1d %x, %w bias %b, %s {activation = #lm.activation<silu>}
      : (tensor<?x?x96xf32>, tensor<96x1x4xf32>, tensor<4xf32>, !lm.recurrent_state<[96, 3], f32>)
      -> (tensor<?x?x96xf32>, !lm.recurrent_state<[96, 3], f32>)
  return
}

// -----

func.func @causal_conv1d_state(%x: tensor<?x?x96xf32>, %w: tensor<96x1x4xf32>,
                               %s: !lm.recurrent_state<[96, 4], f32>) {
  // expected-error @+1 {{expected 'state' of shape [96, 3] (channels, kernel - 1), got [96, 4]}}
  %0:2 = lm.causal_conv1d %x, %w, %s {activation = #lm.activation<silu>}
      : (tensor<?x?x96xf32>, tensor<96x1x4xf32>, !lm.recurrent_state<[96, 4], f32>)
      -> (tensor<?x?x96xf32>, !lm.recurrent_state<[96, 4], f32>)
  return
}

// -----

func.func @causal_conv1d_updated(%x: tensor<?x?x96xf32>, %w: tensor<96x1x4xf32>,
                                 %s: !lm.recurrent_state<[96, 3], f32>) {
  // expected-error @+1 {{expected the updated state to have type '!lm.recurrent_state<[96, 3], f32>', got '!lm.recurrent_state<[96, 3], bf16>'}}
  %0:2 = lm.causal_conv1d %x, %w, %s {activation = #lm.activation<silu>}
      : (tensor<?x?x96xf32>, tensor<96x1x4xf32>, !lm.recurrent_state<[96, 3], f32>)
      -> (tensor<?x?x96xf32>, !lm.recurrent_state<[96, 3], bf16>)
  return
}

// -----

func.func @decay_gate_rank(%a: tensor<?x?xf32>, %alog: tensor<4xf32>, %dtb: tensor<4xf32>) {
  // expected-error @+1 {{expected 'input' of rank 3 (per head) or 4 (per channel), got rank 2}}
  %0 = lm.decay_gate %a, %alog, %dtb : tensor<?x?xf32>, tensor<4xf32>, tensor<4xf32> -> tensor<?x?xf32>
  return
}

// -----

func.func @decay_gate_result(%a: tensor<?x?x4xf32>, %alog: tensor<4xf32>, %dtb: tensor<4xf32>) {
  // expected-error @+1 {{expected the result to have the input type 'tensor<?x?x4xf32>'}}
  %0 = lm.decay_gate %a, %alog, %dtb : tensor<?x?x4xf32>, tensor<4xf32>, tensor<4xf32> -> tensor<?x?x4x1xf32>
  return
}

// -----

func.func @decay_gate_a_log(%a: tensor<?x?x4xf32>, %alog: tensor<8xf32>, %dtb: tensor<4xf32>) {
  // expected-error @+1 {{expected 'a_log' to hold one value per head (4), got 8}}
  %0 = lm.decay_gate %a, %alog, %dtb : tensor<?x?x4xf32>, tensor<8xf32>, tensor<4xf32> -> tensor<?x?x4xf32>
  return
}

// -----

func.func @decay_gate_dt_bias(%a: tensor<?x?x4x16xf32>, %alog: tensor<4xf32>, %dtb: tensor<4xf32>) {
  // expected-error @+1 {{expected 'dt_bias' to hold 64 values, got 4}}
  %0 = lm.decay_gate %a, %alog, %dtb
     : tensor<?x?x4x16xf32>, tensor<4xf32>, tensor<4xf32> -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @gated_delta_rule_query(%q: tensor<?x?x32xf32>, %v: tensor<?x?x4x16xf32>,
                                  %g: tensor<?x?x4xf32>, %s: !lm.recurrent_state<[4, 16, 16], f32>) {
  // expected-error @+1 {{expected 'query' of rank 4, got rank 3}}
  %0:2 = lm.gated_delta_rule %q, %q, %v, %g, %g, %s {scale = 0.25 : f64}
      : (tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4xf32>,
         tensor<?x?x4xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
  return
}

// -----

func.func @gated_delta_rule_value_rank(%q: tensor<?x?x2x16xf32>, %v: tensor<?x?x64xf32>,
                                       %g: tensor<?x?x4xf32>, %s: !lm.recurrent_state<[4, 16, 16], f32>) {
  // expected-error @+1 {{expected 'value' of rank 4, got rank 3}}
  %0:2 = lm.gated_delta_rule %q, %q, %v, %g, %g, %s {scale = 0.25 : f64}
      : (tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x64xf32>, tensor<?x?x4xf32>,
         tensor<?x?x4xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
      -> (tensor<?x?x64xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
  return
}

// -----

func.func @gated_delta_rule_key(%q: tensor<?x?x2x16xf32>, %k: tensor<?x?x2x8xf32>,
                                %v: tensor<?x?x4x16xf32>, %g: tensor<?x?x4xf32>,
                                %s: !lm.recurrent_state<[4, 16, 16], f32>) {
  // expected-error @+1 {{expected 'key' dimension 3 (key dim) to be 16, got 8}}
  %0:2 = lm.gated_delta_rule %q, %k, %v, %g, %g, %s {scale = 0.25 : f64}
      : (tensor<?x?x2x16xf32>, tensor<?x?x2x8xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4xf32>,
         tensor<?x?x4xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
  return
}

// -----

func.func @gated_delta_rule_value_tokens(%q: tensor<?x3x2x16xf32>, %v: tensor<?x5x4x16xf32>,
                                         %g: tensor<?x?x4xf32>, %s: !lm.recurrent_state<[4, 16, 16], f32>) {
  // expected-error @+1 {{expected 'value' dimension 1 (tokens) to be 3, got 5}}
  %0:2 = lm.gated_delta_rule %q, %q, %v, %g, %g, %s {scale = 0.25 : f64}
      : (tensor<?x3x2x16xf32>, tensor<?x3x2x16xf32>, tensor<?x5x4x16xf32>, tensor<?x?x4xf32>,
         tensor<?x?x4xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
      -> (tensor<?x5x4x16xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
  return
}

// -----

func.func @gated_delta_rule_heads(%q: tensor<?x?x3x16xf32>, %v: tensor<?x?x4x16xf32>,
                                  %g: tensor<?x?x4xf32>, %s: !lm.recurrent_state<[4, 16, 16], f32>) {
  // expected-error @+1 {{expected the 4 value heads to be a multiple of the 3 key heads}}
  %0:2 = lm.gated_delta_rule %q, %q, %v, %g, %g, %s {scale = 0.25 : f64}
      : (tensor<?x?x3x16xf32>, tensor<?x?x3x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4xf32>,
         tensor<?x?x4xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
  return
}

// -----

func.func @gated_delta_rule_decay(%q: tensor<?x?x2x16xf32>, %v: tensor<?x?x4x16xf32>,
                                  %g: tensor<?x?x2xf32>, %b: tensor<?x?x4xf32>,
                                  %s: !lm.recurrent_state<[4, 16, 16], f32>) {
  // expected-error @+1 {{expected 'log_decay' dimension 2 (value heads) to be 4, got 2}}
  %0:2 = lm.gated_delta_rule %q, %q, %v, %g, %b, %s {scale = 0.25 : f64}
      : (tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x2xf32>,
         tensor<?x?x4xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
  return
}

// -----

func.func @gated_delta_rule_channel_decay(%q: tensor<?x?x2x16xf32>, %v: tensor<?x?x4x16xf32>,
                                          %g: tensor<?x?x4x8xf32>, %b: tensor<?x?x4xf32>,
                                          %s: !lm.recurrent_state<[4, 16, 16], f32>) {
  // expected-error @+1 {{expected 'log_decay' dimension 3 (key dim) to be 16, got 8}}
  %0:2 = lm.gated_delta_rule %q, %q, %v, %g, %b, %s {scale = 0.25 : f64}
      : (tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>,
         tensor<?x?x4xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
  return
}

// -----

func.func @gated_delta_rule_decay_rank(%q: tensor<?x?x2x16xf32>, %v: tensor<?x?x4x16xf32>,
                                       %g: tensor<?x?xf32>, %b: tensor<?x?x4xf32>,
                                       %s: !lm.recurrent_state<[4, 16, 16], f32>) {
  // expected-error @+1 {{expected 'log_decay' of rank 3, got rank 2}}
  %0:2 = lm.gated_delta_rule %q, %q, %v, %g, %b, %s {scale = 0.25 : f64}
      : (tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?xf32>,
         tensor<?x?x4xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
  return
}

// -----

func.func @gated_delta_rule_beta(%q: tensor<?x?x2x16xf32>, %v: tensor<?x?x4x16xf32>,
                                 %g: tensor<?x?x4xf32>, %b: tensor<?x?x4x16xf32>,
                                 %s: !lm.recurrent_state<[4, 16, 16], f32>) {
  // expected-error @+1 {{expected 'beta' of rank 3, got rank 4}}
  %0:2 = lm.gated_delta_rule %q, %q, %v, %g, %b, %s {scale = 0.25 : f64}
      : (tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4xf32>,
         tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
  return
}

// -----

func.func @gated_delta_rule_state(%q: tensor<?x?x2x16xf32>, %v: tensor<?x?x4x8xf32>,
                                  %g: tensor<?x?x4xf32>, %s: !lm.recurrent_state<[4, 16, 16], f32>) {
  // expected-error @+1 {{expected 'state' of shape [4, 16, 8] (value heads, key dim, value dim), got [4, 16, 16]}}
  %0:2 = lm.gated_delta_rule %q, %q, %v, %g, %g, %s {scale = 0.25 : f64}
      : (tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x4x8xf32>, tensor<?x?x4xf32>,
         tensor<?x?x4xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
      -> (tensor<?x?x4x8xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
  return
}

// -----

func.func @gated_delta_rule_updated(%q: tensor<?x?x2x16xf32>, %v: tensor<?x?x4x16xf32>,
                                    %g: tensor<?x?x4xf32>, %s: !lm.recurrent_state<[4, 16, 16], f32>) {
  // expected-error @+1 {{expected the updated state to have type '!lm.recurrent_state<[4, 16, 16], f32>', got '!lm.recurrent_state<[4, 16, 16], bf16>'}}
  %0:2 = lm.gated_delta_rule %q, %q, %v, %g, %g, %s {scale = 0.25 : f64}
      : (tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4xf32>,
         tensor<?x?x4xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 16], bf16>)
  return
}

// -----

func.func @gated_delta_rule_result(%q: tensor<?x?x2x16xf32>, %v: tensor<?x?x4x16xf32>,
                                   %g: tensor<?x?x4xf32>, %s: !lm.recurrent_state<[4, 16, 16], f32>) {
  // expected-error @+1 {{expected the result to have the value type 'tensor<?x?x4x16xf32>'}}
  %0:2 = lm.gated_delta_rule %q, %q, %v, %g, %g, %s {scale = 0.25 : f64}
      : (tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4xf32>,
         tensor<?x?x4xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
      -> (tensor<?x?x64xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
  return
}

// -----

func.func @causal_conv1d_lengths_batch(%x: tensor<2x?x96xf32>, %w: tensor<96x1x4xf32>,
                                       %s: !lm.recurrent_state<[96, 3], f32>,
                                       %n: tensor<3xi64>) {
  // expected-error @+1 {{expected 'lengths' dimension 0 (batch) to be 2, got 3}}
  %0:2 = lm.causal_conv1d %x, %w, %s lengths %n {activation = #lm.activation<silu>}
      : (tensor<2x?x96xf32>, tensor<96x1x4xf32>, !lm.recurrent_state<[96, 3], f32>, tensor<3xi64>)
      -> (tensor<2x?x96xf32>, !lm.recurrent_state<[96, 3], f32>)
  return
}

// -----

func.func @gated_delta_rule_lengths_rank(%q: tensor<?x?x2x16xf32>, %v: tensor<?x?x4x16xf32>,
                                         %g: tensor<?x?x4xf32>,
                                         %s: !lm.recurrent_state<[4, 16, 16], f32>,
                                         %n: tensor<?x?xi64>) {
  // expected-error @+1 {{expected 'lengths' of rank 1, got rank 2}}
  %0:2 = lm.gated_delta_rule %q, %q, %v, %g, %g, %s lengths %n {scale = 0.25 : f64}
      : (tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4xf32>,
         tensor<?x?x4xf32>, !lm.recurrent_state<[4, 16, 16], f32>, tensor<?x?xi64>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
  return
}

// -----

func.func @selective_scan_lengths_type(%x: tensor<?x?x4x16xf32>, %dt: tensor<?x?x4xf32>, %h: tensor<4xf32>,
                                       %b: tensor<?x?x1x8xf32>, %s: !lm.recurrent_state<[4, 16, 8], f32>,
                                       %n: tensor<?xf32>) {
  // expected-error @+1 {{operand #8 must be ranked tensor of signless integer values}}
  %0:2 = lm.selective_scan %x, %dt, %h, %h, %b, %b, %h, %s lengths %n
      : (tensor<?x?x4x16xf32>, tensor<?x?x4xf32>, tensor<4xf32>, tensor<4xf32>,
         tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<4xf32>, !lm.recurrent_state<[4, 16, 8], f32>,
         tensor<?xf32>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
  return
}

// -----

func.func @selective_scan_input(%x: tensor<?x?x64xf32>, %dt: tensor<?x?x4xf32>, %h: tensor<4xf32>,
                                %b: tensor<?x?x1x8xf32>, %s: !lm.recurrent_state<[4, 16, 8], f32>) {
  // expected-error @+1 {{expected 'input' of rank 4, got rank 3}}
  %0:2 = lm.selective_scan %x, %dt, %h, %h, %b, %b, %h, %s
      : (tensor<?x?x64xf32>, tensor<?x?x4xf32>, tensor<4xf32>, tensor<4xf32>,
         tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<4xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
      -> (tensor<?x?x64xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
  return
}

// -----

func.func @selective_scan_b_rank(%x: tensor<?x?x4x16xf32>, %dt: tensor<?x?x4xf32>, %h: tensor<4xf32>,
                                 %b: tensor<?x?x8xf32>, %s: !lm.recurrent_state<[4, 16, 8], f32>) {
  // expected-error @+1 {{expected 'b' of rank 4, got rank 3}}
  %0:2 = lm.selective_scan %x, %dt, %h, %h, %b, %b, %h, %s
      : (tensor<?x?x4x16xf32>, tensor<?x?x4xf32>, tensor<4xf32>, tensor<4xf32>,
         tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<4xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
  return
}

// -----

func.func @selective_scan_groups(%x: tensor<?x?x4x16xf32>, %dt: tensor<?x?x4xf32>, %h: tensor<4xf32>,
                                 %b: tensor<?x?x3x8xf32>, %s: !lm.recurrent_state<[4, 16, 8], f32>) {
  // expected-error @+1 {{expected the 4 heads to be a multiple of the 3 groups}}
  %0:2 = lm.selective_scan %x, %dt, %h, %h, %b, %b, %h, %s
      : (tensor<?x?x4x16xf32>, tensor<?x?x4xf32>, tensor<4xf32>, tensor<4xf32>,
         tensor<?x?x3x8xf32>, tensor<?x?x3x8xf32>, tensor<4xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
  return
}

// -----

func.func @selective_scan_dt(%x: tensor<?x?x4x16xf32>, %dt: tensor<?x?x2xf32>, %h: tensor<4xf32>,
                             %b: tensor<?x?x1x8xf32>, %s: !lm.recurrent_state<[4, 16, 8], f32>) {
  // expected-error @+1 {{expected 'dt' dimension 2 (heads) to be 4, got 2}}
  %0:2 = lm.selective_scan %x, %dt, %h, %h, %b, %b, %h, %s
      : (tensor<?x?x4x16xf32>, tensor<?x?x2xf32>, tensor<4xf32>, tensor<4xf32>,
         tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<4xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
  return
}

// -----

func.func @selective_scan_b_batch(%x: tensor<2x?x4x16xf32>, %dt: tensor<2x?x4xf32>, %h: tensor<4xf32>,
                                  %b: tensor<1x?x1x8xf32>, %s: !lm.recurrent_state<[4, 16, 8], f32>) {
  // expected-error @+1 {{expected 'b' dimension 0 (batch) to be 2, got 1}}
  %0:2 = lm.selective_scan %x, %dt, %h, %h, %b, %b, %h, %s
      : (tensor<2x?x4x16xf32>, tensor<2x?x4xf32>, tensor<4xf32>, tensor<4xf32>,
         tensor<1x?x1x8xf32>, tensor<1x?x1x8xf32>, tensor<4xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
      -> (tensor<2x?x4x16xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
  return
}

// -----

func.func @selective_scan_c(%x: tensor<?x?x4x16xf32>, %dt: tensor<?x?x4xf32>, %h: tensor<4xf32>,
                            %b: tensor<?x?x1x8xf32>, %c: tensor<?x?x1x16xf32>,
                            %s: !lm.recurrent_state<[4, 16, 8], f32>) {
  // expected-error @+1 {{expected 'c' dimension 3 (state dim) to be 8, got 16}}
  %0:2 = lm.selective_scan %x, %dt, %h, %h, %b, %c, %h, %s
      : (tensor<?x?x4x16xf32>, tensor<?x?x4xf32>, tensor<4xf32>, tensor<4xf32>,
         tensor<?x?x1x8xf32>, tensor<?x?x1x16xf32>, tensor<4xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
  return
}

// -----

func.func @selective_scan_dt_bias(%x: tensor<?x?x4x16xf32>, %dt: tensor<?x?x4xf32>, %h: tensor<4xf32>,
                                  %dtb: tensor<8xf32>, %b: tensor<?x?x1x8xf32>,
                                  %s: !lm.recurrent_state<[4, 16, 8], f32>) {
  // expected-error @+1 {{expected 'dt_bias' dimension 0 (heads) to be 4, got 8}}
  %0:2 = lm.selective_scan %x, %dt, %dtb, %h, %b, %b, %h, %s
      : (tensor<?x?x4x16xf32>, tensor<?x?x4xf32>, tensor<8xf32>, tensor<4xf32>,
         tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<4xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
  return
}

// -----

func.func @selective_scan_a_log(%x: tensor<?x?x4x16xf32>, %dt: tensor<?x?x4xf32>, %h: tensor<4xf32>,
                                %alog: tensor<1x4xf32>, %b: tensor<?x?x1x8xf32>,
                                %s: !lm.recurrent_state<[4, 16, 8], f32>) {
  // expected-error @+1 {{expected 'a_log' of rank 1, got rank 2}}
  %0:2 = lm.selective_scan %x, %dt, %h, %alog, %b, %b, %h, %s
      : (tensor<?x?x4x16xf32>, tensor<?x?x4xf32>, tensor<4xf32>, tensor<1x4xf32>,
         tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<4xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
  return
}

// -----

func.func @selective_scan_d(%x: tensor<?x?x4x16xf32>, %dt: tensor<?x?x4xf32>, %h: tensor<4xf32>,
                            %d: tensor<16xf32>, %b: tensor<?x?x1x8xf32>,
                            %s: !lm.recurrent_state<[4, 16, 8], f32>) {
  // expected-error @+1 {{expected 'd' dimension 0 (heads) to be 4, got 16}}
  %0:2 = lm.selective_scan %x, %dt, %h, %h, %b, %b, %d, %s
      : (tensor<?x?x4x16xf32>, tensor<?x?x4xf32>, tensor<4xf32>, tensor<4xf32>,
         tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<16xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
  return
}

// -----

func.func @selective_scan_state(%x: tensor<?x?x4x16xf32>, %dt: tensor<?x?x4xf32>, %h: tensor<4xf32>,
                                %b: tensor<?x?x1x8xf32>, %s: !lm.recurrent_state<[4, 8, 16], f32>) {
  // expected-error @+1 {{expected 'state' of shape [4, 16, 8] (heads, head dim, state dim), got [4, 8, 16]}}
  %0:2 = lm.selective_scan %x, %dt, %h, %h, %b, %b, %h, %s
      : (tensor<?x?x4x16xf32>, tensor<?x?x4xf32>, tensor<4xf32>, tensor<4xf32>,
         tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<4xf32>, !lm.recurrent_state<[4, 8, 16], f32>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 8, 16], f32>)
  return
}

// -----

func.func @selective_scan_updated(%x: tensor<?x?x4x16xf32>, %dt: tensor<?x?x4xf32>, %h: tensor<4xf32>,
                                  %b: tensor<?x?x1x8xf32>, %s: !lm.recurrent_state<[4, 16, 8], f32>) {
  // expected-error @+1 {{expected the updated state to have type '!lm.recurrent_state<[4, 16, 8], f32>', got '!lm.recurrent_state<[4, 16, 8, 1], f32>'}}
  %0:2 = lm.selective_scan %x, %dt, %h, %h, %b, %b, %h, %s
      : (tensor<?x?x4x16xf32>, tensor<?x?x4xf32>, tensor<4xf32>, tensor<4xf32>,
         tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<4xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
      -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 8, 1], f32>)
  return
}

// -----

func.func @selective_scan_result(%x: tensor<?x?x4x16xf32>, %dt: tensor<?x?x4xf32>, %h: tensor<4xf32>,
                                 %b: tensor<?x?x1x8xf32>, %s: !lm.recurrent_state<[4, 16, 8], f32>) {
  // expected-error @+1 {{expected the result to have the input type 'tensor<?x?x4x16xf32>'}}
  %0:2 = lm.selective_scan %x, %dt, %h, %h, %b, %b, %h, %s
      : (tensor<?x?x4x16xf32>, tensor<?x?x4xf32>, tensor<4xf32>, tensor<4xf32>,
         tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<4xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
      -> (tensor<?x?x64xf32>, !lm.recurrent_state<[4, 16, 8], f32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// Hyper-connections
//===----------------------------------------------------------------------===//

func.func @hc_collapse_rank(%X: tensor<?x?x256xf32>, %fn: tensor<4x256xf32>, %base: tensor<4xf32>,
                            %scale: tensor<1xf32>) {
  // expected-error @+1 {{expected 'streams' of rank 4, got rank 3}}
  %0 = lm.hc_collapse %X, %fn, %base, %scale {epsilon = 1.0e-06 : f64, hc_epsilon = 1.0e-06 : f64}
     : (tensor<?x?x256xf32>, tensor<4x256xf32>, tensor<4xf32>, tensor<1xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @hc_collapse_fn(%X: tensor<?x?x4x64xf32>, %fn: tensor<4x64xf32>, %base: tensor<4xf32>,
                          %scale: tensor<1xf32>) {
  // expected-error @+1 {{expected 'fn' dimension 1 (streams x hidden) to be 256, got 64}}
  %0 = lm.hc_collapse %X, %fn, %base, %scale {epsilon = 1.0e-06 : f64, hc_epsilon = 1.0e-06 : f64}
     : (tensor<?x?x4x64xf32>, tensor<4x64xf32>, tensor<4xf32>, tensor<1xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @hc_collapse_base(%X: tensor<?x?x4x64xf32>, %fn: tensor<4x256xf32>, %base: tensor<24xf32>,
                            %scale: tensor<1xf32>) {
  // expected-error @+1 {{expected 'base' dimension 0 (mix rows) to be 4, got 24}}
  %0 = lm.hc_collapse %X, %fn, %base, %scale {epsilon = 1.0e-06 : f64, hc_epsilon = 1.0e-06 : f64}
     : (tensor<?x?x4x64xf32>, tensor<4x256xf32>, tensor<24xf32>, tensor<1xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @hc_collapse_scale(%X: tensor<?x?x4x64xf32>, %fn: tensor<4x256xf32>, %base: tensor<4xf32>,
                             %scale: tensor<3xf32>) {
  // expected-error @+1 {{expected 'scale' dimension 0 (scales) to be 1, got 3}}
  %0 = lm.hc_collapse %X, %fn, %base, %scale {epsilon = 1.0e-06 : f64, hc_epsilon = 1.0e-06 : f64}
     : (tensor<?x?x4x64xf32>, tensor<4x256xf32>, tensor<4xf32>, tensor<3xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @hc_collapse_result(%X: tensor<?x?x4x64xf32>, %fn: tensor<4x256xf32>, %base: tensor<4xf32>,
                              %scale: tensor<1xf32>) {
  // expected-error @+1 {{expected 'result' dimension 2 (hidden) to be 64, got 256}}
  %0 = lm.hc_collapse %X, %fn, %base, %scale {epsilon = 1.0e-06 : f64, hc_epsilon = 1.0e-06 : f64}
     : (tensor<?x?x4x64xf32>, tensor<4x256xf32>, tensor<4xf32>, tensor<1xf32>) -> tensor<?x?x256xf32>
  return
}

// -----

func.func @hc_expand_input(%h: tensor<?x?x4x64xf32>) {
  // expected-error @+1 {{expected 'input' of rank 3, got rank 4}}
  %0 = lm.hc_expand %h : tensor<?x?x4x64xf32> -> tensor<?x?x4x64xf32>
  return
}

// -----

func.func @hc_expand_result_rank(%h: tensor<?x?x64xf32>) {
  // expected-error @+1 {{expected 'result' of rank 4, got rank 3}}
  %0 = lm.hc_expand %h : tensor<?x?x64xf32> -> tensor<?x?x256xf32>
  return
}

// -----

func.func @hc_expand_streams(%h: tensor<?x?x64xf32>) {
  // expected-error @+1 {{expected a static, positive stream count, got 'tensor<?x?x?x64xf32>'}}
  %0 = lm.hc_expand %h : tensor<?x?x64xf32> -> tensor<?x?x?x64xf32>
  return
}

// -----

func.func @hc_expand_hidden(%h: tensor<?x?x64xf32>) {
  // expected-error @+1 {{expected 'result' dimension 3 (hidden) to be 64, got 16}}
  %0 = lm.hc_expand %h : tensor<?x?x64xf32> -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @hc_post_rank(%X: tensor<?x?x256xf32>, %out: tensor<?x?x64xf32>, %post: tensor<?x?x4xf32>,
                        %comb: tensor<?x?x4x4xf32>) {
  // expected-error @+1 {{expected 'streams' of rank 4, got rank 3}}
  %0 = lm.hc_post %X, %out, %post, %comb
     : (tensor<?x?x256xf32>, tensor<?x?x64xf32>, tensor<?x?x4xf32>, tensor<?x?x4x4xf32>)
     -> tensor<?x?x256xf32>
  return
}

// -----

func.func @hc_post_output(%X: tensor<?x?x4x64xf32>, %out: tensor<?x?x256xf32>, %post: tensor<?x?x4xf32>,
                          %comb: tensor<?x?x4x4xf32>) {
  // expected-error @+1 {{expected 'output' dimension 2 (hidden) to be 64, got 256}}
  %0 = lm.hc_post %X, %out, %post, %comb
     : (tensor<?x?x4x64xf32>, tensor<?x?x256xf32>, tensor<?x?x4xf32>, tensor<?x?x4x4xf32>)
     -> tensor<?x?x4x64xf32>
  return
}

// -----

func.func @hc_post_post(%X: tensor<?x?x4x64xf32>, %out: tensor<?x?x64xf32>, %post: tensor<?x?x2xf32>,
                        %comb: tensor<?x?x4x4xf32>) {
  // expected-error @+1 {{expected 'post' dimension 2 (streams) to be 4, got 2}}
  %0 = lm.hc_post %X, %out, %post, %comb
     : (tensor<?x?x4x64xf32>, tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x4x4xf32>)
     -> tensor<?x?x4x64xf32>
  return
}

// -----

func.func @hc_post_comb(%X: tensor<?x?x4x64xf32>, %out: tensor<?x?x64xf32>, %post: tensor<?x?x4xf32>,
                        %comb: tensor<?x?x4x2xf32>) {
  // expected-error @+1 {{expected 'comb' dimension 3 (streams) to be 4, got 2}}
  %0 = lm.hc_post %X, %out, %post, %comb
     : (tensor<?x?x4x64xf32>, tensor<?x?x64xf32>, tensor<?x?x4xf32>, tensor<?x?x4x2xf32>)
     -> tensor<?x?x4x64xf32>
  return
}

// -----

func.func @hc_post_result(%X: tensor<?x?x4x64xf32>, %out: tensor<?x?x64xf32>, %post: tensor<?x?x4xf32>,
                          %comb: tensor<?x?x4x4xf32>) {
  // expected-error @+1 {{expected the result to have the streams type 'tensor<?x?x4x64xf32>'}}
  %0 = lm.hc_post %X, %out, %post, %comb
     : (tensor<?x?x4x64xf32>, tensor<?x?x64xf32>, tensor<?x?x4xf32>, tensor<?x?x4x4xf32>)
     -> tensor<?x?x64xf32>
  return
}

// -----

func.func @hc_pre_rank(%X: tensor<?x?x256xf32>, %fn: tensor<24x256xf32>, %base: tensor<24xf32>,
                       %scale: tensor<3xf32>) {
  // expected-error @+1 {{expected 'streams' of rank 4, got rank 3}}
  %0:3 = lm.hc_pre %X, %fn, %base, %scale {epsilon = 1.0e-06 : f64, hc_epsilon = 1.0e-06 : f64}
      : (tensor<?x?x256xf32>, tensor<24x256xf32>, tensor<24xf32>, tensor<3xf32>)
      -> (tensor<?x?x64xf32>, tensor<?x?x4xf32>, tensor<?x?x4x4xf32>)
  return
}

// -----

func.func @hc_pre_fn(%X: tensor<?x?x4x64xf32>, %fn: tensor<16x256xf32>, %base: tensor<24xf32>,
                     %scale: tensor<3xf32>) {
  // expected-error @+1 {{expected 'fn' dimension 0 (mix rows) to be 24, got 16}}
  %0:3 = lm.hc_pre %X, %fn, %base, %scale {epsilon = 1.0e-06 : f64, hc_epsilon = 1.0e-06 : f64}
      : (tensor<?x?x4x64xf32>, tensor<16x256xf32>, tensor<24xf32>, tensor<3xf32>)
      -> (tensor<?x?x64xf32>, tensor<?x?x4xf32>, tensor<?x?x4x4xf32>)
  return
}

// -----

func.func @hc_pre_scale(%X: tensor<?x?x4x64xf32>, %fn: tensor<24x256xf32>, %base: tensor<24xf32>,
                        %scale: tensor<1xf32>) {
  // expected-error @+1 {{expected 'scale' dimension 0 (scales) to be 3, got 1}}
  %0:3 = lm.hc_pre %X, %fn, %base, %scale {epsilon = 1.0e-06 : f64, hc_epsilon = 1.0e-06 : f64}
      : (tensor<?x?x4x64xf32>, tensor<24x256xf32>, tensor<24xf32>, tensor<1xf32>)
      -> (tensor<?x?x64xf32>, tensor<?x?x4xf32>, tensor<?x?x4x4xf32>)
  return
}

// -----

func.func @hc_pre_input(%X: tensor<?x?x4x64xf32>, %fn: tensor<24x256xf32>, %base: tensor<24xf32>,
                        %scale: tensor<3xf32>) {
  // expected-error @+1 {{expected 'input' dimension 2 (hidden) to be 64, got 256}}
  %0:3 = lm.hc_pre %X, %fn, %base, %scale {epsilon = 1.0e-06 : f64, hc_epsilon = 1.0e-06 : f64}
      : (tensor<?x?x4x64xf32>, tensor<24x256xf32>, tensor<24xf32>, tensor<3xf32>)
      -> (tensor<?x?x256xf32>, tensor<?x?x4xf32>, tensor<?x?x4x4xf32>)
  return
}

// -----

func.func @hc_pre_post(%X: tensor<?x?x4x64xf32>, %fn: tensor<24x256xf32>, %base: tensor<24xf32>,
                       %scale: tensor<3xf32>) {
  // expected-error @+1 {{expected 'post' of rank 3, got rank 4}}
  %0:3 = lm.hc_pre %X, %fn, %base, %scale {epsilon = 1.0e-06 : f64, hc_epsilon = 1.0e-06 : f64}
      : (tensor<?x?x4x64xf32>, tensor<24x256xf32>, tensor<24xf32>, tensor<3xf32>)
      -> (tensor<?x?x64xf32>, tensor<?x?x4x1xf32>, tensor<?x?x4x4xf32>)
  return
}

// -----

func.func @hc_pre_comb_logits(%X: tensor<?x?x4x64xf32>, %fn: tensor<24x256xf32>, %base: tensor<24xf32>,
                              %scale: tensor<3xf32>) {
  // expected-error @+1 {{expected 'comb_logits' dimension 2 (streams) to be 4, got 16}}
  %0:3 = lm.hc_pre %X, %fn, %base, %scale {epsilon = 1.0e-06 : f64, hc_epsilon = 1.0e-06 : f64}
      : (tensor<?x?x4x64xf32>, tensor<24x256xf32>, tensor<24xf32>, tensor<3xf32>)
      -> (tensor<?x?x64xf32>, tensor<?x?x4xf32>, tensor<?x?x16x1xf32>)
  return
}

// -----

func.func @sinkhorn_square(%x: tensor<?x?x4x2xf32>) {
  // expected-error @+1 {{expected square matrices in the last two dimensions, got 'tensor<?x?x4x2xf32>'}}
  %0 = lm.sinkhorn %x {epsilon = 1.0e-06 : f64, iterations = 20 : i64} : tensor<?x?x4x2xf32>
  return
}

// -----

func.func @sinkhorn_rank(%x: tensor<4xf32>) {
  // expected-error @+1 {{expected square matrices in the last two dimensions, got 'tensor<4xf32>'}}
  %0 = lm.sinkhorn %x {epsilon = 1.0e-06 : f64, iterations = 20 : i64} : tensor<4xf32>
  return
}

// -----

func.func @sinkhorn_iterations(%x: tensor<?x?x4x4xf32>) {
  // expected-error @+1 {{expected a positive 'iterations', got 0}}
  %0 = lm.sinkhorn %x {epsilon = 1.0e-06 : f64, iterations = 0 : i64} : tensor<?x?x4x4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

func.func @hash_router_ids(%ids: tensor<?xi64>, %t: tensor<256x2xi64>, %l: tensor<?x?x8xf32>) {
  // expected-error @+1 {{expected 'ids' of rank 2, got rank 1}}
  %0:2 = lm.hash_router %ids, %t, %l {scoring = #lm.scoring<sqrtsoftplus>}
      : (tensor<?xi64>, tensor<256x2xi64>, tensor<?x?x8xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  return
}

// -----

func.func @hash_router_table(%ids: tensor<?x?xi64>, %t: tensor<256xi64>, %l: tensor<?x?x8xf32>) {
  // expected-error @+1 {{expected 'table' of rank 2, got rank 1}}
  %0:2 = lm.hash_router %ids, %t, %l {scoring = #lm.scoring<sqrtsoftplus>}
      : (tensor<?x?xi64>, tensor<256xi64>, tensor<?x?x8xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  return
}

// -----

func.func @hash_router_logits(%ids: tensor<?x?xi64>, %t: tensor<256x2xi64>, %l: tensor<?x8xf32>) {
  // expected-error @+1 {{expected 'logits' of rank 3, got rank 2}}
  %0:2 = lm.hash_router %ids, %t, %l {scoring = #lm.scoring<sqrtsoftplus>}
      : (tensor<?x?xi64>, tensor<256x2xi64>, tensor<?x8xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  return
}

// -----

func.func @hash_router_tokens(%ids: tensor<?x4xi64>, %t: tensor<256x2xi64>, %l: tensor<?x5x8xf32>) {
  // expected-error @+1 {{expected 'logits' dimension 1 (tokens) to be 4, got 5}}
  %0:2 = lm.hash_router %ids, %t, %l {scoring = #lm.scoring<sqrtsoftplus>}
      : (tensor<?x4xi64>, tensor<256x2xi64>, tensor<?x5x8xf32>) -> (tensor<?x5x2xf32>, tensor<?x5x2xi64>)
  return
}

// -----

func.func @hash_router_weights(%ids: tensor<?x?xi64>, %t: tensor<256x2xi64>, %l: tensor<?x?x8xf32>) {
  // expected-error @+1 {{expected 'weights' dimension 2 (top_k) to be 2, got 4}}
  %0:2 = lm.hash_router %ids, %t, %l {scoring = #lm.scoring<sqrtsoftplus>}
      : (tensor<?x?xi64>, tensor<256x2xi64>, tensor<?x?x8xf32>) -> (tensor<?x?x4xf32>, tensor<?x?x2xi64>)
  return
}

// -----

func.func @hash_router_indices(%ids: tensor<?x?xi64>, %t: tensor<256x2xi64>, %l: tensor<?x?x8xf32>) {
  // expected-error @+1 {{expected 'indices' of rank 3, got rank 2}}
  %0:2 = lm.hash_router %ids, %t, %l {scoring = #lm.scoring<sqrtsoftplus>}
      : (tensor<?x?xi64>, tensor<256x2xi64>, tensor<?x?x8xf32>) -> (tensor<?x?x2xf32>, tensor<?x2xi64>)
  return
}

// -----

func.func @moe_experts_input(%x: tensor<?x64xf32>, %w: tensor<?x?x2xf32>, %i: tensor<?x?x2xi64>,
                             %gu: tensor<8x64x64xf32>, %dn: tensor<8x64x32xf32>) {
  // expected-error @+1 {{expected 'input' of rank 3, got rank 2}}
  %0 = lm.moe_experts %x, %w, %i, %gu, %dn {activation = #lm.expert<swiglu>}
     : (tensor<?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>,
        tensor<8x64x32xf32>) -> tensor<?x64xf32>
  return
}

// -----

func.func @moe_experts_gate_up_rank(%x: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>, %i: tensor<?x?x2xi64>,
                                    %gu: tensor<512x64xf32>, %dn: tensor<8x64x32xf32>) {
  // expected-error @+1 {{expected 'gate_up' of rank 3, got rank 2}}
  %0 = lm.moe_experts %x, %w, %i, %gu, %dn {activation = #lm.expert<swiglu>}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<512x64xf32>,
        tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @moe_experts_down_rank(%x: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>, %i: tensor<?x?x2xi64>,
                                 %gu: tensor<8x64x64xf32>, %dn: tensor<512x32xf32>) {
  // expected-error @+1 {{expected 'down' of rank 3, got rank 2}}
  %0 = lm.moe_experts %x, %w, %i, %gu, %dn {activation = #lm.expert<swiglu>}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>,
        tensor<512x32xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @moe_experts_weights_rank(%x: tensor<?x?x64xf32>, %w: tensor<?x2xf32>, %i: tensor<?x?x2xi64>,
                                    %gu: tensor<8x64x64xf32>, %dn: tensor<8x64x32xf32>) {
  // expected-error @+1 {{expected 'weights' of rank 3, got rank 2}}
  %0 = lm.moe_experts %x, %w, %i, %gu, %dn {activation = #lm.expert<swiglu>}
     : (tensor<?x?x64xf32>, tensor<?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>,
        tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @moe_experts_indices(%x: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>, %i: tensor<?x?x4xi64>,
                               %gu: tensor<8x64x64xf32>, %dn: tensor<8x64x32xf32>) {
  // expected-error @+1 {{expected 'indices' dimension 2 (top_k) to be 2, got 4}}
  %0 = lm.moe_experts %x, %w, %i, %gu, %dn {activation = #lm.expert<swiglu>}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x4xi64>, tensor<8x64x64xf32>,
        tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @moe_experts_gate_up_rows(%x: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>, %i: tensor<?x?x2xi64>,
                                    %gu: tensor<8x32x64xf32>, %dn: tensor<8x64x32xf32>) {
  // expected-error @+1 {{expected 'gate_up' dimension 1 (2 x expert width) to be 64, got 32}}
  %0 = lm.moe_experts %x, %w, %i, %gu, %dn {activation = #lm.expert<swiglu>}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x32x64xf32>,
        tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @moe_experts_relu2_rows(%x: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>, %i: tensor<?x?x2xi64>,
                                  %gu: tensor<8x64x64xf32>, %dn: tensor<8x64x32xf32>) {
  // expected-error @+1 {{expected 'gate_up' dimension 1 (expert width) to be 32, got 64}}
  %0 = lm.moe_experts %x, %w, %i, %gu, %dn {activation = #lm.expert<relu2>}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>,
        tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @moe_experts_hidden(%x: tensor<?x?x32xf32>, %w: tensor<?x?x2xf32>, %i: tensor<?x?x2xi64>,
                              %gu: tensor<8x64x64xf32>, %dn: tensor<8x64x32xf32>) {
  // expected-error @+1 {{expected 'gate_up' dimension 2 (hidden) to be 32, got 64}}
  %0 = lm.moe_experts %x, %w, %i, %gu, %dn {activation = #lm.expert<swiglu>}
     : (tensor<?x?x32xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>,
        tensor<8x64x32xf32>) -> tensor<?x?x32xf32>
  return
}

// -----

func.func @moe_experts_down(%x: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>, %i: tensor<?x?x2xi64>,
                            %gu: tensor<8x64x64xf32>, %dn: tensor<4x64x32xf32>) {
  // expected-error @+1 {{expected 'down' dimension 0 (experts) to be 8, got 4}}
  %0 = lm.moe_experts %x, %w, %i, %gu, %dn {activation = #lm.expert<swiglu>}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>,
        tensor<4x64x32xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @moe_experts_top_k(%x: tensor<?x?x64xf32>, %w: tensor<?x?x4xf32>, %i: tensor<?x?x4xi64>,
                             %gu: tensor<2x64x64xf32>, %dn: tensor<2x64x32xf32>) {
  // expected-error @+1 {{expected top_k (4) to be at most the 2 experts}}
  %0 = lm.moe_experts %x, %w, %i, %gu, %dn {activation = #lm.expert<swiglu>}
     : (tensor<?x?x64xf32>, tensor<?x?x4xf32>, tensor<?x?x4xi64>, tensor<2x64x64xf32>,
        tensor<2x64x32xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @moe_experts_one_bias(%x: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>, %i: tensor<?x?x2xi64>,
                                %gu: tensor<8x64x64xf32>, %dn: tensor<8x64x32xf32>,
                                %gub: tensor<8x64xf32>) {
  // expected-error @+1 {{expected both 'gate_up_bias' and 'down_bias' or neither}}
  %0 = "lm.moe_experts"(%x, %w, %i, %gu, %dn, %gub)
         <{activation = #lm.expert<swiglu>, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 0>}>
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>,
        tensor<8x64x32xf32>, tensor<8x64xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @moe_experts_gate_up_bias(%x: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>, %i: tensor<?x?x2xi64>,
                                    %gu: tensor<8x64x64xf32>, %dn: tensor<8x64x32xf32>,
                                    %gub: tensor<8x32xf32>, %dnb: tensor<8x64xf32>) {
  // expected-error @+1 {{expected 'gate_up_bias' dimension 1 (gate_up rows) to be 64, got 32}}
  %0 = lm.moe_experts %x, %w, %i, %gu, %dn biases %gub, %dnb {activation = #lm.expert<swiglu>}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>,
        tensor<8x64x32xf32>, tensor<8x32xf32>, tensor<8x64xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @moe_experts_down_bias(%x: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>, %i: tensor<?x?x2xi64>,
                                 %gu: tensor<8x64x64xf32>, %dn: tensor<8x64x32xf32>,
                                 %gub: tensor<8x64xf32>, %dnb: tensor<4x64xf32>) {
  // expected-error @+1 {{expected 'down_bias' dimension 0 (experts) to be 8, got 4}}
  %0 = lm.moe_experts %x, %w, %i, %gu, %dn biases %gub, %dnb {activation = #lm.expert<swiglu>}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>,
        tensor<8x64x32xf32>, tensor<8x64xf32>, tensor<4x64xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @moe_experts_missing_limit(%x: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>, %i: tensor<?x?x2xi64>,
                                     %gu: tensor<8x64x64xf32>, %dn: tensor<8x64x32xf32>) {
  // expected-error @+1 {{expected a 'limit' for gpt_oss_swiglu}}
  %0 = lm.moe_experts %x, %w, %i, %gu, %dn {activation = #lm.expert<gpt_oss_swiglu>, alpha = 1.702 : f64}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>,
        tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @moe_experts_missing_alpha(%x: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>, %i: tensor<?x?x2xi64>,
                                     %gu: tensor<8x64x64xf32>, %dn: tensor<8x64x32xf32>) {
  // expected-error @+1 {{expected an 'alpha' for gpt_oss_swiglu}}
  %0 = lm.moe_experts %x, %w, %i, %gu, %dn {activation = #lm.expert<gpt_oss_swiglu>, limit = 7.0 : f64}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>,
        tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @moe_experts_unexpected_limit(%x: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>, %i: tensor<?x?x2xi64>,
                                        %up: tensor<8x32x64xf32>, %dn: tensor<8x64x32xf32>) {
  // expected-error @+1 {{unexpected 'limit' for relu2}}
  %0 = lm.moe_experts %x, %w, %i, %up, %dn {activation = #lm.expert<relu2>, limit = 7.0 : f64}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x32x64xf32>,
        tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @moe_experts_limit(%x: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>, %i: tensor<?x?x2xi64>,
                             %gu: tensor<8x64x64xf32>, %dn: tensor<8x64x32xf32>) {
  // expected-error @+1 {{expected a positive 'limit', got 0.000000e+00}}
  %0 = lm.moe_experts %x, %w, %i, %gu, %dn {activation = #lm.expert<clamped_swiglu>, limit = 0.0 : f64}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>,
        tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @moe_experts_interleaved(%x: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>, %i: tensor<?x?x2xi64>,
                                   %up: tensor<8x32x64xf32>, %dn: tensor<8x64x32xf32>) {
  // expected-error @+1 {{expected a gated activation with 'interleaved_gate_up'}}
  %0 = lm.moe_experts %x, %w, %i, %up, %dn {activation = #lm.expert<relu2>, interleaved_gate_up}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x32x64xf32>,
        tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @moe_experts_result(%x: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>, %i: tensor<?x?x2xi64>,
                              %gu: tensor<8x64x64xf32>, %dn: tensor<8x64x32xf32>) {
  // expected-error @+1 {{expected the result to have the input type 'tensor<?x?x64xf32>'}}
  %0 = lm.moe_experts %x, %w, %i, %gu, %dn {activation = #lm.expert<swiglu>}
     : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>,
        tensor<8x64x32xf32>) -> tensor<?x?x64xbf16>
  return
}

// -----

func.func @router_rank(%l: tensor<?x8xf32>) {
  // expected-error @+1 {{expected 'logits' of rank 3, got rank 2}}
  %0:2 = lm.router %l {scoring = #lm.scoring<softmax>, top_k = 2 : i64}
      : (tensor<?x8xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  return
}

// -----

func.func @router_dynamic_experts(%l: tensor<?x?x?xf32>) {
  // expected-error @+1 {{expected a static expert count in 'logits'}}
  %0:2 = lm.router %l {scoring = #lm.scoring<softmax>, top_k = 2 : i64}
      : (tensor<?x?x?xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  return
}

// -----

func.func @router_bias(%l: tensor<?x?x8xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{expected 'correction_bias' dimension 0 (experts) to be 8, got 4}}
  %0:2 = lm.router %l bias %b {scoring = #lm.scoring<sigmoid>, top_k = 2 : i64}
      : (tensor<?x?x8xf32>, tensor<4xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  return
}

// -----

func.func @router_top_k(%l: tensor<?x?x8xf32>) {
  // expected-error @+1 {{expected 'top_k' in [1, 8], got 9}}
  %0:2 = lm.router %l {scoring = #lm.scoring<softmax>, top_k = 9 : i64}
      : (tensor<?x?x8xf32>) -> (tensor<?x?x9xf32>, tensor<?x?x9xi64>)
  return
}

// -----

func.func @router_top_k_zero(%l: tensor<?x?x8xf32>) {
  // expected-error @+1 {{expected 'top_k' in [1, 8], got 0}}
  %0:2 = lm.router %l {scoring = #lm.scoring<softmax>, top_k = 0 : i64}
      : (tensor<?x?x8xf32>) -> (tensor<?x?x0xf32>, tensor<?x?x0xi64>)
  return
}

// -----

func.func @router_groups(%l: tensor<?x?x8xf32>) {
  // expected-error @+1 {{expected 'num_groups' to divide the 8 experts, got 3}}
  %0:2 = lm.router %l {num_groups = 3 : i64, scoring = #lm.scoring<sigmoid>, top_k = 2 : i64}
      : (tensor<?x?x8xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  return
}

// -----

func.func @router_kept_groups(%l: tensor<?x?x8xf32>) {
  // expected-error @+1 {{expected 'top_k_groups' in [1, 4], got 5}}
  %0:2 = lm.router %l {num_groups = 4 : i64, scoring = #lm.scoring<sigmoid>, top_k = 2 : i64,
                       top_k_groups = 5 : i64}
      : (tensor<?x?x8xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  return
}

// -----

func.func @router_top_k_fit(%l: tensor<?x?x8xf32>) {
  // expected-error @+1 {{expected 'top_k' (3) to fit in the 2 experts of the kept groups}}
  %0:2 = lm.router %l {num_groups = 4 : i64, scoring = #lm.scoring<sigmoid>, top_k = 3 : i64,
                       top_k_groups = 1 : i64}
      : (tensor<?x?x8xf32>) -> (tensor<?x?x3xf32>, tensor<?x?x3xi64>)
  return
}

// -----

func.func @router_weights(%l: tensor<?x?x8xf32>) {
  // expected-error @+1 {{expected 'weights' dimension 2 (top_k) to be 2, got 8}}
  %0:2 = lm.router %l {scoring = #lm.scoring<softmax>, top_k = 2 : i64}
      : (tensor<?x?x8xf32>) -> (tensor<?x?x8xf32>, tensor<?x?x2xi64>)
  return
}

// -----

func.func @router_indices(%l: tensor<2x?x8xf32>) {
  // expected-error @+1 {{expected 'indices' dimension 0 (batch) to be 2, got 1}}
  %0:2 = lm.router %l {scoring = #lm.scoring<softmax>, top_k = 2 : i64}
      : (tensor<2x?x8xf32>) -> (tensor<2x?x2xf32>, tensor<1x?x2xi64>)
  return
}

// -----

func.func @router_scoring(%l: tensor<?x?x8xf32>) {
  // expected-error @+1 {{requires attribute 'scoring'}}
  %0:2 = lm.router %l {top_k = 2 : i64}
      : (tensor<?x?x8xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  return
}

// -----

// Attribute getters of I64Attr are unsigned; negative values must still be
// rejected.
func.func @attention_negative_window(%q: tensor<?x?x4x16xf32>, %k: tensor<?x?x2x16xf32>, %v: tensor<?x?x2x16xf32>, %pos: tensor<?x?xi64>) {
  // expected-error @+1 {{expected a positive 'sliding_window', got -3}}
  %0 = lm.attention %q, %k, %v, %pos {scale = 2.5e-01 : f64, sliding_window = -3 : i64} : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>) -> tensor<?x?x4x16xf32>
  return
}

// -----

func.func @sinkhorn_negative_iterations(%x: tensor<?x?x4x4xf32>) {
  // expected-error @+1 {{expected a positive 'iterations', got -1}}
  %0 = lm.sinkhorn %x {epsilon = 1.0e-06 : f64, iterations = -1 : i64} : tensor<?x?x4x4xf32>
  return
}

// -----

func.func @rope_positions_mismatch(%x: tensor<2x?x4x16xf32>, %pos: tensor<3x?xi64>) {
  // expected-error @+1 {{expected 'positions' 'tensor<3x?xi64>' to match the batch and tokens of 'tensor<2x?x4x16xf32>'}}
  %0 = lm.rope %x, %pos {rotary_dim = 16 : i64, theta = 1.0e+04 : f64} : tensor<2x?x4x16xf32>, tensor<3x?xi64>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Kernel choices
//===----------------------------------------------------------------------===//

func.func @flash_mla_decode_tokens(%qn: memref<?x2x4x16xf32>, %qr: memref<?x1x4x8xf32>, %lat: memref<?x?x32xf32>, %kr: memref<?x?x8xf32>, %kvb: memref<128x32xbf16>, %pos: memref<?x1xi64>, %ql: memref<?x1x4x32xf32>, %p: memref<?x4x?x34xf32>, %o: memref<?x1x4x16xf32>) {
  // expected-error @+1 {{expected 'query_nope' dimension 1 (tokens) to be 1, got 2}}
  lm.flash_mla_decode %qn, %qr, %lat, %kr, %kvb, %pos query_latent(%ql) partials(%p) outs(%o)
      {scale = 0.125 : f64, warps = 8 : i64, head_tile = 2 : i64}
      : (memref<?x2x4x16xf32>, memref<?x1x4x8xf32>, memref<?x?x32xf32>, memref<?x?x8xf32>, memref<128x32xbf16>, memref<?x1xi64>, memref<?x1x4x32xf32>, memref<?x4x?x34xf32>, memref<?x1x4x16xf32>) -> ()
  return
}

// -----

func.func @flash_mla_decode_dynamic(%qn: memref<?x1x4x?xf32>, %qr: memref<?x1x4x8xf32>, %lat: memref<?x?x32xf32>, %kr: memref<?x?x8xf32>, %kvb: memref<128x32xbf16>, %pos: memref<?x1xi64>, %ql: memref<?x1x4x32xf32>, %p: memref<?x4x?x34xf32>, %o: memref<?x1x4x16xf32>) {
  // expected-error @+1 {{expected static, positive heads, nope, latent, rope and value dims}}
  lm.flash_mla_decode %qn, %qr, %lat, %kr, %kvb, %pos query_latent(%ql) partials(%p) outs(%o)
      {scale = 0.125 : f64, warps = 8 : i64, head_tile = 2 : i64}
      : (memref<?x1x4x?xf32>, memref<?x1x4x8xf32>, memref<?x?x32xf32>, memref<?x?x8xf32>, memref<128x32xbf16>, memref<?x1xi64>, memref<?x1x4x32xf32>, memref<?x4x?x34xf32>, memref<?x1x4x16xf32>) -> ()
  return
}

// -----

func.func @flash_mla_decode_latent(%qn: memref<?x1x4x16xf32>, %qr: memref<?x1x4x8xf32>, %lat: memref<?x?x32xf32>, %kr: memref<?x?x8xf32>, %kvb: memref<128x32xbf16>, %pos: memref<?x1xi64>, %ql: memref<?x1x4x16xf32>, %p: memref<?x4x?x34xf32>, %o: memref<?x1x4x16xf32>) {
  // expected-error @+1 {{expected 'query_latent' dimension 3 (latent dim) to be 32, got 16}}
  lm.flash_mla_decode %qn, %qr, %lat, %kr, %kvb, %pos query_latent(%ql) partials(%p) outs(%o)
      {scale = 0.125 : f64, warps = 8 : i64, head_tile = 2 : i64}
      : (memref<?x1x4x16xf32>, memref<?x1x4x8xf32>, memref<?x?x32xf32>, memref<?x?x8xf32>, memref<128x32xbf16>, memref<?x1xi64>, memref<?x1x4x16xf32>, memref<?x4x?x34xf32>, memref<?x1x4x16xf32>) -> ()
  return
}

// -----

func.func @flash_mla_decode_rope(%qn: memref<?x1x4x16xf32>, %qr: memref<?x1x4x4xf32>, %lat: memref<?x?x32xf32>, %kr: memref<?x?x8xf32>, %kvb: memref<128x32xbf16>, %pos: memref<?x1xi64>, %ql: memref<?x1x4x32xf32>, %p: memref<?x4x?x34xf32>, %o: memref<?x1x4x16xf32>) {
  // expected-error @+1 {{expected 'query_rope' dimension 3 (rope dim) to be 8, got 4}}
  lm.flash_mla_decode %qn, %qr, %lat, %kr, %kvb, %pos query_latent(%ql) partials(%p) outs(%o)
      {scale = 0.125 : f64, warps = 8 : i64, head_tile = 2 : i64}
      : (memref<?x1x4x16xf32>, memref<?x1x4x4xf32>, memref<?x?x32xf32>, memref<?x?x8xf32>, memref<128x32xbf16>, memref<?x1xi64>, memref<?x1x4x32xf32>, memref<?x4x?x34xf32>, memref<?x1x4x16xf32>) -> ()
  return
}

// -----

func.func @flash_mla_decode_kv_b(%qn: memref<?x1x4x16xf32>, %qr: memref<?x1x4x8xf32>, %lat: memref<?x?x32xf32>, %kr: memref<?x?x8xf32>, %kvb: memref<96x32xbf16>, %pos: memref<?x1xi64>, %ql: memref<?x1x4x32xf32>, %p: memref<?x4x?x34xf32>, %o: memref<?x1x4x16xf32>) {
  // expected-error @+1 {{expected 'kv_b' dimension 0 (heads x (nope + value dims)) to be 128, got 96}}
  lm.flash_mla_decode %qn, %qr, %lat, %kr, %kvb, %pos query_latent(%ql) partials(%p) outs(%o)
      {scale = 0.125 : f64, warps = 8 : i64, head_tile = 2 : i64}
      : (memref<?x1x4x16xf32>, memref<?x1x4x8xf32>, memref<?x?x32xf32>, memref<?x?x8xf32>, memref<96x32xbf16>, memref<?x1xi64>, memref<?x1x4x32xf32>, memref<?x4x?x34xf32>, memref<?x1x4x16xf32>) -> ()
  return
}

// -----

func.func @flash_mla_decode_kv_b_dynamic(%qn: memref<?x1x4x16xf32>, %qr: memref<?x1x4x8xf32>, %lat: memref<?x?x32xf32>, %kr: memref<?x?x8xf32>, %kvb: memref<?x32xbf16>, %pos: memref<?x1xi64>, %ql: memref<?x1x4x32xf32>, %p: memref<?x4x?x34xf32>, %o: memref<?x1x4x16xf32>) {
  // expected-error @+1 {{expected a static 'kv_b', got}}
  lm.flash_mla_decode %qn, %qr, %lat, %kr, %kvb, %pos query_latent(%ql) partials(%p) outs(%o)
      {scale = 0.125 : f64, warps = 8 : i64, head_tile = 2 : i64}
      : (memref<?x1x4x16xf32>, memref<?x1x4x8xf32>, memref<?x?x32xf32>, memref<?x?x8xf32>, memref<?x32xbf16>, memref<?x1xi64>, memref<?x1x4x32xf32>, memref<?x4x?x34xf32>, memref<?x1x4x16xf32>) -> ()
  return
}

// -----

func.func @flash_mla_decode_partials(%qn: memref<?x1x4x16xf32>, %qr: memref<?x1x4x8xf32>, %lat: memref<?x?x32xf32>, %kr: memref<?x?x8xf32>, %kvb: memref<128x32xbf16>, %pos: memref<?x1xi64>, %ql: memref<?x1x4x32xf32>, %p: memref<?x4x?x32xf32>, %o: memref<?x1x4x16xf32>) {
  // expected-error @+1 {{expected 'partials' dimension 3 (latent dim + 2) to be 34, got 32}}
  lm.flash_mla_decode %qn, %qr, %lat, %kr, %kvb, %pos query_latent(%ql) partials(%p) outs(%o)
      {scale = 0.125 : f64, warps = 8 : i64, head_tile = 2 : i64}
      : (memref<?x1x4x16xf32>, memref<?x1x4x8xf32>, memref<?x?x32xf32>, memref<?x?x8xf32>, memref<128x32xbf16>, memref<?x1xi64>, memref<?x1x4x32xf32>, memref<?x4x?x32xf32>, memref<?x1x4x16xf32>) -> ()
  return
}

// -----

func.func @flash_mla_decode_tile(%qn: memref<?x1x4x16xf32>, %qr: memref<?x1x4x8xf32>, %lat: memref<?x?x32xf32>, %kr: memref<?x?x8xf32>, %kvb: memref<128x32xbf16>, %pos: memref<?x1xi64>, %ql: memref<?x1x4x32xf32>, %p: memref<?x4x?x34xf32>, %o: memref<?x1x4x16xf32>) {
  // expected-error @+1 {{expected 'head_tile' to divide the 4 heads, got 3}}
  lm.flash_mla_decode %qn, %qr, %lat, %kr, %kvb, %pos query_latent(%ql) partials(%p) outs(%o)
      {scale = 0.125 : f64, warps = 8 : i64, head_tile = 3 : i64}
      : (memref<?x1x4x16xf32>, memref<?x1x4x8xf32>, memref<?x?x32xf32>, memref<?x?x8xf32>, memref<128x32xbf16>, memref<?x1xi64>, memref<?x1x4x32xf32>, memref<?x4x?x34xf32>, memref<?x1x4x16xf32>) -> ()
  return
}

// -----

func.func @flash_mla_decode_init(%qn: memref<?x1x4x16xf32>, %qr: memref<?x1x4x8xf32>, %lat: memref<?x?x32xf32>, %kr: memref<?x?x8xf32>, %kvb: memref<128x32xbf16>, %pos: memref<?x1xi64>, %ql: memref<?x1x4x32xf32>, %p: memref<?x4x?x34xf32>, %o: memref<?x1x4x16xf16>) {
  // expected-error @+1 {{expected an f32 or bf16 'init', got 'memref<?x1x4x16xf16>'}}
  lm.flash_mla_decode %qn, %qr, %lat, %kr, %kvb, %pos query_latent(%ql) partials(%p) outs(%o)
      {scale = 0.125 : f64, warps = 8 : i64, head_tile = 2 : i64}
      : (memref<?x1x4x16xf32>, memref<?x1x4x8xf32>, memref<?x?x32xf32>, memref<?x?x8xf32>, memref<128x32xbf16>, memref<?x1xi64>, memref<?x1x4x32xf32>, memref<?x4x?x34xf32>, memref<?x1x4x16xf16>) -> ()
  return
}

// -----

func.func @flash_decode_forms(%q: tensor<?x1x4x64xf32>, %k: tensor<?x?x2x64xf32>,
                              %v: tensor<?x?x2x32xf32>, %pos: tensor<?x1xi64>,
                              %p: tensor<?x4x?x34xf32>, %o: memref<?x1x4x32xf32>) {
  // expected-error @+1 {{expected all operands to be tensors or all to be memrefs}}
  %r = lm.flash_decode %q, %k, %v, %pos partials(%p) outs(%o) {scale = 0.125 : f64, warps = 8 : i64}
     : (tensor<?x1x4x64xf32>, tensor<?x?x2x64xf32>, tensor<?x?x2x32xf32>, tensor<?x1xi64>,
        tensor<?x4x?x34xf32>, memref<?x1x4x32xf32>) -> tensor<?x4x?x34xf32>
  return
}

// -----

func.func @flash_decode_tokens(%q: memref<?x2x4x64xf32>, %k: memref<?x?x2x64xf32>,
                               %v: memref<?x?x2x32xf32>, %pos: memref<?x2xi64>,
                               %p: memref<?x4x?x34xf32>, %o: memref<?x2x4x32xf32>) {
  // expected-error @+1 {{expected 'query' dimension 1 (tokens) to be 1, got 2}}
  lm.flash_decode %q, %k, %v, %pos partials(%p) outs(%o) {scale = 0.125 : f64, warps = 8 : i64}
     : (memref<?x2x4x64xf32>, memref<?x?x2x64xf32>, memref<?x?x2x32xf32>, memref<?x2xi64>,
        memref<?x4x?x34xf32>, memref<?x2x4x32xf32>) -> ()
  return
}

// -----

func.func @flash_decode_dynamic_heads(%q: memref<?x1x?x64xf32>, %k: memref<?x?x2x64xf32>,
                                      %v: memref<?x?x2x32xf32>, %pos: memref<?x1xi64>,
                                      %p: memref<?x4x?x34xf32>, %o: memref<?x1x4x32xf32>) {
  // expected-error @+1 {{expected static, positive heads, kv heads and head dims}}
  lm.flash_decode %q, %k, %v, %pos partials(%p) outs(%o) {scale = 0.125 : f64, warps = 8 : i64}
     : (memref<?x1x?x64xf32>, memref<?x?x2x64xf32>, memref<?x?x2x32xf32>, memref<?x1xi64>,
        memref<?x4x?x34xf32>, memref<?x1x4x32xf32>) -> ()
  return
}

// -----

func.func @flash_decode_group(%q: memref<?x1x3x64xf32>, %k: memref<?x?x2x64xf32>,
                              %v: memref<?x?x2x32xf32>, %pos: memref<?x1xi64>,
                              %p: memref<?x3x?x34xf32>, %o: memref<?x1x3x32xf32>) {
  // expected-error @+1 {{expected the 3 query heads to be a multiple of the 2 kv heads}}
  lm.flash_decode %q, %k, %v, %pos partials(%p) outs(%o) {scale = 0.125 : f64, warps = 8 : i64}
     : (memref<?x1x3x64xf32>, memref<?x?x2x64xf32>, memref<?x?x2x32xf32>, memref<?x1xi64>,
        memref<?x3x?x34xf32>, memref<?x1x3x32xf32>) -> ()
  return
}

// -----

func.func @flash_decode_partials(%q: memref<?x1x4x64xf32>, %k: memref<?x?x2x64xf32>,
                                 %v: memref<?x?x2x32xf32>, %pos: memref<?x1xi64>,
                                 %p: memref<?x4x?x32xf32>, %o: memref<?x1x4x32xf32>) {
  // expected-error @+1 {{expected 'partials' dimension 3 (value dim + 2) to be 34, got 32}}
  lm.flash_decode %q, %k, %v, %pos partials(%p) outs(%o) {scale = 0.125 : f64, warps = 8 : i64}
     : (memref<?x1x4x64xf32>, memref<?x?x2x64xf32>, memref<?x?x2x32xf32>, memref<?x1xi64>,
        memref<?x4x?x32xf32>, memref<?x1x4x32xf32>) -> ()
  return
}

// -----

func.func @flash_decode_init_type(%q: memref<?x1x4x64xf32>, %k: memref<?x?x2x64xf32>,
                                  %v: memref<?x?x2x32xf32>, %pos: memref<?x1xi64>,
                                  %p: memref<?x4x?x34xf32>, %o: memref<?x1x4x32xf16>) {
  // expected-error @+1 {{expected an f32 or bf16 'init', got 'memref<?x1x4x32xf16>'}}
  lm.flash_decode %q, %k, %v, %pos partials(%p) outs(%o) {scale = 0.125 : f64, warps = 8 : i64}
     : (memref<?x1x4x64xf32>, memref<?x?x2x64xf32>, memref<?x?x2x32xf32>, memref<?x1xi64>,
        memref<?x4x?x34xf32>, memref<?x1x4x32xf16>) -> ()
  return
}

// -----

func.func @flash_decode_sinks(%q: memref<?x1x4x64xf32>, %k: memref<?x?x2x64xf32>,
                              %v: memref<?x?x2x32xf32>, %pos: memref<?x1xi64>, %s: memref<2xf32>,
                              %p: memref<?x4x?x34xf32>, %o: memref<?x1x4x32xf32>) {
  // expected-error @+1 {{expected 'sinks' dimension 0 (heads) to be 4, got 2}}
  lm.flash_decode %q, %k, %v, %pos sinks %s partials(%p) outs(%o) {scale = 0.125 : f64, warps = 8 : i64}
     : (memref<?x1x4x64xf32>, memref<?x?x2x64xf32>, memref<?x?x2x32xf32>, memref<?x1xi64>,
        memref<2xf32>, memref<?x4x?x34xf32>, memref<?x1x4x32xf32>) -> ()
  return
}

// -----

func.func @flash_decode_warps(%q: memref<?x1x4x64xf32>, %k: memref<?x?x2x64xf32>,
                              %v: memref<?x?x2x32xf32>, %pos: memref<?x1xi64>,
                              %p: memref<?x4x?x34xf32>, %o: memref<?x1x4x32xf32>) {
  // expected-error @+1 {{expected 1 to 32 'warps', got 0}}
  lm.flash_decode %q, %k, %v, %pos partials(%p) outs(%o) {scale = 0.125 : f64, warps = 0 : i64}
     : (memref<?x1x4x64xf32>, memref<?x?x2x64xf32>, memref<?x?x2x32xf32>, memref<?x1xi64>,
        memref<?x4x?x34xf32>, memref<?x1x4x32xf32>) -> ()
  return
}

// -----

func.func @flash_decode_window(%q: memref<?x1x4x64xf32>, %k: memref<?x?x2x64xf32>,
                               %v: memref<?x?x2x32xf32>, %pos: memref<?x1xi64>,
                               %p: memref<?x4x?x34xf32>, %o: memref<?x1x4x32xf32>) {
  // expected-error @+1 {{expected at most one of 'sliding_window' and 'chunk_size'}}
  lm.flash_decode %q, %k, %v, %pos partials(%p) outs(%o) {chunk_size = 4 : i64, scale = 0.125 : f64, sliding_window = 4 : i64, warps = 8 : i64}
     : (memref<?x1x4x64xf32>, memref<?x?x2x64xf32>, memref<?x?x2x32xf32>, memref<?x1xi64>,
        memref<?x4x?x34xf32>, memref<?x1x4x32xf32>) -> ()
  return
}

// -----

func.func @flash_attention_forms(%q: tensor<?x?x4x64xf32>, %k: tensor<?x?x2x64xf32>,
                                 %v: tensor<?x?x2x32xf32>, %pos: tensor<?x?xi64>,
                                 %o: memref<?x?x4x32xf32>) {
  // expected-error @+1 {{expected all operands to be tensors or all to be memrefs}}
  %r = lm.flash_attention %q, %k, %v, %pos outs(%o) {scale = 0.125 : f64, warps = 4 : i64}
     : (tensor<?x?x4x64xf32>, tensor<?x?x2x64xf32>, tensor<?x?x2x32xf32>, tensor<?x?xi64>,
        memref<?x?x4x32xf32>) -> tensor<?x?x4x32xf32>
  return
}

// -----

func.func @flash_attention_init_tokens(%q: memref<?x8x4x64xf32>, %k: memref<?x?x2x64xf32>,
                                       %v: memref<?x?x2x32xf32>, %pos: memref<?x8xi64>,
                                       %o: memref<?x4x4x32xf32>) {
  // expected-error @+1 {{expected 'init' dimension 1 (tokens) to be 8, got 4}}
  lm.flash_attention %q, %k, %v, %pos outs(%o) {scale = 0.125 : f64, warps = 4 : i64}
     : (memref<?x8x4x64xf32>, memref<?x?x2x64xf32>, memref<?x?x2x32xf32>, memref<?x8xi64>,
        memref<?x4x4x32xf32>) -> ()
  return
}

// -----

func.func @flash_attention_init_type(%q: memref<?x?x4x64xf32>, %k: memref<?x?x2x64xf32>,
                                     %v: memref<?x?x2x32xf32>, %pos: memref<?x?xi64>,
                                     %o: memref<?x?x4x32xf16>) {
  // expected-error @+1 {{expected an f32 or bf16 'init', got 'memref<?x?x4x32xf16>'}}
  lm.flash_attention %q, %k, %v, %pos outs(%o) {scale = 0.125 : f64, warps = 4 : i64}
     : (memref<?x?x4x64xf32>, memref<?x?x2x64xf32>, memref<?x?x2x32xf32>, memref<?x?xi64>,
        memref<?x?x4x32xf16>) -> ()
  return
}

// -----

func.func @flash_attention_dynamic_dims(%q: memref<?x?x4x?xf32>, %k: memref<?x?x2x?xf32>,
                                        %v: memref<?x?x2x32xf32>, %pos: memref<?x?xi64>,
                                        %o: memref<?x?x4x32xf32>) {
  // expected-error @+1 {{expected static, positive heads, kv heads and head dims}}
  lm.flash_attention %q, %k, %v, %pos outs(%o) {scale = 0.125 : f64, warps = 4 : i64}
     : (memref<?x?x4x?xf32>, memref<?x?x2x?xf32>, memref<?x?x2x32xf32>, memref<?x?xi64>,
        memref<?x?x4x32xf32>) -> ()
  return
}

// -----

func.func @flash_attention_warps(%q: memref<?x?x4x64xf32>, %k: memref<?x?x2x64xf32>,
                                 %v: memref<?x?x2x32xf32>, %pos: memref<?x?xi64>,
                                 %o: memref<?x?x4x32xf32>) {
  // expected-error @+1 {{expected 1 to 32 'warps', got 33}}
  lm.flash_attention %q, %k, %v, %pos outs(%o) {scale = 0.125 : f64, warps = 33 : i64}
     : (memref<?x?x4x64xf32>, memref<?x?x2x64xf32>, memref<?x?x2x32xf32>, memref<?x?xi64>,
        memref<?x?x4x32xf32>) -> ()
  return
}

// -----

func.func @sl_forms(%x: tensor<?x1x64xf32>, %w: tensor<32x64xf32>, %o: memref<?x1x32xf32>) {
  // expected-error @+1 {{expected all operands to be tensors or all to be memrefs}}
  %r = lm.streamed_linear %x, %w outs(%o) {row_group = 4 : i64, warps = 8 : i64}
     : (tensor<?x1x64xf32>, tensor<32x64xf32>, memref<?x1x32xf32>) -> tensor<?x1x32xf32>
  return
}

// -----

func.func @sl_rank(%x: memref<64xf32>, %w: memref<32x64xf32>, %o: memref<32xf32>) {
  // expected-error @+1 {{expected 'input' of rank >= 2, got 'memref<64xf32>'}}
  lm.streamed_linear %x, %w outs(%o) {row_group = 4 : i64, warps = 8 : i64}
     : (memref<64xf32>, memref<32x64xf32>, memref<32xf32>) -> ()
  return
}

// -----

func.func @sl_dynamic_weight(%x: memref<?x1x64xf32>, %w: memref<?x64xf32>, %o: memref<?x1x32xf32>) {
  // expected-error @+1 {{expected a static 'weight', got 'memref<?x64xf32>'}}
  lm.streamed_linear %x, %w outs(%o) {row_group = 4 : i64, warps = 8 : i64}
     : (memref<?x1x64xf32>, memref<?x64xf32>, memref<?x1x32xf32>) -> ()
  return
}

// -----

func.func @sl_in_features(%x: memref<?x1x48xf32>, %w: memref<32x64xf32>, %o: memref<?x1x32xf32>) {
  // expected-error @+1 {{expected 'input' dimension 2 (in features) to be 64, got 48}}
  lm.streamed_linear %x, %w outs(%o) {row_group = 4 : i64, warps = 8 : i64}
     : (memref<?x1x48xf32>, memref<32x64xf32>, memref<?x1x32xf32>) -> ()
  return
}

// -----

func.func @sl_out_features(%x: memref<?x1x64xf32>, %w: memref<32x64xf32>, %o: memref<?x1x16xf32>) {
  // expected-error @+1 {{expected 'init' dimension 2 (out features) to be 32, got 16}}
  lm.streamed_linear %x, %w outs(%o) {row_group = 4 : i64, warps = 8 : i64}
     : (memref<?x1x64xf32>, memref<32x64xf32>, memref<?x1x16xf32>) -> ()
  return
}

// -----

func.func @sl_leading(%x: memref<2x1x64xf32>, %w: memref<32x64xf32>, %o: memref<3x1x32xf32>) {
  // expected-error @+1 {{expected 'init' dimension 0 (leading) to be 2, got 3}}
  lm.streamed_linear %x, %w outs(%o) {row_group = 4 : i64, warps = 8 : i64}
     : (memref<2x1x64xf32>, memref<32x64xf32>, memref<3x1x32xf32>) -> ()
  return
}

// -----

func.func @sl_weight_type(%x: memref<?x1x64xf32>, %w: memref<32x64xf16>, %o: memref<?x1x32xf32>) {
  // expected-error @+1 {{expected an f32 or bf16 'weight', got 'memref<32x64xf16>'}}
  lm.streamed_linear %x, %w outs(%o) {row_group = 4 : i64, warps = 8 : i64}
     : (memref<?x1x64xf32>, memref<32x64xf16>, memref<?x1x32xf32>) -> ()
  return
}

// -----

func.func @sl_init_type(%x: memref<?x1x64xf32>, %w: memref<32x64xf32>, %o: memref<?x1x32xf16>) {
  // expected-error @+1 {{expected an f32 or bf16 'init', got 'memref<?x1x32xf16>'}}
  lm.streamed_linear %x, %w outs(%o) {row_group = 4 : i64, warps = 8 : i64}
     : (memref<?x1x64xf32>, memref<32x64xf32>, memref<?x1x32xf16>) -> ()
  return
}

// -----

func.func @sl_bias(%x: memref<?x1x64xf32>, %w: memref<32x64xf32>, %b: memref<16xf32>, %o: memref<?x1x32xf32>) {
  // expected-error @+1 {{expected 'bias' dimension 0 (out features) to be 32, got 16}}
  lm.streamed_linear %x, %w bias %b outs(%o) {row_group = 4 : i64, warps = 8 : i64}
     : (memref<?x1x64xf32>, memref<32x64xf32>, memref<16xf32>, memref<?x1x32xf32>) -> ()
  return
}

// -----

func.func @sl_norm_weight(%x: memref<?x1x64xf32>, %w: memref<32x64xf32>, %n: memref<32xf32>, %o: memref<?x1x32xf32>) {
  // expected-error @+1 {{expected 'norm_weight' dimension 0 (in features) to be 64, got 32}}
  lm.streamed_linear %x, %w norm(%n) outs(%o) {epsilon = 1.0e-06 : f64, row_group = 4 : i64, warps = 8 : i64}
     : (memref<?x1x64xf32>, memref<32x64xf32>, memref<32xf32>, memref<?x1x32xf32>) -> ()
  return
}

// -----

func.func @sl_epsilon(%x: memref<?x1x64xf32>, %w: memref<32x64xf32>, %n: memref<64xf32>, %o: memref<?x1x32xf32>) {
  // expected-error @+1 {{expected 'epsilon' exactly when there is a 'norm_weight'}}
  lm.streamed_linear %x, %w norm(%n) outs(%o) {row_group = 4 : i64, warps = 8 : i64}
     : (memref<?x1x64xf32>, memref<32x64xf32>, memref<64xf32>, memref<?x1x32xf32>) -> ()
  return
}

// -----

func.func @sl_negative_epsilon(%x: memref<?x1x64xf32>, %w: memref<32x64xf32>, %n: memref<64xf32>, %o: memref<?x1x32xf32>) {
  // expected-error @+1 {{expected a non-negative 'epsilon', got -1}}
  lm.streamed_linear %x, %w norm(%n) outs(%o) {epsilon = -1.0 : f64, row_group = 4 : i64, warps = 8 : i64}
     : (memref<?x1x64xf32>, memref<32x64xf32>, memref<64xf32>, memref<?x1x32xf32>) -> ()
  return
}

// -----

func.func @sl_offset(%x: memref<?x1x64xf32>, %w: memref<32x64xf32>, %o: memref<?x1x32xf32>) {
  // expected-error @+1 {{expected no 'weight_offset' without a 'norm_weight'}}
  lm.streamed_linear %x, %w outs(%o) {weight_offset = 1.0 : f64, row_group = 4 : i64, warps = 8 : i64}
     : (memref<?x1x64xf32>, memref<32x64xf32>, memref<?x1x32xf32>) -> ()
  return
}

// -----

func.func @sl_warps(%x: memref<?x1x64xf32>, %w: memref<32x64xf32>, %o: memref<?x1x32xf32>) {
  // expected-error @+1 {{expected 1 to 32 'warps', got 33}}
  lm.streamed_linear %x, %w outs(%o) {row_group = 4 : i64, warps = 33 : i64}
     : (memref<?x1x64xf32>, memref<32x64xf32>, memref<?x1x32xf32>) -> ()
  return
}

// -----

func.func @sl_row_group(%x: memref<?x1x64xf32>, %w: memref<32x64xf32>, %o: memref<?x1x32xf32>) {
  // expected-error @+1 {{expected 1 to 'warps' (4) 'row_group', got 8}}
  lm.streamed_linear %x, %w outs(%o) {row_group = 8 : i64, warps = 4 : i64}
     : (memref<?x1x64xf32>, memref<32x64xf32>, memref<?x1x32xf32>) -> ()
  return
}

// -----

func.func @sl_up_type(%x: memref<?x1x64xf32>, %w: memref<32x64xf32>, %u: memref<32x64xbf16>, %o: memref<?x1x32xf32>) {
  // expected-error @+1 {{expected 'up_weight' of the weight's type 'memref<32x64xf32>', got 'memref<32x64xbf16>'}}
  lm.streamed_linear %x, %w up(%u) outs(%o) {glu = #lm.glu<swiglu>, row_group = 4 : i64, warps = 8 : i64}
     : (memref<?x1x64xf32>, memref<32x64xf32>, memref<32x64xbf16>, memref<?x1x32xf32>) -> ()
  return
}

// -----

func.func @sl_up_bias(%x: memref<?x1x64xf32>, %w: memref<32x64xf32>, %b: memref<32xf32>, %o: memref<?x1x32xf32>) {
  // expected-error @+1 {{expected no 'up_bias' without an 'up_weight'}}
  lm.streamed_linear %x, %w up_bias %b outs(%o) {row_group = 4 : i64, warps = 8 : i64}
     : (memref<?x1x64xf32>, memref<32x64xf32>, memref<32xf32>, memref<?x1x32xf32>) -> ()
  return
}

// -----

func.func @sl_up_bias_shape(%x: memref<?x1x64xf32>, %w: memref<32x64xf32>, %u: memref<32x64xf32>, %b: memref<64xf32>, %o: memref<?x1x32xf32>) {
  // expected-error @+1 {{expected 'up_bias' dimension 0 (out features) to be 32, got 64}}
  lm.streamed_linear %x, %w up(%u) up_bias %b outs(%o) {glu = #lm.glu<swiglu>, row_group = 4 : i64, warps = 8 : i64}
     : (memref<?x1x64xf32>, memref<32x64xf32>, memref<32x64xf32>, memref<64xf32>, memref<?x1x32xf32>) -> ()
  return
}

// -----

func.func @sl_glu_without_up(%x: memref<?x1x64xf32>, %w: memref<32x64xf32>, %o: memref<?x1x32xf32>) {
  // expected-error @+1 {{expected a 'glu' kind exactly when there is an 'up_weight'}}
  lm.streamed_linear %x, %w outs(%o) {glu = #lm.glu<swiglu>, row_group = 4 : i64, warps = 8 : i64}
     : (memref<?x1x64xf32>, memref<32x64xf32>, memref<?x1x32xf32>) -> ()
  return
}

// -----

func.func @sl_up_without_glu(%x: memref<?x1x64xf32>, %w: memref<32x64xf32>, %u: memref<32x64xf32>, %o: memref<?x1x32xf32>) {
  // expected-error @+1 {{expected a 'glu' kind exactly when there is an 'up_weight'}}
  lm.streamed_linear %x, %w up(%u) outs(%o) {row_group = 4 : i64, warps = 8 : i64}
     : (memref<?x1x64xf32>, memref<32x64xf32>, memref<32x64xf32>, memref<?x1x32xf32>) -> ()
  return
}

// -----

func.func @sl_glu_limit(%x: memref<?x1x64xf32>, %w: memref<32x64xf32>, %u: memref<32x64xf32>, %o: memref<?x1x32xf32>) {
  // expected-error @+1 {{expected a 'limit' for gpt_oss_swiglu}}
  lm.streamed_linear %x, %w up(%u) outs(%o) {glu = #lm.glu<gpt_oss_swiglu>, alpha = 1.702 : f64, row_group = 4 : i64, warps = 8 : i64}
     : (memref<?x1x64xf32>, memref<32x64xf32>, memref<32x64xf32>, memref<?x1x32xf32>) -> ()
  return
}

// -----

func.func @sl_alpha_without_glu(%x: memref<?x1x64xf32>, %w: memref<32x64xf32>, %o: memref<?x1x32xf32>) {
  // expected-error @+1 {{expected no 'alpha' or 'limit' without a 'glu'}}
  lm.streamed_linear %x, %w outs(%o) {limit = 7.0 : f64, row_group = 4 : i64, warps = 8 : i64}
     : (memref<?x1x64xf32>, memref<32x64xf32>, memref<?x1x32xf32>) -> ()
  return
}

// -----

func.func @sl_accumulate_glu(%x: memref<?x1x64xf32>, %w: memref<32x64xf32>, %u: memref<32x64xf32>, %o: memref<?x1x32xf32>) {
  // expected-error @+1 {{expected 'accumulate' or an 'up_weight', not both}}
  lm.streamed_linear %x, %w up(%u) outs(%o) {accumulate, glu = #lm.glu<swiglu>, row_group = 4 : i64, warps = 8 : i64}
     : (memref<?x1x64xf32>, memref<32x64xf32>, memref<32x64xf32>, memref<?x1x32xf32>) -> ()
  return
}

// -----

func.func @sl_accumulate_bf16(%x: memref<?x1x64xf32>, %w: memref<32x64xf32>, %o: memref<?x1x32xbf16>) {
  // expected-error @+1 {{expected an f32 'init' to accumulate into, got 'memref<?x1x32xbf16>'}}
  lm.streamed_linear %x, %w outs(%o) {accumulate, row_group = 4 : i64, warps = 8 : i64}
     : (memref<?x1x64xf32>, memref<32x64xf32>, memref<?x1x32xbf16>) -> ()
  return
}

// -----

func.func @warp_router_forms(%l: tensor<?x1x8xf32>, %w: memref<?x1x2xf32>, %i: memref<?x1x2xi64>) {
  // expected-error @+1 {{expected all operands to be tensors or all to be memrefs}}
  lm.warp_router %l outs(%w, %i) {scoring = #lm.scoring<softmax>, top_k = 2 : i64}
      : (tensor<?x1x8xf32>, memref<?x1x2xf32>, memref<?x1x2xi64>) -> ()
  return
}

// -----

func.func @warp_router_experts(%l: memref<?x1x512xf32>, %w: memref<?x1x2xf32>, %i: memref<?x1x2xi64>) {
  // expected-error @+1 {{expected at most 256 experts (eight per lane), got 512}}
  lm.warp_router %l outs(%w, %i) {scoring = #lm.scoring<softmax>, top_k = 2 : i64}
      : (memref<?x1x512xf32>, memref<?x1x2xf32>, memref<?x1x2xi64>) -> ()
  return
}

// -----

func.func @warp_router_weights(%l: memref<?x1x8xf32>, %w: memref<?x1x2xf16>, %i: memref<?x1x2xi64>) {
  // expected-error @+1 {{expected f32 'weights_init', got 'memref<?x1x2xf16>'}}
  lm.warp_router %l outs(%w, %i) {scoring = #lm.scoring<softmax>, top_k = 2 : i64}
      : (memref<?x1x8xf32>, memref<?x1x2xf16>, memref<?x1x2xi64>) -> ()
  return
}

// -----

func.func @warp_router_indices(%l: memref<?x1x8xf32>, %w: memref<?x1x2xf32>, %i: memref<?x1x2xi32>) {
  // expected-error @+1 {{expected i64 'indices_init', got 'memref<?x1x2xi32>'}}
  lm.warp_router %l outs(%w, %i) {scoring = #lm.scoring<softmax>, top_k = 2 : i64}
      : (memref<?x1x8xf32>, memref<?x1x2xf32>, memref<?x1x2xi32>) -> ()
  return
}

// -----

// The router's own checks, shared with lm.router.
func.func @warp_router_groups(%l: memref<?x1x8xf32>, %w: memref<?x1x2xf32>, %i: memref<?x1x2xi64>) {
  // expected-error @+1 {{expected 'num_groups' to divide the 8 experts, got 3}}
  lm.warp_router %l outs(%w, %i) {scoring = #lm.scoring<sigmoid>, top_k = 2 : i64, num_groups = 3 : i64}
      : (memref<?x1x8xf32>, memref<?x1x2xf32>, memref<?x1x2xi64>) -> ()
  return
}

// -----

func.func @warp_router_shape(%l: memref<?x1x8xf32>, %w: memref<?x1x3xf32>, %i: memref<?x1x2xi64>) {
  // expected-error @+1 {{expected 'weights' dimension 2 (top_k) to be 2, got 3}}
  lm.warp_router %l outs(%w, %i) {scoring = #lm.scoring<sigmoid>, top_k = 2 : i64}
      : (memref<?x1x8xf32>, memref<?x1x3xf32>, memref<?x1x2xi64>) -> ()
  return
}

// -----

func.func @streamed_experts_hidden(%x: memref<?x1x64xf32>, %w: memref<?x1x2xf32>, %i: memref<?x1x2xi64>, %gu: memref<8x128x64xbf16>, %dn: memref<8x64x64xbf16>, %h: memref<?x1x2x32xbf16>, %o: memref<?x1x64xf32>) {
  // expected-error @+1 {{expected 'hidden' dimension 3 (expert width) to be 64, got 32}}
  lm.streamed_experts %x, %w, %i, %gu, %dn hidden(%h) outs(%o) {activation = #lm.expert<swiglu>, warps = 8 : i64}
      : (memref<?x1x64xf32>, memref<?x1x2xf32>, memref<?x1x2xi64>, memref<8x128x64xbf16>, memref<8x64x64xbf16>, memref<?x1x2x32xbf16>, memref<?x1x64xf32>) -> ()
  return
}

// -----

func.func @streamed_experts_hidden_type(%x: memref<?x1x64xf32>, %w: memref<?x1x2xf32>, %i: memref<?x1x2xi64>, %gu: memref<8x128x64xbf16>, %dn: memref<8x64x64xbf16>, %h: memref<?x1x2x64xf32>, %o: memref<?x1x64xf32>) {
  // expected-error @+1 {{expected 'hidden' of the weights' element type 'bf16', got 'memref<?x1x2x64xf32>'}}
  lm.streamed_experts %x, %w, %i, %gu, %dn hidden(%h) outs(%o) {activation = #lm.expert<swiglu>, warps = 8 : i64}
      : (memref<?x1x64xf32>, memref<?x1x2xf32>, memref<?x1x2xi64>, memref<8x128x64xbf16>, memref<8x64x64xbf16>, memref<?x1x2x64xf32>, memref<?x1x64xf32>) -> ()
  return
}

// -----

func.func @streamed_experts_mixed(%x: memref<?x1x64xf32>, %w: memref<?x1x2xf32>, %i: memref<?x1x2xi64>, %gu: memref<8x128x64xbf16>, %dn: memref<8x64x64xf32>, %h: memref<?x1x2x64xbf16>, %o: memref<?x1x64xf32>) {
  // expected-error @+1 {{expected 'gate_up' and 'down' both f32 or both bf16}}
  lm.streamed_experts %x, %w, %i, %gu, %dn hidden(%h) outs(%o) {activation = #lm.expert<swiglu>, warps = 8 : i64}
      : (memref<?x1x64xf32>, memref<?x1x2xf32>, memref<?x1x2xi64>, memref<8x128x64xbf16>, memref<8x64x64xf32>, memref<?x1x2x64xbf16>, memref<?x1x64xf32>) -> ()
  return
}

// -----

func.func @streamed_experts_gate_up(%x: memref<?x1x64xf32>, %w: memref<?x1x2xf32>, %i: memref<?x1x2xi64>, %gu: memref<8x64x64xbf16>, %dn: memref<8x64x64xbf16>, %h: memref<?x1x2x64xbf16>, %o: memref<?x1x64xf32>) {
  // expected-error @+1 {{expected 'gate_up' dimension 1 (2 x expert width) to be 128, got 64}}
  lm.streamed_experts %x, %w, %i, %gu, %dn hidden(%h) outs(%o) {activation = #lm.expert<swiglu>, warps = 8 : i64}
      : (memref<?x1x64xf32>, memref<?x1x2xf32>, memref<?x1x2xi64>, memref<8x64x64xbf16>, memref<8x64x64xbf16>, memref<?x1x2x64xbf16>, memref<?x1x64xf32>) -> ()
  return
}

// -----

func.func @streamed_experts_top_k(%x: memref<?x1x64xf32>, %w: memref<?x1x?xf32>, %i: memref<?x1x?xi64>, %gu: memref<8x128x64xbf16>, %dn: memref<8x64x64xbf16>, %h: memref<?x1x?x64xbf16>, %o: memref<?x1x64xf32>) {
  // expected-error @+1 {{expected a static top_k in 'indices'}}
  lm.streamed_experts %x, %w, %i, %gu, %dn hidden(%h) outs(%o) {activation = #lm.expert<swiglu>, warps = 8 : i64}
      : (memref<?x1x64xf32>, memref<?x1x?xf32>, memref<?x1x?xi64>, memref<8x128x64xbf16>, memref<8x64x64xbf16>, memref<?x1x?x64xbf16>, memref<?x1x64xf32>) -> ()
  return
}

// -----

func.func @streamed_experts_init(%x: memref<?x1x64xf32>, %w: memref<?x1x2xf32>, %i: memref<?x1x2xi64>, %gu: memref<8x128x64xbf16>, %dn: memref<8x64x64xbf16>, %h: memref<?x1x2x64xbf16>, %o: memref<?x1x64xbf16>) {
  // expected-error @+1 {{expected f32 'init', got 'memref<?x1x64xbf16>'}}
  lm.streamed_experts %x, %w, %i, %gu, %dn hidden(%h) outs(%o) {activation = #lm.expert<swiglu>, warps = 8 : i64}
      : (memref<?x1x64xf32>, memref<?x1x2xf32>, memref<?x1x2xi64>, memref<8x128x64xbf16>, memref<8x64x64xbf16>, memref<?x1x2x64xbf16>, memref<?x1x64xbf16>) -> ()
  return
}

// -----

func.func @streamed_experts_epsilon(%x: memref<?x1x64xf32>, %w: memref<?x1x2xf32>, %i: memref<?x1x2xi64>, %gu: memref<8x128x64xbf16>, %dn: memref<8x64x64xbf16>, %h: memref<?x1x2x64xbf16>, %o: memref<?x1x64xf32>) {
  // expected-error @+1 {{expected 'epsilon' exactly when there is a 'norm_weight'}}
  lm.streamed_experts %x, %w, %i, %gu, %dn hidden(%h) outs(%o) {activation = #lm.expert<swiglu>, epsilon = 1.0e-06 : f64, warps = 8 : i64}
      : (memref<?x1x64xf32>, memref<?x1x2xf32>, memref<?x1x2xi64>, memref<8x128x64xbf16>, memref<8x64x64xbf16>, memref<?x1x2x64xbf16>, memref<?x1x64xf32>) -> ()
  return
}

// -----

func.func @streamed_experts_warps(%x: memref<?x1x64xf32>, %w: memref<?x1x2xf32>, %i: memref<?x1x2xi64>, %gu: memref<8x128x64xbf16>, %dn: memref<8x64x64xbf16>, %h: memref<?x1x2x64xbf16>, %o: memref<?x1x64xf32>) {
  // expected-error @+1 {{expected 1 to 32 'warps', got 0}}
  lm.streamed_experts %x, %w, %i, %gu, %dn hidden(%h) outs(%o) {activation = #lm.expert<swiglu>, warps = 0 : i64}
      : (memref<?x1x64xf32>, memref<?x1x2xf32>, memref<?x1x2xi64>, memref<8x128x64xbf16>, memref<8x64x64xbf16>, memref<?x1x2x64xbf16>, memref<?x1x64xf32>) -> ()
  return
}

// -----

func.func @streamed_experts_forms(%x: memref<?x1x64xf32>, %w: memref<?x1x2xf32>, %i: memref<?x1x2xi64>, %gu: memref<8x128x64xbf16>, %dn: memref<8x64x64xbf16>, %h: tensor<?x1x2x64xbf16>, %o: tensor<?x1x64xf32>) {
  // expected-error @+1 {{expected all operands to be tensors or all to be memrefs}}
  %r:2 = lm.streamed_experts %x, %w, %i, %gu, %dn hidden(%h) outs(%o) {activation = #lm.expert<swiglu>, warps = 8 : i64}
      : (memref<?x1x64xf32>, memref<?x1x2xf32>, memref<?x1x2xi64>, memref<8x128x64xbf16>, memref<8x64x64xbf16>, tensor<?x1x2x64xbf16>, tensor<?x1x64xf32>) -> (tensor<?x1x2x64xbf16>, tensor<?x1x64xf32>)
  return
}


// -----

func.func @grouped_experts_f32(%x: memref<2x4x64xf32>, %w: memref<2x4x2xf32>, %i: memref<2x4x2xi64>, %gu: memref<8x64x64xf32>, %dn: memref<8x64x32xf32>, %order: memref<16xi32>, %tiles: memref<9x3xi32>, %slots: memref<2x4x2xi32>, %rows: memref<16x64xbf16>, %h: memref<16x32xbf16>, %y: memref<16x64xf32>, %o: memref<2x4x64xf32>) {
  // expected-error @+1 {{expected 'gate_up' and 'down' both bf16}}
  lm.grouped_experts %x, %w, %i, %gu, %dn schedule(%order, %tiles, %slots) rows(%rows) hidden(%h) expert_out(%y) outs(%o) {activation = #lm.expert<swiglu>}
      : (memref<2x4x64xf32>, memref<2x4x2xf32>, memref<2x4x2xi64>, memref<8x64x64xf32>, memref<8x64x32xf32>, memref<16xi32>, memref<9x3xi32>, memref<2x4x2xi32>, memref<16x64xbf16>, memref<16x32xbf16>, memref<16x64xf32>, memref<2x4x64xf32>) -> ()
  return
}

// -----

func.func @grouped_experts_tiles(%x: memref<2x4x64xf32>, %w: memref<2x4x2xf32>, %i: memref<2x4x2xi64>, %gu: memref<8x64x64xbf16>, %dn: memref<8x64x32xbf16>, %order: memref<16xi32>, %tiles: memref<8x3xi32>, %slots: memref<2x4x2xi32>, %rows: memref<16x64xbf16>, %h: memref<16x32xbf16>, %y: memref<16x64xf32>, %o: memref<2x4x64xf32>) {
  // expected-error @+1 {{expected at least 9 tiles (a partial one per expert chosen), got 8}}
  lm.grouped_experts %x, %w, %i, %gu, %dn schedule(%order, %tiles, %slots) rows(%rows) hidden(%h) expert_out(%y) outs(%o) {activation = #lm.expert<swiglu>}
      : (memref<2x4x64xf32>, memref<2x4x2xf32>, memref<2x4x2xi64>, memref<8x64x64xbf16>, memref<8x64x32xbf16>, memref<16xi32>, memref<8x3xi32>, memref<2x4x2xi32>, memref<16x64xbf16>, memref<16x32xbf16>, memref<16x64xf32>, memref<2x4x64xf32>) -> ()
  return
}

// -----

func.func @grouped_experts_rows(%x: memref<2x4x64xf32>, %w: memref<2x4x2xf32>, %i: memref<2x4x2xi64>, %gu: memref<8x64x64xbf16>, %dn: memref<8x64x32xbf16>, %order: memref<16xi32>, %tiles: memref<9x3xi32>, %slots: memref<2x4x2xi32>, %rows: memref<17x64xbf16>, %h: memref<16x32xbf16>, %y: memref<16x64xf32>, %o: memref<2x4x64xf32>) {
  // expected-error @+1 {{expected 'rows' dimension 0 (pairs) to be 16, got 17}}
  lm.grouped_experts %x, %w, %i, %gu, %dn schedule(%order, %tiles, %slots) rows(%rows) hidden(%h) expert_out(%y) outs(%o) {activation = #lm.expert<swiglu>}
      : (memref<2x4x64xf32>, memref<2x4x2xf32>, memref<2x4x2xi64>, memref<8x64x64xbf16>, memref<8x64x32xbf16>, memref<16xi32>, memref<9x3xi32>, memref<2x4x2xi32>, memref<17x64xbf16>, memref<16x32xbf16>, memref<16x64xf32>, memref<2x4x64xf32>) -> ()
  return
}

// -----

func.func @grouped_experts_slots(%x: memref<2x4x64xf32>, %w: memref<2x4x2xf32>, %i: memref<2x4x2xi64>, %gu: memref<8x64x64xbf16>, %dn: memref<8x64x32xbf16>, %order: memref<16xi32>, %tiles: memref<9x3xi32>, %slots: memref<2x4x2xi64>, %rows: memref<16x64xbf16>, %h: memref<16x32xbf16>, %y: memref<16x64xf32>, %o: memref<2x4x64xf32>) {
  // expected-error @+1 {{expected i32 'slots'}}
  lm.grouped_experts %x, %w, %i, %gu, %dn schedule(%order, %tiles, %slots) rows(%rows) hidden(%h) expert_out(%y) outs(%o) {activation = #lm.expert<swiglu>}
      : (memref<2x4x64xf32>, memref<2x4x2xf32>, memref<2x4x2xi64>, memref<8x64x64xbf16>, memref<8x64x32xbf16>, memref<16xi32>, memref<9x3xi32>, memref<2x4x2xi64>, memref<16x64xbf16>, memref<16x32xbf16>, memref<16x64xf32>, memref<2x4x64xf32>) -> ()
  return
}

// -----

func.func @grouped_experts_rows_type(%x: memref<2x4x64xf32>, %w: memref<2x4x2xf32>, %i: memref<2x4x2xi64>, %gu: memref<8x64x64xbf16>, %dn: memref<8x64x32xbf16>, %order: memref<16xi32>, %tiles: memref<9x3xi32>, %slots: memref<2x4x2xi32>, %rows: memref<16x64xf32>, %h: memref<16x32xbf16>, %y: memref<16x64xf32>, %o: memref<2x4x64xf32>) {
  // expected-error @+1 {{expected bf16 'rows'}}
  lm.grouped_experts %x, %w, %i, %gu, %dn schedule(%order, %tiles, %slots) rows(%rows) hidden(%h) expert_out(%y) outs(%o) {activation = #lm.expert<swiglu>}
      : (memref<2x4x64xf32>, memref<2x4x2xf32>, memref<2x4x2xi64>, memref<8x64x64xbf16>, memref<8x64x32xbf16>, memref<16xi32>, memref<9x3xi32>, memref<2x4x2xi32>, memref<16x64xf32>, memref<16x32xbf16>, memref<16x64xf32>, memref<2x4x64xf32>) -> ()
  return
}

// -----

func.func @grouped_experts_width(%x: memref<2x4x64xf32>, %w: memref<2x4x2xf32>, %i: memref<2x4x2xi64>, %gu: memref<8x24x64xbf16>, %dn: memref<8x64x12xbf16>, %order: memref<16xi32>, %tiles: memref<9x3xi32>, %slots: memref<2x4x2xi32>, %rows: memref<16x64xbf16>, %h: memref<16x32xbf16>, %y: memref<16x64xf32>, %o: memref<2x4x64xf32>) {
  // expected-error @+1 {{expected a static expert width that is a multiple of 8 (16-byte rows), got 12}}
  lm.grouped_experts %x, %w, %i, %gu, %dn schedule(%order, %tiles, %slots) rows(%rows) hidden(%h) expert_out(%y) outs(%o) {activation = #lm.expert<swiglu>}
      : (memref<2x4x64xf32>, memref<2x4x2xf32>, memref<2x4x2xi64>, memref<8x24x64xbf16>, memref<8x64x12xbf16>, memref<16xi32>, memref<9x3xi32>, memref<2x4x2xi32>, memref<16x64xbf16>, memref<16x32xbf16>, memref<16x64xf32>, memref<2x4x64xf32>) -> ()
  return
}

// -----

func.func @tl_input_type(%x: memref<?x64xf32>, %w: memref<32x64xbf16>, %o: memref<?x32xf32>) {
  // expected-error @+1 {{expected a bf16 'input', got 'memref<?x64xf32>'}}
  lm.tiled_linear %x, %w outs(%o) : (memref<?x64xf32>, memref<32x64xbf16>, memref<?x32xf32>) -> ()
  return
}

// -----

func.func @tl_weight_type(%x: memref<?x64xbf16>, %w: memref<32x64xf32>, %o: memref<?x32xf32>) {
  // expected-error @+1 {{expected a bf16 'weight', got 'memref<32x64xf32>'}}
  lm.tiled_linear %x, %w outs(%o) : (memref<?x64xbf16>, memref<32x64xf32>, memref<?x32xf32>) -> ()
  return
}

// -----

func.func @tl_unaligned_rows(%x: memref<?x60xbf16>, %w: memref<32x60xbf16>, %o: memref<?x32xf32>) {
  // expected-error @+1 {{expected in features that are a multiple of 8 (16-byte rows), got 60}}
  lm.tiled_linear %x, %w outs(%o) : (memref<?x60xbf16>, memref<32x60xbf16>, memref<?x32xf32>) -> ()
  return
}

// -----

func.func @tl_glu_without_up(%x: memref<?x64xbf16>, %w: memref<32x64xbf16>, %o: memref<?x32xbf16>) {
  // expected-error @+1 {{expected a 'glu' kind exactly when there is an 'up_weight'}}
  lm.tiled_linear %x, %w outs(%o) {glu = #lm.glu<swiglu>} : (memref<?x64xbf16>, memref<32x64xbf16>, memref<?x32xbf16>) -> ()
  return
}

// -----

func.func @tl_accumulate_bf16(%x: memref<?x64xbf16>, %w: memref<32x64xbf16>, %o: memref<?x32xbf16>) {
  // expected-error @+1 {{expected an f32 'init' to accumulate into, got 'memref<?x32xbf16>'}}
  lm.tiled_linear %x, %w outs(%o) {accumulate} : (memref<?x64xbf16>, memref<32x64xbf16>, memref<?x32xbf16>) -> ()
  return
}

// -----

func.func @tl_out_features(%x: memref<?x64xbf16>, %w: memref<32x64xbf16>, %o: memref<?x16xf32>) {
  // expected-error @+1 {{expected 'init' dimension 1 (out features) to be 32, got 16}}
  lm.tiled_linear %x, %w outs(%o) : (memref<?x64xbf16>, memref<32x64xbf16>, memref<?x16xf32>) -> ()
  return
}
