//===- KimiLinear.cpp - Kimi Linear ---------------------------------------===//
//
// Kimi Delta Attention layers (channel-wise decay, short convs on q/k/v,
// sigmoid-gated output norm) with NoPE MLA full-attention layers and the
// DeepSeek router (HYBRIDS.md).
//
//===----------------------------------------------------------------------===//

#include "DeepSeekRouter.h"

#include <cmath>

using namespace mlir;
using namespace mlir::lm;

/// Layer types from `layer_types`, else the 1-indexed lists of
/// `linear_attn_config`.
static std::vector<std::string> kimiLayerTypes(ModelConfig &config,
                                               int64_t layers) {
  const llvm::json::Object *linear = config.getObject("linear_attn_config");
  std::vector<std::string> fallback(layers);
  if (!config.has("layer_types")) {
    if (!linear) {
      config.error("layer_types", "missing (and no linear_attn_config)");
      return std::vector<std::string>(layers, "full_attention");
    }
    auto mark = [&](StringRef key, StringRef type) {
      if (const llvm::json::Array *list = linear->getArray(key))
        for (const llvm::json::Value &v : *list) {
          std::optional<int64_t> i = v.getAsInteger();
          if (!i || *i < 1 || *i > layers)
            config.error("linear_attn_config",
                         key + ": layer " + Twine(i.value_or(-1)) +
                             " out of 1.." + Twine(layers));
          else
            fallback[*i - 1] = type.str();
        }
    };
    mark("kda_layers", "linear_attention");
    mark("full_attn_layers", "full_attention");
    for (auto [i, t] : llvm::enumerate(fallback))
      if (t.empty())
        config.error("linear_attn_config",
                     "layer " + Twine(i + 1) + " is in neither list");
  }
  std::vector<std::string> types = readLayerTypes(
      config, "layer_types", layers,
      {"linear_attention", "full_attention", "kda_attention"},
      [&](int64_t i) { return fallback[i]; });
  for (std::string &t : types)
    if (t == "kda_attention")
      t = "linear_attention";
  return types;
}

Value mlir::lm::importKimiLinear(ModelBuilder &mb) {
  ModelConfig &config = mb.config;
  CommonConfig common = readCommonConfig(config);
  DecoderSpec spec = makeDecoderSpec(common);
  std::vector<std::string> types = kimiLayerTypes(config, common.layers);

  const llvm::json::Object *linear = config.getObject("linear_attn_config");
  auto linearField = [&](StringRef key, StringRef nested) {
    if (config.has(key))
      return config.getPositive(key);
    if (linear)
      if (std::optional<int64_t> v = linear->getInteger(nested))
        if (*v > 0)
          return *v;
    config.error(key, "missing");
    return int64_t(1);
  };
  GatedDeltaNetSpec kda;
  kda.keyHeads = kda.valueHeads = linearField("linear_num_heads", "num_heads");
  kda.keyDim = kda.valueDim = linearField("linear_head_dim", "head_dim");
  kda.kernel = linearField("linear_conv_kernel_dim", "short_conv_kernel_size");
  kda.normEps = common.eps;

  MLASpec mla;
  mla.heads = common.heads;
  mla.qLoraRank = config.getCount("q_lora_rank", 0);
  mla.kvLoraRank = config.getPositive("kv_lora_rank");
  mla.nopeDim = config.getPositive("qk_nope_head_dim");
  mla.ropeDim = config.getPositive("qk_rope_head_dim");
  mla.valueDim = config.getPositive("v_head_dim");
  // No rotation is ever applied; the scale still counts the rope dims.
  mla.scale = 1.0 / std::sqrt(double(mla.nopeDim + mla.ropeDim));

  MoESpec moe = readDeepSeekMoE(
      config, {"n_routed_experts", "num_experts", "num_local_experts"},
      {"num_experts_per_tok", "num_experts_per_token"},
      {"n_shared_experts", "num_shared_experts"},
      {"n_group", "num_expert_group"}, {"norm_topk_prob", "moe_renormalize"});
  moe.experts.gate = "w1";
  moe.experts.up = "w3";
  moe.experts.down = "w2";
  std::vector<bool> dense = readDenseLayers(config, common.layers);
  // Checkpoints name the FFN mlp or (as HF saves it) block_sparse_moe.
  bool blockSparse =
      !mb.hasWeights() || mb.hasTensor("model.layers.0.block_sparse_moe.gate_proj.weight") ||
      mb.hasTensor("model.layers." + std::to_string(common.layers - 1) +
                   ".block_sparse_moe.gate.weight");
  for (auto [i, layer] : llvm::enumerate(spec.layers)) {
    if (types[i] == "linear_attention") {
      layer.mixer = MixerKind::KimiDelta;
      layer.delta = kda;
    } else {
      layer.mixer = MixerKind::MLA;
      layer.mla = mla;
    }
    layer.ffnName = blockSparse ? "block_sparse_moe" : "mlp";
    if (!dense[i]) {
      layer.ffn = FFNKind::MoE;
      layer.moe = moe;
    }
  }
  return buildDecoder(mb, spec);
}
