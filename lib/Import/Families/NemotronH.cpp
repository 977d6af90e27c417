//===- NemotronH.cpp - Nemotron-H / Nemotron 3 ----------------------------===//
//
// A schedule of single-mixer blocks, each `h + mixer(norm(h))`: Mamba-2,
// attention (no RoPE), squared-ReLU MLP or a sigmoid-routed MoE of
// squared-ReLU experts with a shared expert (HYBRIDS.md).
//
//===----------------------------------------------------------------------===//

#include "DeepSeekRouter.h"

#include <limits>

using namespace mlir;
using namespace mlir::lm;

/// The block schedule: `layers_block_type` (or `layer_types`) names, else
/// `hybrid_override_pattern` characters.
static std::vector<std::string> readBlocks(ModelConfig &config) {
  auto canonical = [&](StringRef t) -> std::string {
    if (t == "mamba" || t == "linear_attention")
      return "mamba";
    if (t == "attention" || t == "full_attention")
      return "attention";
    if (t == "mlp" || t == "moe")
      return t.str();
    config.error("layers_block_type", "unsupported block type '" + t + "'");
    return "mlp";
  };
  std::vector<std::string> blocks;
  StringRef key = config.has("layers_block_type") ? "layers_block_type"
                                                  : "layer_types";
  if (config.has(key)) {
    for (const std::string &t : config.getStringList(key))
      blocks.push_back(canonical(t));
  } else if (config.has("hybrid_override_pattern")) {
    for (char c : config.getString("hybrid_override_pattern", "")) {
      switch (c) {
      case 'M': blocks.push_back("mamba"); break;
      case '*': blocks.push_back("attention"); break;
      case '-': blocks.push_back("mlp"); break;
      case 'E': blocks.push_back("moe"); break;
      default:
        config.error("hybrid_override_pattern",
                     "unsupported block character '" + Twine(c) + "'");
      }
    }
  }
  if (blocks.empty())
    config.error("layers_block_type", "missing (and no hybrid_override_pattern)");
  return blocks;
}

/// `time_step_limit` [min, max]; JSON writes infinity as
/// {"__float__": "Infinity"}.
static std::pair<double, std::optional<double>> readDtLimit(ModelConfig &config) {
  const llvm::json::Value *v = config.getObject().get("time_step_limit");
  std::pair<double, std::optional<double>> limit = {0.0, std::nullopt};
  const llvm::json::Array *array = v ? v->getAsArray() : nullptr;
  if (!array)
    return limit;
  auto number = [&](const llvm::json::Value &e) -> std::optional<double> {
    if (std::optional<double> d = e.getAsNumber())
      return d;
    if (const llvm::json::Object *o = e.getAsObject())
      if (std::optional<StringRef> s = o->getString("__float__"))
        if (*s == "Infinity" || *s == "inf")
          return std::numeric_limits<double>::infinity();
    config.error("time_step_limit", "expected two numbers");
    return std::nullopt;
  };
  if (array->size() != 2) {
    config.error("time_step_limit", "expected two numbers");
    return limit;
  }
  limit.first = number((*array)[0]).value_or(0.0);
  std::optional<double> max = number((*array)[1]);
  if (max && std::isfinite(*max))
    limit.second = max;
  return limit;
}

Value mlir::lm::importNemotronH(ModelBuilder &mb) {
  ModelConfig &config = mb.config;
  std::vector<std::string> blocks = readBlocks(config);
  const int64_t vocab = config.getPositive("vocab_size");
  const int64_t hidden = config.getPositive("hidden_size");
  // Every RMSNorm uses layer_norm_epsilon; rms_norm_eps is not read.
  const double eps = config.getNumber("layer_norm_epsilon", 1e-5);

  AttentionSpec attn;
  attn.heads = config.getPositive("num_attention_heads");
  attn.kvHeads = config.getPositive("num_key_value_heads", attn.heads);
  attn.headDim = config.getPositive("head_dim", hidden / attn.heads);
  config.require(attn.heads % attn.kvHeads == 0, "num_key_value_heads",
                 "expected a divisor of num_attention_heads (" +
                     Twine(attn.heads) + "), got " + Twine(attn.kvHeads));

  Mamba2Spec mamba;
  bool hasMamba = llvm::is_contained(blocks, "mamba");
  if (hasMamba) {
    mamba.heads = config.getPositive("mamba_num_heads");
    mamba.headDim = config.getPositive("mamba_head_dim");
    mamba.groups = config.getPositive("n_groups", config.getPositive("mamba_n_groups", 1));
    mamba.stateDim = config.getPositive("ssm_state_size");
    mamba.kernel = config.getPositive("conv_kernel", config.getPositive("mamba_d_conv", 4));
    mamba.convBias = config.getBool("use_conv_bias", true);
    mamba.projBias = config.getBool("use_bias", false);
    mamba.normEps = eps;
    std::tie(mamba.dtMin, mamba.dtMax) = readDtLimit(config);
    config.require(mamba.heads % mamba.groups == 0, "n_groups",
                   "expected a divisor of mamba_num_heads (" +
                       Twine(mamba.heads) + "), got " + Twine(mamba.groups));
  }

  MLPSpec mlp;
  mlp.ungated = true;
  mlp.bias = config.getBool("mlp_bias", false);
  std::string act = config.getString("mlp_hidden_act", "relu2");
  config.require(act == "relu2", "mlp_hidden_act",
                 "unsupported activation '" + act + "'");
  if (llvm::is_contained(blocks, "mlp"))
    mlp.intermediate = config.getPositive("intermediate_size");

  MoESpec moe;
  if (llvm::is_contained(blocks, "moe")) {
    moe = readDeepSeekMoE(config, {"n_routed_experts"}, {"num_experts_per_tok"},
                          {"n_shared_experts"}, {"n_group"},
                          {"norm_topk_prob"});
    config.require(!config.has("moe_latent_size"), "moe_latent_size",
                   "latent expert projections are not supported yet");
    moe.experts.kind = ExpertKind::relu2;
    moe.shared = mlp;
    moe.shared->intermediate =
        config.getPositive("moe_shared_expert_intermediate_size");
  }

  if (failed(mb.begin(vocab, hidden, blocks.size())))
    return {};
  mb.setScope("backbone.embeddings");
  Value table = mb.weightAnyOf(
      {"backbone.embeddings.weight", "backbone.embedding.weight"},
      {vocab, hidden});
  Value h = mb.embed(table, mb.getIds());
  for (auto [i, block] : llvm::enumerate(blocks)) {
    std::string prefix = "backbone.layers." + std::to_string(i) + ".";
    mb.setScope(prefix + "mixer");
    Value x = mb.rmsNorm(h, prefix + "norm.weight", eps);
    std::string mixer = prefix + "mixer";
    Value y;
    if (block == "mamba")
      y = buildMamba2(mb, x, mixer, mamba);
    else if (block == "attention")
      y = buildAttention(mb, x, mixer, attn);
    else if (block == "mlp")
      y = buildMLP(mb, x, mixer, mlp);
    else
      y = buildMoE(mb, x, mixer, moe);
    h = mb.add(h, y);
  }
  mb.setScope("backbone.norm_f");
  h = mb.rmsNorm(mb.selectLogitRows(h), "backbone.norm_f.weight", eps);
  mb.setScope("lm_head");
  Value head = config.getBool("tie_word_embeddings", false)
                   ? table
                   : mb.weight("lm_head.weight", {vocab, hidden});
  return mb.linear(h, head);
}
