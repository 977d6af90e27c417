//===- Llama4.cpp - Llama 4 (text) ----------------------------------------===//
//
// iRoPE: RoPE layers use chunked attention and a weightless QK norm after
// RoPE; every fourth layer is NoPE, global, with temperature tuning.
// Interleaved MoE layers route top-1 by sigmoid, scale the expert *input*,
// and add a shared expert (MODELS.md 3).
//
//===----------------------------------------------------------------------===//

#include "../Decoder.h"

using namespace mlir;
using namespace mlir::lm;

Value mlir::lm::importLlama4(ModelBuilder &mb) {
  ModelConfig &config = mb.config;
  CommonConfig common = readCommonConfig(config);
  DecoderSpec spec = makeDecoderSpec(common);
  locateTextModel(mb, spec, "language_model.model.");
  const int64_t layers = common.layers;

  SmallVector<int64_t> usesRope = readRopeLayers(config, layers);
  if (usesRope.empty())
    return nullptr;
  std::vector<std::string> types = readLayerTypes(
      config, "layer_types", layers, {"chunked_attention", "full_attention"},
      [&](int64_t i) {
        return usesRope[i] ? "chunked_attention" : "full_attention";
      });
  SmallVector<int64_t> moeLayers = config.getIntList("moe_layers");
  if (!config.has("moe_layers")) {
    int64_t step = config.getPositive("interleave_moe_layer_step", 1);
    for (int64_t i = step - 1; i < layers; i += step)
      moeLayers.push_back(i);
  }
  int64_t experts = config.getPositive("num_local_experts");
  int64_t topK = config.getPositive("num_experts_per_tok", 1);
  checkRouting(config, "num_experts_per_tok", topK, experts);
  int64_t denseWidth = config.getPositive("intermediate_size_mlp");
  bool qkNorm = config.getBool("use_qk_norm", true);
  bool tuning = config.getBool("attn_temperature_tuning", true);
  double floorScale = config.getNumber("floor_scale", 8192.0);
  double attnScale = config.getNumber("attn_scale", 0.1);
  RopeSpec rope = readRope(mb, common.headDim, "", 500000.0);
  rope.interleaved = true;

  for (auto [i, layer] : llvm::enumerate(spec.layers)) {
    AttentionSpec &attn = layer.attention;
    attn.qkvBias = attn.outputBias = config.getBool("attention_bias", false);
    if (usesRope[i]) {
      attn.rope = rope;
      if (qkNorm)
        attn.qkNorm = QKNorm::WeightlessAfterRope;
    } else if (tuning) {
      attn.temperature = {floorScale, attnScale};
    }
    if (types[i] == "chunked_attention")
      attn.chunkSize = config.getPositive("attention_chunk_size");
    layer.ffnName = "feed_forward";
    layer.mlp.intermediate = denseWidth;
    if (!llvm::is_contained(moeLayers, int64_t(i)))
      continue;
    layer.ffn = FFNKind::MoE;
    RouterSpec &router = layer.moe.router;
    router.scoring = ScoringKind::sigmoid;
    router.topK = topK;
    router.gate = "router";
    ExpertsSpec &ex = layer.moe.experts;
    ex.experts = experts;
    ex.intermediate = common.intermediate;
    ex.layout = ExpertLayout::FusedInOut;
    ex.scaleInput = true;
    layer.moe.shared = MLPSpec();
    layer.moe.shared->intermediate = common.intermediate;
    layer.moe.sharedName = "shared_expert";
  }
  return buildDecoder(mb, spec);
}
