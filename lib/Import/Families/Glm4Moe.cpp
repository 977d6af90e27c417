//===- Glm4Moe.cpp - GLM-4.5 and MiniMax-M2 -------------------------------===//
//
// Partial RoPE with QK-norm and sigmoid routing with a selection-only bias
// (MODELS.md 10). GLM-4.5: per-head QK-norm, q/k/v biases, dense-first
// layers and DeepSeek's router with shared experts. MiniMax-M2: QK-norm over
// the whole projection, Mixtral-style experts, no shared expert.
//
//===----------------------------------------------------------------------===//

#include "DeepSeekRouter.h"

using namespace mlir;
using namespace mlir::lm;

Value mlir::lm::importGlm4Moe(ModelBuilder &mb) {
  ModelConfig &config = mb.config;
  CommonConfig common = readCommonConfig(config);
  DecoderSpec spec = makeDecoderSpec(common);
  bool bias = config.getBool("attention_bias", false);
  bool qkNorm = config.getBool("use_qk_norm", false);
  RopeSpec rope = readRope(mb, common.headDim);
  MoESpec moe = readDeepSeekMoE(config, {"n_routed_experts"},
                                {"num_experts_per_tok"}, {"n_shared_experts"},
                                {"n_group"}, {"norm_topk_prob"});
  std::vector<bool> dense = readDenseLayers(config, common.layers);
  for (auto [i, layer] : llvm::enumerate(spec.layers)) {
    AttentionSpec &attn = layer.attention;
    attn.qkvBias = bias; // o_proj never has a bias
    attn.qkNorm = qkNorm ? QKNorm::PerHead : QKNorm::None;
    attn.rope = rope;
    if (!dense[i]) {
      layer.ffn = FFNKind::MoE;
      layer.moe = moe;
    }
  }
  return buildDecoder(mb, spec);
}

Value mlir::lm::importMiniMaxM2(ModelBuilder &mb) {
  ModelConfig &config = mb.config;
  CommonConfig common = readCommonConfig(config);
  DecoderSpec spec = makeDecoderSpec(common);
  RopeSpec rope = readRope(mb, common.headDim);
  int64_t experts = config.getPositive("num_local_experts");
  int64_t topK = config.getPositive("num_experts_per_tok");
  checkRouting(config, "num_experts_per_tok", topK, experts);
  std::string scoring = config.getString("scoring_func", "sigmoid");
  config.require(scoring == "sigmoid", "scoring_func",
                 "expected 'sigmoid', got '" + scoring + "'");
  bool qkNorm = config.getBool("use_qk_norm", true);
  for (DecoderLayer &layer : spec.layers) {
    AttentionSpec &attn = layer.attention;
    attn.qkNorm = qkNorm ? QKNorm::WholeProjection : QKNorm::None;
    attn.rope = rope;
    layer.ffn = FFNKind::MoE;
    layer.ffnName = "block_sparse_moe";
    RouterSpec &r = layer.moe.router;
    r.scoring = ScoringKind::sigmoid;
    r.topK = topK;
    r.normalize = true;
    r.correctionBias = "e_score_correction_bias";
    ExpertsSpec &ex = layer.moe.experts;
    ex.experts = experts;
    ex.intermediate = common.intermediate;
    ex.gate = "w1";
    ex.up = "w3";
    ex.down = "w2";
  }
  return buildDecoder(mb, spec);
}
