//===- Qwen3Next.cpp - Qwen3-Next -----------------------------------------===//
//
// Gated DeltaNet layers with a gated full-attention layer every fourth,
// zero-centred norms throughout, partial RoPE, and sparse layers with a
// sigmoid-gated shared expert (MODELS.md 6).
//
//===----------------------------------------------------------------------===//

#include "../Decoder.h"

using namespace mlir;
using namespace mlir::lm;

Value mlir::lm::importQwen3Next(ModelBuilder &mb) {
  ModelConfig &config = mb.config;
  CommonConfig common = readCommonConfig(config);
  DecoderSpec spec = makeDecoderSpec(common);
  spec.normOffset = 1.0;
  int64_t interval = config.getPositive("full_attention_interval", 4);
  std::vector<std::string> types = readLayerTypes(
      config, "layer_types", common.layers,
      {"linear_attention", "full_attention"}, [&](int64_t i) {
        return (i + 1) % interval == 0 ? "full_attention" : "linear_attention";
      });
  RopeSpec rope = readRope(mb, common.headDim);
  GatedDeltaNetSpec delta;
  delta.keyHeads = config.getPositive("linear_num_key_heads");
  delta.valueHeads = config.getPositive("linear_num_value_heads");
  delta.keyDim = config.getPositive("linear_key_head_dim");
  delta.valueDim = config.getPositive("linear_value_head_dim");
  delta.kernel = config.getPositive("linear_conv_kernel_dim");
  delta.normEps = common.eps;
  config.require(delta.valueHeads % delta.keyHeads == 0,
                 "linear_num_value_heads",
                 "expected a multiple of linear_num_key_heads (" +
                     Twine(delta.keyHeads) + "), got " +
                     Twine(delta.valueHeads));

  int64_t experts = config.getCount(
        config.has("num_local_experts") ? "num_local_experts" : "num_experts", 0);
  int64_t topK = config.getPositive("num_experts_per_tok", 1);
  if (experts > 0)
    checkRouting(config, "num_experts_per_tok", topK, experts);
  int64_t step = config.getPositive("decoder_sparse_step", 1);
  SmallVector<int64_t> mlpOnly = config.getIntList("mlp_only_layers");

  for (auto [i, layer] : llvm::enumerate(spec.layers)) {
    if (types[i] == "linear_attention") {
      layer.mixer = MixerKind::GatedDeltaNet;
      layer.mixerName = "linear_attn";
      layer.delta = delta;
    } else {
      AttentionSpec &attn = layer.attention;
      attn.qkvBias = attn.outputBias = config.getBool("attention_bias", false);
      attn.qkNorm = QKNorm::PerHead;
      attn.normOffset = 1.0;
      attn.rope = rope;
      attn.gatedOutput = true;
    }
    bool sparse = experts > 0 && !llvm::is_contained(mlpOnly, int64_t(i)) &&
                  (int64_t(i) + 1) % step == 0;
    if (!sparse)
      continue;
    layer.ffn = FFNKind::MoE;
    layer.moe.router.scoring = ScoringKind::softmax;
    layer.moe.router.topK = topK;
    layer.moe.router.normalize = config.getBool("norm_topk_prob", true);
    layer.moe.experts.experts = experts;
    layer.moe.experts.intermediate = config.getPositive("moe_intermediate_size");
    layer.moe.shared = MLPSpec();
    layer.moe.shared->intermediate =
        config.getPositive("shared_expert_intermediate_size");
    layer.moe.sharedName = "shared_expert";
    layer.moe.sharedGate = "shared_expert_gate";
  }
  return buildDecoder(mb, spec);
}
