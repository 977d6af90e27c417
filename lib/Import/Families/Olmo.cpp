//===- Olmo.cpp - OLMo 2 and OLMo 3 ---------------------------------------===//
//
// Post-norm around each sublayer with no input norm, and a QK RMSNorm over
// the whole projection (MODELS.md 7). OLMo 3 adds sliding-window layers (3
// of every 4) with RoPE per layer type.
//
//===----------------------------------------------------------------------===//

#include "../Decoder.h"

using namespace mlir;
using namespace mlir::lm;

Value mlir::lm::importOlmo2(ModelBuilder &mb) {
  ModelConfig &config = mb.config;
  CommonConfig common = readCommonConfig(config);
  DecoderSpec spec = makeDecoderSpec(common);
  spec.placement = NormPlacement::Post;
  bool bias = config.getBool("attention_bias", false);
  bool olmo3 = config.getModelType() == "olmo3";
  std::vector<std::string> types = readLayerTypes(
      config, "layer_types", common.layers,
      {"full_attention", "sliding_attention"}, [&](int64_t i) {
        return olmo3 && (i + 1) % 4 != 0 ? "sliding_attention"
                                         : "full_attention";
      });
  for (auto [i, layer] : llvm::enumerate(spec.layers)) {
    AttentionSpec &attn = layer.attention;
    attn.qkvBias = attn.outputBias = bias;
    attn.qkNorm = QKNorm::WholeProjection;
    bool sliding = types[i] == "sliding_attention";
    // OLMo 3's legacy rope_theta/rope_scaling belong to full layers only.
    attn.rope = readRope(mb, common.headDim, types[i],
                         olmo3 ? 500000.0 : 10000.0);
    if (sliding && olmo3 && !config.has("rope_parameters")) {
      attn.rope->scaling = nullptr;
      attn.rope->theta = 500000.0;
    }
    if (sliding)
      attn.slidingWindow = config.getPositive("sliding_window");
  }
  return buildDecoder(mb, spec);
}
