//===- Decoder.h - The decoder stack most families share --------*- C++ -*-===//
//
// Internal to lib/Import. A decoder is an embedding, a stack of layers (a
// token mixer and a feed-forward network, each wrapped in its norms and a
// residual add) and a final norm with the LM head. Families fill a
// DecoderSpec from their config; buildDecoder emits it.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_LIB_IMPORT_DECODER_H
#define LMC_LIB_IMPORT_DECODER_H

#include "lmc/Import/Blocks.h"

#include <functional>
#include <vector>

namespace mlir::lm {

/// Where a sublayer's norms sit around it.
enum class NormPlacement {
  Pre,     ///< h + f(norm(h))                 (Llama)
  Post,    ///< h + norm(f(h))                 (OLMo 2/3)
  Sandwich ///< h + norm_post(f(norm_pre(h)))  (Gemma 3)
};

enum class MixerKind { Attention, MLA, GatedDeltaNet, KimiDelta };
enum class FFNKind { Dense, MoE };

struct DecoderLayer {
  MixerKind mixer = MixerKind::Attention;
  std::string mixerName = "self_attn";
  AttentionSpec attention;
  MLASpec mla;
  GatedDeltaNetSpec delta;
  FFNKind ffn = FFNKind::Dense;
  std::string ffnName = "mlp";
  MLPSpec mlp;
  MoESpec moe;
};

struct DecoderSpec {
  int64_t vocab = 0, hidden = 0;
  /// Module path of the decoder ("model." or "model.language_model.").
  std::string prefix = "model.";
  std::string embedding = "embed_tokens.weight"; ///< under prefix
  std::string finalNorm = "norm.weight";         ///< under prefix
  std::string lmHead = "lm_head.weight";         ///< absolute
  bool tied = false;
  std::optional<double> embedScale, finalSoftcap;
  double normEps = 1e-6, normOffset = 0.0;
  NormPlacement placement = NormPlacement::Pre;
  std::string inputNorm = "input_layernorm";
  std::string postAttentionNorm = "post_attention_layernorm";
  std::string preFeedforwardNorm = "pre_feedforward_layernorm";
  std::string postFeedforwardNorm = "post_feedforward_layernorm";
  std::vector<DecoderLayer> layers;
};

/// Emits the whole model; returns the logits.
Value buildDecoder(ModelBuilder &mb, const DecoderSpec &spec);

/// Fields most decoder configs share, read and validated once.
struct CommonConfig {
  int64_t vocab, hidden, layers, heads, kvHeads, headDim, intermediate;
  double eps;
  bool tied;
};
CommonConfig readCommonConfig(ModelConfig &config, bool tiedDefault = false);

/// `layer_types` when the config has it (validated: one per layer, from
/// `allowed`), else `fallback(i)` for each layer.
std::vector<std::string>
readLayerTypes(ModelConfig &config, StringRef key, int64_t layers,
               ArrayRef<StringRef> allowed,
               const std::function<std::string(int64_t)> &fallback);

/// Which layers use RoPE: `no_rope_layers` (1 = uses RoPE, despite the
/// name) or every layer but each `no_rope_layer_interval`-th. Empty (with a
/// recorded error) when the list is too short.
SmallVector<int64_t> readRopeLayers(ModelConfig &config, int64_t layers);

/// A decoder spec with the common fields and `layers` default layers.
DecoderSpec makeDecoderSpec(const CommonConfig &common);

/// Points `spec` at the text model inside a multimodal checkpoint: the
/// decoder under `model.`, `model.language_model.` (transformers 5.x saves)
/// or `language_model.model.` (older saves), found by its embedding;
/// `wrappedDefault` when graph-only and the config is a wrapper.
void locateTextModel(ModelBuilder &mb, DecoderSpec &spec,
                     StringRef wrappedDefault);

/// Validates `num_experts_per_tok`-style routing fields against `experts`.
void checkRouting(ModelConfig &config, StringRef topKField, int64_t topK,
                  int64_t experts);

//===----------------------------------------------------------------------===//
// Families: each reads its config and returns the logits of its graph.
//===----------------------------------------------------------------------===//

using FamilyBuilder = Value (*)(ModelBuilder &);

/// The importer of `modelType`, or null when none handles it.
FamilyBuilder lookupFamily(StringRef modelType);
/// Every supported model_type, for messages.
std::string listFamilies();

Value importLlama(ModelBuilder &mb);
Value importMixtral(ModelBuilder &mb);
Value importSmolLM3(ModelBuilder &mb);
Value importQwen3(ModelBuilder &mb);
Value importOlmo2(ModelBuilder &mb);
Value importGemma3(ModelBuilder &mb);
Value importGptOss(ModelBuilder &mb);
Value importLlama4(ModelBuilder &mb);
Value importGlm4Moe(ModelBuilder &mb);
Value importMiniMaxM2(ModelBuilder &mb);
Value importDeepSeek(ModelBuilder &mb);
Value importQwen3Next(ModelBuilder &mb);
Value importKimiLinear(ModelBuilder &mb);
Value importNemotronH(ModelBuilder &mb);
Value importDeepSeekV4(ModelBuilder &mb);

} // namespace mlir::lm

#endif // LMC_LIB_IMPORT_DECODER_H
