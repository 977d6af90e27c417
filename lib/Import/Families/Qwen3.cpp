//===- Qwen3.cpp - Qwen3 and Qwen3-MoE ------------------------------------===//
//
// Llama with a per-head QK RMSNorm before RoPE (MODELS.md 2); Qwen3-MoE makes
// layers sparse by decoder_sparse_step / mlp_only_layers with a softmax
// router and no shared expert.
//
//===----------------------------------------------------------------------===//

#include "../Decoder.h"

using namespace mlir;
using namespace mlir::lm;

Value mlir::lm::importQwen3(ModelBuilder &mb) {
  ModelConfig &config = mb.config;
  CommonConfig common = readCommonConfig(config);
  DecoderSpec spec = makeDecoderSpec(common);
  bool bias = config.getBool("attention_bias", false);
  std::optional<int64_t> window;
  if (config.getBool("use_sliding_window", false))
    window = config.getPositive("sliding_window");
  int64_t maxWindowLayers = config.getCount("max_window_layers", common.layers);
  std::vector<std::string> types = readLayerTypes(
      config, "layer_types", common.layers,
      {"full_attention", "sliding_attention"}, [&](int64_t i) {
        return window && i >= maxWindowLayers ? "sliding_attention"
                                              : "full_attention";
      });
  RopeSpec rope = readRope(mb, common.headDim);

  bool moe = config.getModelType() == "qwen3_moe";
  int64_t experts = 0, topK = 0, step = 1, expertWidth = 0;
  bool normalize = false;
  SmallVector<int64_t> mlpOnly;
  if (moe) {
    experts = config.getCount(
        config.has("num_local_experts") ? "num_local_experts" : "num_experts", 0);
    topK = config.getPositive("num_experts_per_tok");
    checkRouting(config, "num_experts_per_tok", topK, experts);
    step = config.getPositive("decoder_sparse_step", 1);
    expertWidth = config.getPositive("moe_intermediate_size");
    normalize = config.getBool("norm_topk_prob", false);
    mlpOnly = config.getIntList("mlp_only_layers");
  }

  for (auto [i, layer] : llvm::enumerate(spec.layers)) {
    AttentionSpec &attn = layer.attention;
    attn.qkvBias = attn.outputBias = bias;
    attn.qkNorm = QKNorm::PerHead;
    attn.rope = rope;
    if (types[i] == "sliding_attention")
      attn.slidingWindow =
          window.value_or(config.getPositive("sliding_window"));
    bool sparse = moe && experts > 0 && !llvm::is_contained(mlpOnly, i) &&
                  (int64_t(i) + 1) % step == 0;
    if (!sparse)
      continue;
    layer.ffn = FFNKind::MoE;
    layer.moe.router.scoring = ScoringKind::softmax;
    layer.moe.router.topK = topK;
    layer.moe.router.normalize = normalize;
    layer.moe.experts.experts = experts;
    layer.moe.experts.intermediate = expertWidth;
  }
  return buildDecoder(mb, spec);
}
