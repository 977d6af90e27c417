// RUN: lmc-opt %s -split-input-file -lm-print-model-summary -verify-diagnostics | FileCheck %s

// A one-layer MoE model. Parameters (each weight counted once):
//   embed_tokens   256 x 64          = 16384, only looked up: 1 row active = 64
//   norms          3 x 64            =   192, all active
//   q/k/v/o_proj   64*64 + 2*32*64 + 64*64 = 12288, all active
//   router gate    8 x 64            =   512, all active
//   experts gate_up 8 x 64 x 64      = 32768, top-2 of 8 experts: 8192 active
//   experts down   8 x 32 x 64       = 16384 (transposed), 2/8: 4096 active
//   lm_head        256 x 64          = 16384, all active
// total 94912, active 64 + 192 + 12288 + 512 + 8192 + 4096 + 16384 = 41728.
// Cache: one kv_cache of 2 heads x (16 + 16) = 64 bf16 values (128 bytes) a token.

// CHECK:      model: mixtral (1 layers, hidden 64, vocab 256)
// CHECK-NEXT: parameters: 94912 total (94.91 K), 41728 active per token (41.73 K)
// CHECK-NEXT: cache per token: 64.0 values, 128.0 bytes (layers that attend to the whole context)
// CHECK-NEXT: fixed state per sequence: 0 bytes (0 in full sliding windows, 0 recurrent or pending)
// CHECK-NEXT:   1 x !lm.kv_cache<2 x 16 x 16, bf16>: 64 values per token
// The IR is left unchanged.
// CHECK:      func.func @forward
// CHECK:        lm.moe_experts

module attributes {lm.model_type = "mixtral", lm.num_layers = 1 : i64,
                   lm.hidden_size = 64 : i64, lm.vocab_size = 256 : i64} {
  func.func @forward(%ids: tensor<?x?xi64>, %pos: tensor<?x?xi64>,
                     %cache: !lm.kv_cache<2 x 16 x 16, bf16>)
      -> (tensor<?x?x256xf32>, !lm.kv_cache<2 x 16 x 16, bf16>) {
    %table = lm.weight "model.embed_tokens.weight" : tensor<256x64xf32>
    %h0 = lm.embed %table, %ids : tensor<256x64xf32>, tensor<?x?xi64> -> tensor<?x?x64xf32>

    // Attention.
    %ln1 = lm.weight "model.layers.0.input_layernorm.weight" : tensor<64xf32>
    %x = lm.rms_norm %h0, %ln1 {epsilon = 1.0e-05 : f64}
       : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
    %wq = lm.weight "model.layers.0.self_attn.q_proj.weight" : tensor<64x64xf32>
    %wk = lm.weight "model.layers.0.self_attn.k_proj.weight" : tensor<32x64xf32>
    %wv = lm.weight "model.layers.0.self_attn.v_proj.weight" : tensor<32x64xf32>
    %wo = lm.weight "model.layers.0.self_attn.o_proj.weight" : tensor<64x64xf32>
    %q0 = lm.linear %x, %wq : tensor<?x?x64xf32>, tensor<64x64xf32> -> tensor<?x?x64xf32>
    %k0 = lm.linear %x, %wk : tensor<?x?x64xf32>, tensor<32x64xf32> -> tensor<?x?x32xf32>
    %v0 = lm.linear %x, %wv : tensor<?x?x64xf32>, tensor<32x64xf32> -> tensor<?x?x32xf32>
    %q1 = lm.split_heads %q0 : tensor<?x?x64xf32> -> tensor<?x?x4x16xf32>
    %k1 = lm.split_heads %k0 : tensor<?x?x32xf32> -> tensor<?x?x2x16xf32>
    %v1 = lm.split_heads %v0 : tensor<?x?x32xf32> -> tensor<?x?x2x16xf32>
    %q = lm.rope %q1, %pos {rotary_dim = 16 : i64, theta = 1.0e+06 : f64}
       : tensor<?x?x4x16xf32>, tensor<?x?xi64>
    %k = lm.rope %k1, %pos {rotary_dim = 16 : i64, theta = 1.0e+06 : f64}
       : tensor<?x?x2x16xf32>, tensor<?x?xi64>
    %cache1, %keys, %values = lm.kv_cache_update %cache, %k, %v1, %pos
        : (!lm.kv_cache<2 x 16 x 16, bf16>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>,
           tensor<?x?xi64>)
        -> (!lm.kv_cache<2 x 16 x 16, bf16>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>)
    %a = lm.attention %q, %keys, %values, %pos {scale = 0.25 : f64}
       : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
       -> tensor<?x?x4x16xf32>
    %am = lm.merge_heads %a : tensor<?x?x4x16xf32> -> tensor<?x?x64xf32>
    %ao = lm.linear %am, %wo : tensor<?x?x64xf32>, tensor<64x64xf32> -> tensor<?x?x64xf32>
    %h1 = arith.addf %h0, %ao : tensor<?x?x64xf32>

    // Mixture of experts: top-2 of 8.
    %ln2 = lm.weight "model.layers.0.post_attention_layernorm.weight" : tensor<64xf32>
    %y = lm.rms_norm %h1, %ln2 {epsilon = 1.0e-05 : f64}
       : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
    %wg = lm.weight "model.layers.0.block_sparse_moe.gate.weight" : tensor<8x64xf32>
    %logits = lm.linear %y, %wg : tensor<?x?x64xf32>, tensor<8x64xf32> -> tensor<?x?x8xf32>
    %rw, %ri = lm.router %logits {normalize, scoring = #lm.scoring<softmax>, top_k = 2 : i64}
        : (tensor<?x?x8xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
    %gu = lm.stacked_weight ["model.layers.0.block_sparse_moe.experts.{}.w1.weight",
                             "model.layers.0.block_sparse_moe.experts.{}.w3.weight"] x 8
        : tensor<8x64x64xf32>
    %dn0 = lm.stacked_weight ["model.layers.0.block_sparse_moe.experts.{}.w2.weight"] x 8
         : tensor<8x32x64xf32>
    %dn = lm.transpose %dn0 [0, 2, 1] : tensor<8x32x64xf32> -> tensor<8x64x32xf32>
    %e = lm.moe_experts %y, %rw, %ri, %gu, %dn {activation = #lm.expert<swiglu>}
       : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>,
          tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
    %h2 = arith.addf %h1, %e : tensor<?x?x64xf32>

    // Output.
    %lnf = lm.weight "model.norm.weight" : tensor<64xf32>
    %z = lm.rms_norm %h2, %lnf {epsilon = 1.0e-05 : f64}
       : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
    %head = lm.weight "lm_head.weight" : tensor<256x64xf32>
    %out = lm.linear %z, %head : tensor<?x?x64xf32>, tensor<256x64xf32> -> tensor<?x?x256xf32>
    return %out, %cache1 : tensor<?x?x256xf32>, !lm.kv_cache<2 x 16 x 16, bf16>
  }
}

// -----

// A module without a forward function cannot be summarised.
// expected-error @+1 {{expected a 'forward' function in the model}}
module attributes {lm.model_type = "llama"} {
  func.func @main(%x: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
    return %x : tensor<?x?x64xf32>
  }
}
