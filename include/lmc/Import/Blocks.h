//===- Blocks.h - Building blocks shared by family importers ----*- C++ -*-===//
//
// Each block emits the lm ops of one architectural unit (an attention layer,
// an MLP, a mixture of experts, a recurrent mixer) from a small spec that
// the family importers fill from config.json. Families differ in their specs
// and layer schedules, not in copies of this code.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_IMPORT_BLOCKS_H
#define LMC_IMPORT_BLOCKS_H

#include "lmc/Import/ModelBuilder.h"

#include <optional>
#include <string>

namespace mlir::lm {

//===----------------------------------------------------------------------===//
// Rotary embeddings
//===----------------------------------------------------------------------===//

struct RopeSpec {
  double theta = 10000.0;
  int64_t rotaryDim = 0;
  int64_t offset = 0;
  bool interleaved = false;
  /// The resolved `scaling` dictionary of lm.rope (null: unscaled).
  DictionaryAttr scaling;
  /// The raw scaling factor (DeepSeek's attention mscale needs it).
  double factor = 1.0;
  double mscaleAllDim = 0.0;
};

/// Reads a model's RoPE from `rope_parameters` (flat, or keyed by layer type
/// as transformers 5.x writes it) or the legacy `rope_theta` /
/// `rope_scaling`, for heads of `headDim` channels. `layerType` selects the
/// per-type entry; `defaultTheta` applies when no theta is given.
RopeSpec readRope(ModelBuilder &mb, int64_t headDim, StringRef layerType = "",
                  double defaultTheta = 10000.0);

/// lm.rope over `[B, T, H, D]` at the model's positions.
Value applyRope(ModelBuilder &mb, Value x, const RopeSpec &rope,
                bool inverse = false, Value positions = {});

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

enum class QKNorm {
  None,
  PerHead,            ///< weight [hd] on each head, before RoPE
  WholeProjection,    ///< weight [H*hd] over the projection, before the split
  WeightlessAfterRope ///< Llama 4's L2 norm, after RoPE
};

struct AttentionSpec {
  int64_t heads = 0, kvHeads = 0, headDim = 0;
  int64_t valueDim = 0; ///< 0: headDim
  bool qkvBias = false, outputBias = false;
  QKNorm qkNorm = QKNorm::None;
  double normEps = 1e-6, normOffset = 0.0;
  std::optional<RopeSpec> rope;
  std::optional<int64_t> slidingWindow, chunkSize;
  bool sinks = false;
  double scale = 0.0; ///< 0: headDim^-0.5
  std::optional<double> softcap;
  /// Qwen3-Next: q_proj also yields a sigmoid output gate per head.
  bool gatedOutput = false;
  /// Llama 4 temperature tuning of NoPE layers: (floor_scale, attn_scale).
  std::optional<std::pair<double, double>> temperature;
  std::string q = "q_proj", k = "k_proj", v = "v_proj", o = "o_proj";
  std::string qNorm = "q_norm", kNorm = "k_norm", sinksName = "sinks";
};

/// Self-attention over a KV cache; `prefix` is the module path
/// ("model.layers.3.self_attn").
Value buildAttention(ModelBuilder &mb, Value x, StringRef prefix,
                     const AttentionSpec &spec);

/// DeepSeek sparse-attention lightning indexer (V3.2).
struct IndexerSpec {
  int64_t heads = 0, headDim = 0, topK = 0;
};

struct MLASpec {
  int64_t heads = 0, qLoraRank = 0, kvLoraRank = 0;
  int64_t nopeDim = 0, ropeDim = 0, valueDim = 0;
  std::optional<RopeSpec> rope; ///< none: Kimi Linear's NoPE MLA layers
  double scale = 0.0;
  double latentEps = 1e-6; ///< q_a/kv_a norms use the class default
  bool bias = false;
  std::optional<IndexerSpec> indexer;
};

/// Multi-head latent attention over a latent cache (DeepSeek-V3, Kimi).
Value buildMLA(ModelBuilder &mb, Value x, StringRef prefix,
               const MLASpec &spec);

//===----------------------------------------------------------------------===//
// Feed-forward networks
//===----------------------------------------------------------------------===//

struct MLPSpec {
  int64_t intermediate = 0;
  /// A GLU (gate and up projections) unless `ungated` says relu2(up).
  GluKind kind = GluKind::swiglu;
  bool ungated = false;
  bool bias = false;
  std::optional<double> alpha, limit;
  std::string gate = "gate_proj", up = "up_proj", down = "down_proj";
};

Value buildMLP(ModelBuilder &mb, Value x, StringRef prefix, const MLPSpec &spec);

struct RouterSpec {
  ScoringKind scoring = ScoringKind::softmax;
  int64_t topK = 1, groups = 1, topKGroups = 1;
  bool normalize = false;
  double normalizeEpsilon = 0.0, routedScaling = 1.0;
  bool logitBias = false;      ///< GPT-OSS: the router linear has a bias
  std::string gate = "gate";   ///< router module (weight `[E, D]`)
  /// Selection-only correction bias tensor, relative to the MoE prefix.
  std::optional<std::string> correctionBias;
  /// DeepSeek-V4 hash routing: the expert table tensor.
  std::optional<std::string> hashTable;
};

enum class ExpertLayout {
  PerExpert, ///< experts.{e}.<gate|up|down>.weight, [out, in]
  FusedOutIn, ///< experts.gate_up_proj [E, 2I, D], experts.down_proj [E, D, I]
  FusedInOut  ///< Llama 4 / GPT-OSS: gate_up_proj [E, D, 2I], down_proj [E, I, D]
};

struct ExpertsSpec {
  int64_t experts = 0, intermediate = 0;
  ExpertKind kind = ExpertKind::swiglu;
  std::optional<double> alpha, limit;
  /// The layout of a graph-only import; with weights, fused tensors are
  /// recognised by name.
  ExpertLayout layout = ExpertLayout::PerExpert;
  std::string gate = "gate_proj", up = "up_proj", down = "down_proj";
  bool biases = false;           ///< GPT-OSS gate_up_proj_bias / down_proj_bias
  bool interleavedGateUp = false; ///< GPT-OSS
  bool scaleInput = false;        ///< Llama 4
};

struct MoESpec {
  RouterSpec router;
  ExpertsSpec experts;
  std::optional<MLPSpec> shared;
  std::string sharedName = "shared_experts";
  /// Qwen3-Next: sigmoid(x W^T) with W `[1, D]` scales the shared expert.
  std::optional<std::string> sharedGate;
};

Value buildMoE(ModelBuilder &mb, Value x, StringRef prefix, const MoESpec &spec);

//===----------------------------------------------------------------------===//
// Recurrent mixers
//===----------------------------------------------------------------------===//

struct GatedDeltaNetSpec {
  int64_t keyHeads = 0, valueHeads = 0, keyDim = 0, valueDim = 0, kernel = 0;
  double normEps = 1e-6;
};

/// Qwen3-Next's Gated DeltaNet (`linear_attn`).
Value buildGatedDeltaNet(ModelBuilder &mb, Value x, StringRef prefix,
                         const GatedDeltaNetSpec &spec);

/// Kimi Delta Attention: channel-wise decay, per-projection short convs.
Value buildKimiDeltaAttention(ModelBuilder &mb, Value x, StringRef prefix,
                              const GatedDeltaNetSpec &spec);

struct Mamba2Spec {
  int64_t heads = 0, headDim = 0, groups = 0, stateDim = 0, kernel = 0;
  bool convBias = true, projBias = false;
  double normEps = 1e-5, dtMin = 0.0;
  std::optional<double> dtMax;
};

/// Nemotron-H's Mamba-2 mixer.
Value buildMamba2(ModelBuilder &mb, Value x, StringRef prefix,
                  const Mamba2Spec &spec);

} // namespace mlir::lm

#endif // LMC_IMPORT_BLOCKS_H
