//===- Llama.cpp - Llama, SmolLM3 and Mixtral -----------------------------===//
//
// The baseline decoder (MODELS.md 0.1): pre-norm, GQA with half-split RoPE,
// SwiGLU. SmolLM3 skips RoPE on every fourth layer; Mixtral replaces the MLP
// with a softmax-routed mixture of experts.
//
//===----------------------------------------------------------------------===//

#include "../Decoder.h"

using namespace mlir;
using namespace mlir::lm;

/// The attention and MLP every layer of a Llama-style model shares.
static DecoderSpec llamaSpec(ModelBuilder &mb) {
  ModelConfig &config = mb.config;
  CommonConfig common = readCommonConfig(config);
  DecoderSpec spec = makeDecoderSpec(common);
  bool attentionBias = config.getBool("attention_bias", false);
  bool mlpBias = config.getBool("mlp_bias", false);
  std::optional<int64_t> window;
  if (config.has("sliding_window") && config.getBool("use_sliding_window", true))
    window = config.getPositive("sliding_window");
  std::vector<std::string> types = readLayerTypes(
      config, "layer_types", common.layers,
      {"full_attention", "sliding_attention"},
      [&](int64_t) { return window ? "sliding_attention" : "full_attention"; });
  RopeSpec rope = readRope(mb, common.headDim);
  // GGUF checkpoints (llama.cpp) store q/k rows with RoPE pairs adjacent.
  rope.interleaved = config.getBool("rope_interleave", false);
  for (auto [i, layer] : llvm::enumerate(spec.layers)) {
    layer.attention.qkvBias = layer.attention.outputBias = attentionBias;
    layer.attention.rope = rope;
    if (types[i] == "sliding_attention")
      layer.attention.slidingWindow =
          window.value_or(config.getPositive("sliding_window"));
    layer.mlp.bias = mlpBias;
  }
  return spec;
}

Value mlir::lm::importLlama(ModelBuilder &mb) {
  return buildDecoder(mb, llamaSpec(mb));
}

Value mlir::lm::importSmolLM3(ModelBuilder &mb) {
  ModelConfig &config = mb.config;
  DecoderSpec spec = llamaSpec(mb);
  const int64_t layers = spec.layers.size();
  SmallVector<int64_t> usesRope = readRopeLayers(config, layers);
  if (usesRope.empty())
    return nullptr;
  for (auto [i, layer] : llvm::enumerate(spec.layers))
    if (!usesRope[i])
      layer.attention.rope.reset();
  return buildDecoder(mb, spec);
}

Value mlir::lm::importMixtral(ModelBuilder &mb) {
  ModelConfig &config = mb.config;
  DecoderSpec spec = llamaSpec(mb);
  int64_t experts = config.getPositive("num_local_experts");
  int64_t topK = config.getPositive("num_experts_per_tok");
  checkRouting(config, "num_experts_per_tok", topK, experts);
  for (DecoderLayer &layer : spec.layers) {
    layer.ffn = FFNKind::MoE;
    layer.ffnName = "block_sparse_moe";
    layer.moe.router.scoring = ScoringKind::softmax;
    layer.moe.router.topK = topK;
    layer.moe.router.normalize = true;
    layer.moe.experts.experts = experts;
    layer.moe.experts.intermediate = layer.mlp.intermediate;
    layer.moe.experts.gate = "w1";
    layer.moe.experts.up = "w3";
    layer.moe.experts.down = "w2";
  }
  return buildDecoder(mb, spec);
}
