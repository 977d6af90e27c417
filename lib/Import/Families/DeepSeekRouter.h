//===- DeepSeekRouter.h - The DeepSeek-V3 style MoE -------------*- C++ -*-===//
//
// Internal to lib/Import. Sigmoid scores, selection by score + correction
// bias with group-limited top-k (group score: sum of its two best), weights
// from the uncorrected scores renormalised with 1e-20 and scaled, plus
// ungated shared experts. Used by DeepSeek-V3/V3.2, Kimi K2, GLM-4.5 and
// Kimi Linear.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_LIB_IMPORT_FAMILIES_DEEPSEEKROUTER_H
#define LMC_LIB_IMPORT_FAMILIES_DEEPSEEKROUTER_H

#include "../Decoder.h"

namespace mlir::lm {

/// Reads `n_routed_experts` & co (with the given field aliases) into a MoE
/// spec. `expertNames` are the per-expert gate/up/down names.
inline MoESpec readDeepSeekMoE(ModelConfig &config, ArrayRef<StringRef> expertsKeys,
                               ArrayRef<StringRef> topKKeys,
                               ArrayRef<StringRef> sharedKeys,
                               ArrayRef<StringRef> groupKeys,
                               ArrayRef<StringRef> normalizeKeys) {
  auto first = [&](ArrayRef<StringRef> keys) {
    for (StringRef k : keys)
      if (config.has(k))
        return k;
    return keys.front();
  };
  MoESpec moe;
  StringRef expertsKey = first(expertsKeys), topKKey = first(topKKeys);
  int64_t experts = config.getPositive(expertsKey);
  int64_t topK = config.getPositive(topKKey);
  checkRouting(config, topKKey, topK, experts);
  StringRef groupKey = first(groupKeys);
  int64_t groups = config.getPositive(groupKey, 1);
  int64_t keep = config.getPositive("topk_group", 1);
  config.require(experts % groups == 0, groupKey,
                 "expected a divisor of " + expertsKey + " (" +
                     Twine(experts) + "), got " + Twine(groups));
  config.require(keep <= groups, "topk_group",
                 "expected at most " + groupKey + " (" + Twine(groups) +
                     "), got " + Twine(keep));
  config.require(groups == 0 || topK <= keep * (experts / groups), topKKey,
                 "expected at most the " + Twine(keep * (experts / groups)) +
                     " experts of the kept groups, got " + Twine(topK));
  RouterSpec &r = moe.router;
  r.scoring = ScoringKind::sigmoid;
  r.topK = topK;
  r.groups = groups;
  r.topKGroups = keep;
  r.normalize = config.getBool(first(normalizeKeys), true);
  r.normalizeEpsilon = 1e-20;
  r.routedScaling = config.getNumber("routed_scaling_factor", 1.0);
  r.correctionBias = "gate.e_score_correction_bias";
  moe.experts.experts = experts;
  moe.experts.intermediate = config.getPositive("moe_intermediate_size");
  int64_t shared = config.getCount(first(sharedKeys), 0);
  if (shared > 0) {
    moe.shared = MLPSpec();
    moe.shared->intermediate = moe.experts.intermediate * shared;
  }
  return moe;
}

/// Layer i is dense per `mlp_layer_types` (dense | sparse) when given, else
/// when i < first_k_dense_replace.
inline std::vector<bool> readDenseLayers(ModelConfig &config, int64_t layers) {
  int64_t firstDense = config.getCount("first_k_dense_replace", 0);
  std::vector<std::string> types = readLayerTypes(
      config, "mlp_layer_types", layers, {"dense", "sparse"},
      [&](int64_t i) { return i < firstDense ? "dense" : "sparse"; });
  std::vector<bool> dense;
  for (const std::string &t : types)
    dense.push_back(t == "dense");
  return dense;
}

} // namespace mlir::lm

#endif // LMC_LIB_IMPORT_FAMILIES_DEEPSEEKROUTER_H
