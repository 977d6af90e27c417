//===- Decoder.cpp - The decoder stack most families share ----------------===//

#include "Decoder.h"

using namespace mlir;
using namespace mlir::lm;

CommonConfig mlir::lm::readCommonConfig(ModelConfig &config, bool tiedDefault) {
  CommonConfig c;
  c.vocab = config.getPositive("vocab_size");
  c.hidden = config.getPositive("hidden_size");
  c.layers = config.getPositive("num_hidden_layers");
  c.heads = config.getPositive("num_attention_heads");
  c.kvHeads = config.getPositive("num_key_value_heads", c.heads);
  config.require(c.heads % c.kvHeads == 0, "num_key_value_heads",
                 "expected a divisor of num_attention_heads (" +
                     Twine(c.heads) + "), got " + Twine(c.kvHeads));
  if (config.has("head_dim")) {
    c.headDim = config.getPositive("head_dim");
  } else {
    config.require(c.hidden % c.heads == 0, "num_attention_heads",
                   "expected a divisor of hidden_size (" + Twine(c.hidden) +
                       "), got " + Twine(c.heads));
    c.headDim = c.hidden / c.heads;
  }
  c.intermediate = config.getPositive("intermediate_size", 1);
  c.eps = config.getNumber("rms_norm_eps", 1e-6);
  config.require(c.eps >= 0, "rms_norm_eps", "expected a non-negative value");
  c.tied = config.getBool("tie_word_embeddings", tiedDefault);
  return c;
}

std::vector<std::string>
mlir::lm::readLayerTypes(ModelConfig &config, StringRef key, int64_t layers,
                         ArrayRef<StringRef> allowed,
                         const std::function<std::string(int64_t)> &fallback) {
  std::vector<std::string> types;
  if (config.has(key)) {
    for (std::string &t : config.getStringList(key))
      types.push_back(std::move(t));
    if (static_cast<int64_t>(types.size()) < layers) {
      config.error(key, "expected " + Twine(layers) +
                            " entries (num_hidden_layers), got " +
                            Twine(types.size()));
      types.resize(layers, allowed.front().str());
    }
    types.resize(layers);
    for (const std::string &t : types)
      if (!llvm::is_contained(allowed, t))
        config.error(key, "unsupported layer type '" + t + "'");
    return types;
  }
  for (int64_t i = 0; i < layers; ++i)
    types.push_back(fallback(i));
  return types;
}

SmallVector<int64_t> mlir::lm::readRopeLayers(ModelConfig &config,
                                              int64_t layers) {
  int64_t interval = config.getPositive("no_rope_layer_interval", 4);
  SmallVector<int64_t> usesRope = config.getIntList("no_rope_layers");
  if (usesRope.empty())
    for (int64_t i = 0; i < layers; ++i)
      usesRope.push_back((i + 1) % interval != 0);
  if (!config.require(static_cast<int64_t>(usesRope.size()) >= layers,
                      "no_rope_layers",
                      "expected " + Twine(layers) + " entries, got " +
                          Twine(usesRope.size())))
    return {};
  return usesRope;
}

DecoderSpec mlir::lm::makeDecoderSpec(const CommonConfig &common) {
  DecoderSpec spec;
  spec.vocab = common.vocab;
  spec.hidden = common.hidden;
  spec.tied = common.tied;
  spec.normEps = common.eps;
  spec.layers.resize(common.layers);
  for (DecoderLayer &layer : spec.layers) {
    layer.attention.heads = common.heads;
    layer.attention.kvHeads = common.kvHeads;
    layer.attention.headDim = common.headDim;
    layer.attention.normEps = common.eps;
    layer.mlp.intermediate = common.intermediate;
  }
  return spec;
}

void mlir::lm::locateTextModel(ModelBuilder &mb, DecoderSpec &spec,
                               StringRef wrappedDefault) {
  std::string prefix = "model.";
  if (mb.hasWeights()) {
    for (StringRef candidate :
         {"model.", "model.language_model.", "language_model.model."})
      if (mb.hasTensor(candidate + spec.embedding))
        prefix = candidate.str();
  } else if (mb.config.isNested()) {
    prefix = wrappedDefault.str();
  }
  spec.prefix = prefix;
  spec.lmHead = prefix == "language_model.model."
                    ? "language_model.lm_head.weight"
                    : "lm_head.weight";
}

void mlir::lm::checkRouting(ModelConfig &config, StringRef topKField,
                            int64_t topK, int64_t experts) {
  config.require(topK <= experts, topKField,
                 "expected at most the " + Twine(experts) +
                     " experts, got " + Twine(topK));
}

/// The token mixer of one layer.
static Value buildMixer(ModelBuilder &mb, Value x, StringRef prefix,
                        const DecoderLayer &layer) {
  std::string path = (prefix + layer.mixerName).str();
  switch (layer.mixer) {
  case MixerKind::Attention:
    return buildAttention(mb, x, path, layer.attention);
  case MixerKind::MLA:
    return buildMLA(mb, x, path, layer.mla);
  case MixerKind::GatedDeltaNet:
    return buildGatedDeltaNet(mb, x, path, layer.delta);
  case MixerKind::KimiDelta:
    return buildKimiDeltaAttention(mb, x, path, layer.delta);
  }
  llvm_unreachable("unknown mixer");
}

static Value buildFFN(ModelBuilder &mb, Value x, StringRef prefix,
                      const DecoderLayer &layer) {
  std::string path = (prefix + layer.ffnName).str();
  if (layer.ffn == FFNKind::MoE)
    return buildMoE(mb, x, path, layer.moe);
  return buildMLP(mb, x, path, layer.mlp);
}

/// One residual sublayer with its norms placed as the spec says.
template <typename Fn>
static Value residual(ModelBuilder &mb, const DecoderSpec &spec, Value h,
                      StringRef prefix, StringRef preNorm, StringRef postNorm,
                      Fn sublayer) {
  auto norm = [&](Value v, StringRef name) {
    return mb.rmsNorm(v, prefix + name + ".weight", spec.normEps,
                      spec.normOffset);
  };
  Value x = h;
  if (spec.placement != NormPlacement::Post)
    x = norm(x, preNorm);
  Value y = sublayer(x);
  if (spec.placement != NormPlacement::Pre)
    y = norm(y, postNorm);
  return mb.add(h, y);
}

Value mlir::lm::buildDecoder(ModelBuilder &mb, const DecoderSpec &spec) {
  if (failed(mb.begin(spec.vocab, spec.hidden, spec.layers.size())))
    return {};
  mb.setScope(spec.prefix + "embed_tokens");
  Value table = mb.weight(spec.prefix + spec.embedding, {spec.vocab, spec.hidden});
  Value h = mb.embed(table, mb.getIds(), spec.embedScale);

  for (auto [i, layer] : llvm::enumerate(spec.layers)) {
    std::string prefix = spec.prefix + "layers." + std::to_string(i) + ".";
    mb.setScope(prefix + layer.mixerName);
    // Post-norm models (OLMo) name the mixer's norm post_attention_layernorm;
    // pre-norm models name the FFN's norm so too.
    bool post = spec.placement == NormPlacement::Post;
    h = residual(mb, spec, h, prefix, spec.inputNorm, spec.postAttentionNorm,
                 [&](Value x) { return buildMixer(mb, x, prefix, layer); });
    mb.setScope(prefix + layer.ffnName);
    StringRef ffnPre = spec.placement == NormPlacement::Sandwich
                           ? spec.preFeedforwardNorm
                           : spec.postAttentionNorm;
    h = residual(mb, spec, h, prefix, ffnPre,
                 post || spec.placement == NormPlacement::Sandwich
                     ? spec.postFeedforwardNorm
                     : spec.postAttentionNorm,
                 [&](Value x) { return buildFFN(mb, x, prefix, layer); });
  }

  mb.setScope(spec.prefix + "norm");
  h = mb.rmsNorm(mb.selectLogitRows(h), spec.prefix + spec.finalNorm,
                 spec.normEps, spec.normOffset);
  mb.setScope("lm_head");
  Value head = spec.tied ? table
                         : mb.weight(spec.lmHead, {spec.vocab, spec.hidden});
  Value logits = mb.linear(h, head);
  if (spec.finalSoftcap)
    logits = mb.softcap(logits, *spec.finalSoftcap);
  return logits;
}
