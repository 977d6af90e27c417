//===- DeepSeek.cpp - DeepSeek-V3, V3.2 and Kimi K2 -----------------------===//
//
// Multi-head latent attention with YaRN and the MLA mscale on the attention
// scale, dense-first layers, and the bias-corrected group-limited sigmoid
// router with shared experts (MODELS.md 1). V3.2 adds the lightning indexer
// selecting the top-k keys of every query (MODELS.md 9).
//
//===----------------------------------------------------------------------===//

#include "DeepSeekRouter.h"

#include <cmath>

using namespace mlir;
using namespace mlir::lm;

Value mlir::lm::importDeepSeek(ModelBuilder &mb) {
  ModelConfig &config = mb.config;
  CommonConfig common = readCommonConfig(config);
  DecoderSpec spec = makeDecoderSpec(common);
  // HF hard-codes sigmoid scoring with the bias-corrected group top-k.
  std::string scoring = config.getString("scoring_func", "sigmoid");
  config.require(scoring == "sigmoid", "scoring_func",
                 "expected 'sigmoid' for " + config.getModelType() + ", got '" +
                     scoring + "'");
  std::string method = config.getString("topk_method", "noaux_tc");
  config.require(method == "noaux_tc", "topk_method",
                 "expected 'noaux_tc', got '" + method + "'");

  MLASpec mla;
  mla.heads = common.heads;
  mla.qLoraRank = config.getCount("q_lora_rank", 0);
  mla.kvLoraRank = config.getPositive("kv_lora_rank");
  mla.nopeDim = config.getPositive("qk_nope_head_dim");
  mla.ropeDim = config.getPositive("qk_rope_head_dim");
  mla.valueDim = config.getPositive("v_head_dim");
  mla.bias = config.getBool("attention_bias", false);
  RopeSpec rope = readRope(mb, mla.ropeDim);
  rope.rotaryDim = mla.ropeDim;
  rope.interleaved = config.getBool("rope_interleave", true);
  mla.rope = rope;
  double m = 1.0;
  if (rope.scaling && rope.mscaleAllDim != 0 && rope.factor > 1)
    m = 0.1 * rope.mscaleAllDim * std::log(rope.factor) + 1.0;
  mla.scale = m * m / std::sqrt(double(mla.nopeDim + mla.ropeDim));
  if (config.getModelType() == "deepseek_v32") {
    IndexerSpec ix;
    ix.heads = config.getPositive("index_n_heads");
    ix.headDim = config.getPositive("index_head_dim");
    ix.topK = config.getPositive("index_topk");
    config.require(mla.qLoraRank > 0, "q_lora_rank",
                   "the sparse-attention indexer needs a q_lora_rank");
    config.require(ix.headDim >= mla.ropeDim, "index_head_dim",
                   "expected at least qk_rope_head_dim (" +
                       Twine(mla.ropeDim) + "), got " + Twine(ix.headDim));
    mla.indexer = ix; // the indexer reuses the MLA RoPE (always set above)
  }

  MoESpec moe = readDeepSeekMoE(config, {"n_routed_experts"},
                                {"num_experts_per_tok"}, {"n_shared_experts"},
                                {"n_group"}, {"norm_topk_prob"});
  std::vector<bool> dense = readDenseLayers(config, common.layers);
  for (auto [i, layer] : llvm::enumerate(spec.layers)) {
    layer.mixer = MixerKind::MLA;
    layer.mla = mla;
    if (!dense[i]) {
      layer.ffn = FFNKind::MoE;
      layer.moe = moe;
    }
  }
  return buildDecoder(mb, spec);
}
