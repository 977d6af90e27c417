//===- Gemma3.cpp - Gemma 3 (text) ----------------------------------------===//
//
// Sandwich norms with zero-centred (1 + w) weights everywhere, sqrt(hidden)
// embedding scale, 5:1 local sliding / global layers with their own RoPE
// bases, GELU-tanh GLU, optional soft-caps (MODELS.md 4).
//
//===----------------------------------------------------------------------===//

#include "../Decoder.h"

#include "llvm/ADT/APFloat.h"

#include <cmath>

using namespace mlir;
using namespace mlir::lm;

/// sqrt(hidden) as the model dtype holds it: HF casts the normalizer to the
/// weight dtype before multiplying.
static double embeddingScale(ModelBuilder &mb, int64_t hidden) {
  double scale = std::sqrt(double(hidden));
  Type t = mb.getDefaultWeightType();
  if (!isa<FloatType>(t) || t.isF32() || t.isF64())
    return scale;
  llvm::APFloat value(scale);
  bool lost = false;
  value.convert(cast<FloatType>(t).getFloatSemantics(),
                llvm::RoundingMode::NearestTiesToEven, &lost);
  value.convert(llvm::APFloat::IEEEdouble(),
                llvm::RoundingMode::NearestTiesToEven, &lost);
  return value.convertToDouble();
}

Value mlir::lm::importGemma3(ModelBuilder &mb) {
  ModelConfig &config = mb.config;
  // Gemma3TextConfig defaults that released wrapper configs leave out.
  config.setDefault("vocab_size", 262208);
  config.setDefault("rms_norm_eps", 1e-6);
  config.setDefault("rope_theta", 1000000.0);
  config.setDefault("rope_local_base_freq", 10000.0);
  config.setDefault("max_position_embeddings", 131072);
  config.setDefault("num_key_value_heads", config.has("num_attention_heads")
                                               ? config.getPositive("num_attention_heads") / 2
                                               : 4);
  CommonConfig common = readCommonConfig(config, /*tiedDefault=*/true);
  DecoderSpec spec = makeDecoderSpec(common);
  locateTextModel(mb, spec, "model.language_model.");
  spec.placement = NormPlacement::Sandwich;
  spec.normOffset = 1.0;
  spec.embedScale = embeddingScale(mb, common.hidden);
  if (config.has("final_logit_softcapping"))
    spec.finalSoftcap = config.getNumber("final_logit_softcapping");
  std::optional<double> attnSoftcap;
  if (config.has("attn_logit_softcapping"))
    attnSoftcap = config.getNumber("attn_logit_softcapping");
  double scalar = config.getNumber("query_pre_attn_scalar",
                                   double(common.headDim));
  config.require(scalar > 0, "query_pre_attn_scalar", "expected a positive value");
  int64_t pattern = config.getPositive(
      "sliding_window_pattern", config.getPositive("_sliding_window_pattern", 6));
  std::vector<std::string> types = readLayerTypes(
      config, "layer_types", common.layers,
      {"full_attention", "sliding_attention"}, [&](int64_t i) {
        return (i + 1) % pattern == 0 ? "full_attention" : "sliding_attention";
      });
  std::string act = config.getString("hidden_activation",
                                     config.getString("hidden_act", "gelu_pytorch_tanh"));
  config.require(act == "gelu_pytorch_tanh" || act == "gelu", "hidden_activation",
                 "unsupported activation '" + act + "'");

  for (auto [i, layer] : llvm::enumerate(spec.layers)) {
    AttentionSpec &attn = layer.attention;
    attn.qkvBias = attn.outputBias = config.getBool("attention_bias", false);
    attn.qkNorm = QKNorm::PerHead;
    attn.normOffset = 1.0;
    attn.scale = 1.0 / std::sqrt(scalar);
    attn.softcap = attnSoftcap;
    bool sliding = types[i] == "sliding_attention";
    attn.rope = readRope(mb, common.headDim, types[i], 1e6);
    // Legacy configs: local layers use rope_local_base_freq, never scaled.
    if (sliding && !config.has("rope_parameters")) {
      attn.rope->theta = config.getNumber("rope_local_base_freq", 10000.0);
      attn.rope->scaling = nullptr;
    }
    if (sliding)
      attn.slidingWindow = config.getPositive("sliding_window");
    layer.mlp.kind = act == "gelu" ? GluKind::geglu : GluKind::geglu_tanh;
  }
  return buildDecoder(mb, spec);
}
