//===- DeepSeekV4.cpp - DeepSeek-V4 ---------------------------------------===//
//
// Manifold-constrained hyper-connections (mHC: N residual streams mixed
// through Sinkhorn-projected matrices) around attention that combines a
// sliding window with compressed entries (heavily compressed, or compressed
// and sparsely selected by an indexer), a shared K=V head with sinks and a
// grouped output projection, and hash- or sqrt(softplus)-routed clamped
// SwiGLU experts (DEEPSEEK-V4.md).
//
//===----------------------------------------------------------------------===//

#include "../Decoder.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::lm;

namespace {
struct V4Config {
  int64_t vocab, hidden, layers, heads, headDim, ropeDim, qLoraRank;
  int64_t outGroups, outRank, window, csaRatio, hcaRatio;
  int64_t indexHeads, indexDim, indexTopK;
  int64_t streams, sinkhornIters;
  double eps, hcEps;
  std::vector<std::string> layerTypes, mlpTypes;
  MoESpec moe;
};

constexpr StringLiteral kSliding = "sliding_attention";
constexpr StringLiteral kCSA = "compressed_sparse_attention";
constexpr StringLiteral kHCA = "heavily_compressed_attention";
} // namespace

static V4Config readV4Config(ModelConfig &config) {
  V4Config c;
  c.vocab = config.getPositive("vocab_size");
  c.hidden = config.getPositive("hidden_size");
  c.layers = config.getPositive("num_hidden_layers");
  c.heads = config.getPositive("num_attention_heads");
  c.headDim = config.getPositive("head_dim");
  double partial = config.getNumber("partial_rotary_factor", 0.125);
  if (!(partial > 0 && partial <= 1)) {
    config.error("partial_rotary_factor",
                 "expected a fraction in (0, 1], got " +
                     llvm::formatv("{0:e}", partial).str());
    partial = 0.125;
  }
  c.ropeDim = config.has("qk_rope_head_dim")
                  ? config.getPositive("qk_rope_head_dim")
                  : int64_t(c.headDim * partial);
  config.require(c.ropeDim > 0 && c.ropeDim % 2 == 0 && c.ropeDim <= c.headDim,
                 "qk_rope_head_dim",
                 "expected an even value in [2, head_dim], got " +
                     Twine(c.ropeDim));
  c.qLoraRank = config.getPositive("q_lora_rank");
  c.outGroups = config.getPositive("o_groups");
  c.outRank = config.getPositive("o_lora_rank");
  config.require(c.heads % c.outGroups == 0, "o_groups",
                 "expected a divisor of num_attention_heads (" +
                     Twine(c.heads) + "), got " + Twine(c.outGroups));
  c.window = config.getPositive("sliding_window");
  c.csaRatio = 4;
  c.hcaRatio = 128;
  if (const llvm::json::Object *rates = config.getObject("compress_rates")) {
    c.csaRatio = rates->getInteger(kCSA).value_or(c.csaRatio);
    c.hcaRatio = rates->getInteger(kHCA).value_or(c.hcaRatio);
  }
  c.csaRatio = config.getPositive("compress_rate_csa", c.csaRatio);
  c.hcaRatio = config.getPositive("compress_rate_hca", c.hcaRatio);
  config.require(c.csaRatio >= 2 && c.hcaRatio >= 2, "compress_rates",
                 "expected ratios of at least 2");
  c.indexHeads = config.getPositive("index_n_heads", 64);
  c.indexDim = config.getPositive("index_head_dim", 128);
  c.indexTopK = config.getPositive("index_topk", 512);
  config.require(c.indexDim >= c.ropeDim, "index_head_dim",
                 "expected at least the rope dim " + Twine(c.ropeDim));
  c.streams = config.getPositive("hc_mult", 4);
  c.sinkhornIters = config.getPositive("hc_sinkhorn_iters", 20);
  c.eps = config.getNumber("rms_norm_eps", 1e-6);
  c.hcEps = config.getNumber("hc_eps", 1e-6);

  // Legacy compress_ratios: one per layer (+ the MTP layer), 0 = sliding.
  SmallVector<int64_t> ratios = config.getIntList("compress_ratios");
  c.layerTypes = readLayerTypes(
      config, "layer_types", c.layers, {kSliding, kCSA, kHCA},
      [&](int64_t i) -> std::string {
        if (i < static_cast<int64_t>(ratios.size())) {
          if (ratios[i] <= 1)
            return kSliding.str();
          return ratios[i] == c.csaRatio ? kCSA.str() : kHCA.str();
        }
        return i < 2 || i % 2 == 0 ? kHCA.str() : kCSA.str();
      });
  int64_t hashLayers = config.getCount("num_hash_layers", 3);
  c.mlpTypes = readLayerTypes(
      config, "mlp_layer_types", c.layers, {"hash_moe", "moe"},
      [&](int64_t i) { return i < hashLayers ? "hash_moe" : "moe"; });

  int64_t experts = config.getPositive("n_routed_experts");
  int64_t topK = config.getPositive("num_experts_per_tok");
  checkRouting(config, "num_experts_per_tok", topK, experts);
  std::string scoring = config.getString("scoring_func", "sqrtsoftplus");
  config.require(scoring == "sqrtsoftplus" || scoring == "sigmoid" ||
                     scoring == "softmax",
                 "scoring_func", "unsupported scoring '" + scoring + "'");
  RouterSpec &r = c.moe.router;
  r.scoring = scoring == "sigmoid"   ? ScoringKind::sigmoid
              : scoring == "softmax" ? ScoringKind::softmax
                                     : ScoringKind::sqrtsoftplus;
  r.topK = topK;
  r.normalize = true; // norm_topk_prob is not read
  r.normalizeEpsilon = 1e-20;
  r.routedScaling = config.getNumber("routed_scaling_factor", 1.5);
  double limit = config.getNumber("swiglu_limit", 10.0);
  ExpertsSpec &ex = c.moe.experts;
  ex.experts = experts;
  ex.intermediate = config.getPositive("moe_intermediate_size");
  ex.kind = ExpertKind::clamped_swiglu;
  ex.limit = limit;
  ex.gate = "w1";
  ex.up = "w3";
  ex.down = "w2";
  // One shared expert of the routed width (n_shared_experts is not read).
  c.moe.shared = MLPSpec();
  c.moe.shared->intermediate = ex.intermediate;
  c.moe.shared->kind = GluKind::clamped_swiglu;
  c.moe.shared->limit = limit;
  c.moe.shared->gate = "w1";
  c.moe.shared->up = "w3";
  c.moe.shared->down = "w2";
  return c;
}

namespace {
/// Emits one DeepSeek-V4 model.
class V4Builder {
public:
  V4Builder(ModelBuilder &mb, const V4Config &c) : mb(mb), c(c) {}

  Value build();

private:
  Value attention(Value x, const std::string &p, StringRef type);
  /// kv_compress + norm + RoPE at each entry's first position.
  Value compress(Value x, const std::string &p, int64_t dim, int64_t ratio,
                 bool overlap, const RopeSpec &rope);
  /// The weight of `name` relative to the layer, in either spelling.
  Value layerWeight(const std::string &p, ArrayRef<StringRef> names,
                    ArrayRef<int64_t> shape);
  Value rope(Value x, RopeSpec spec, bool inverse = false,
             Value positions = {}) {
    return applyRope(mb, x, spec, inverse, positions);
  }

  ModelBuilder &mb;
  const V4Config &c;
  RopeSpec mainRope, compressRope;
};
} // namespace

Value V4Builder::layerWeight(const std::string &p, ArrayRef<StringRef> names,
                             ArrayRef<int64_t> shape) {
  SmallVector<std::string> full;
  for (StringRef n : names)
    full.push_back(p + n.str());
  return mb.weightAnyOf(full, shape);
}

Value V4Builder::compress(Value x, const std::string &p, int64_t dim,
                          int64_t ratio, bool overlap, const RopeSpec &rope) {
  OpBuilder &b = mb.getBuilder();
  const int64_t width = overlap ? 2 * dim : dim;
  Value kv = mb.linear(x, p + "wkv", width);
  Value gate = mb.linear(x, p + "wgate", width);
  Value ape = mb.weight(p + "ape", {ratio, width});
  auto cacheType = CompressedCacheType::get(b.getContext(), dim, ratio, overlap,
                                            mb.getCacheElementType());
  Value cache = mb.addState(cacheType, p.substr(p.rfind("attn.") + 5) + "cache");
  auto op = mb.create<KVCompressOp>(
      SmallVector<Type>{cacheType, mb.activation({dim}),
                RankedTensorType::get({ShapedType::kDynamic,
                                       ShapedType::kDynamic},
                                      b.getI64Type())},
      cache, kv, gate, ape, mb.getPositions());
  mb.setState(cache, op.getUpdated());
  Value entries = mb.rmsNorm(op.getEntries(), p + "norm.weight", c.eps);
  // Entries are rotated like the keys they stand for, on their last channels.
  RopeSpec entryRope = rope;
  entryRope.offset = dim - entryRope.rotaryDim;
  entries = mb.splitHeads(entries, 1);
  entries = this->rope(entries, entryRope, false, op.getEntryPositions());
  return mb.mergeHeads(entries);
}

Value V4Builder::attention(Value x, const std::string &p, StringRef type) {
  OpBuilder &b = mb.getBuilder();
  const RopeSpec &layerRope = type == kSliding ? mainRope : compressRope;
  const int64_t hd = c.headDim;

  Value qLatent = mb.rmsNorm(mb.linear(x, p + "wq_a", c.qLoraRank),
                             p + "q_norm.weight", c.eps);
  Value q = mb.splitHeads(mb.linear(qLatent, p + "wq_b", c.heads * hd), c.heads);
  q = rope(mb.rmsNorm(q, Value(), c.eps), layerRope);
  Value kv = mb.linear(x, p + "wkv", hd);
  kv = mb.rmsNorm(kv, layerWeight(p, {"norm.weight", "kv_norm.weight"}, {hd}),
                  c.eps);
  kv = mb.mergeHeads(rope(mb.splitHeads(kv, 1), layerRope));

  auto windowType = KeyCacheType::get(b.getContext(), hd, c.window,
                                      mb.getCacheElementType());
  Value windowCache = mb.addState(windowType, "window_cache");
  auto update = mb.create<KeyCacheUpdateOp>(
      SmallVector<Type>{windowType, mb.activation({hd})}, windowCache, kv,
      mb.getPositions());
  mb.setState(windowCache, update.getUpdated());

  Value entries, selected;
  int64_t ratio = 1;
  if (type == kHCA) {
    ratio = c.hcaRatio;
    entries = compress(x, p + "compressor.", hd, ratio, false, compressRope);
  } else if (type == kCSA) {
    ratio = c.csaRatio;
    entries = compress(x, p + "compressor.", hd, ratio, true, compressRope);
    std::string ip = p + "indexer.";
    Value keys = compress(x, ip + "compressor.", c.indexDim, ratio, true,
                          compressRope);
    RopeSpec indexRope = compressRope;
    indexRope.offset = c.indexDim - c.ropeDim;
    Value qi = mb.splitHeads(
        mb.linear(qLatent, ip + "wq_b", c.indexHeads * c.indexDim),
        c.indexHeads);
    qi = rope(qi, indexRope);
    Value weights = mb.linear(x, ip + "weights_proj", c.indexHeads);
    double scale = 1.0 / std::sqrt(double(c.indexHeads) * double(c.indexDim));
    selected = mb.create<LightningIndexerOp>(
        RankedTensorType::get({ShapedType::kDynamic, ShapedType::kDynamic,
                               c.indexTopK},
                              b.getI64Type()),
        qi, keys, weights, mb.getPositions(), b.getI64IntegerAttr(c.indexTopK),
        b.getF64FloatAttr(scale), b.getI64IntegerAttr(ratio));
  }
  Value sinks = layerWeight(p, {"attn_sink", "sinks"}, {c.heads});
  Value o = mb.create<CompressedAttentionOp>(
      q.getType(), q, update.getKeys(), entries, mb.getPositions(), sinks,
      selected, b.getF64FloatAttr(1.0 / std::sqrt(double(hd))),
      b.getI64IntegerAttr(c.window), b.getI64IntegerAttr(ratio));
  // De-rotate the output by the query position, then project per group.
  o = rope(o, layerRope, /*inverse=*/true);
  Value grouped = mb.splitHeads(mb.mergeHeads(o), c.outGroups);
  const int64_t groupWidth = c.heads * hd / c.outGroups;
  Value woA = mb.weight(p + "wo_a.weight", {c.outGroups * c.outRank, groupWidth});
  Value y = mb.create<GroupedLinearOp>(mb.activation({c.outGroups, c.outRank}),
                                       grouped, woA);
  return mb.linear(mb.mergeHeads(y), p + "wo_b", c.hidden);
}

Value V4Builder::build() {
  OpBuilder &b = mb.getBuilder();
  ModelConfig &config = mb.config;
  mainRope = readRope(mb, c.headDim, "main", config.getNumber("rope_theta", 10000.0));
  compressRope = readRope(mb, c.headDim, "compress",
                          config.getNumber("compress_rope_theta", 160000.0));
  for (RopeSpec *r : {&mainRope, &compressRope}) {
    r->rotaryDim = c.ropeDim;
    r->offset = c.headDim - c.ropeDim;
    r->interleaved = true;
  }
  if (!config.has("rope_parameters")) {
    // Legacy: rope_scaling belongs to the compressed branch only.
    mainRope.scaling = nullptr;
    compressRope.theta = config.getNumber("compress_rope_theta", 160000.0);
  }

  if (failed(mb.begin(c.vocab, c.hidden, c.layers)))
    return {};
  std::string root = "model.";
  if (mb.hasWeights() && !mb.hasTensor("model.embed_tokens.weight") &&
      !mb.hasTensor("model.layers.0.attn_norm.weight"))
    root = "";
  mb.setScope(root + "embed_tokens");
  Value table = mb.weightAnyOf({root + "embed_tokens.weight", "embed.weight"},
                               {c.vocab, c.hidden});
  const int64_t n = c.streams;
  Value streams = mb.create<HCExpandOp>(
      mb.activation({n, c.hidden}), mb.embed(table, mb.getIds()));
  const int64_t mixRows = (2 + n) * n, flat = n * c.hidden;

  auto hyperConnected = [&](const std::string &p, StringRef which,
                            auto sublayer) {
    std::string hc = p + "hc_" + which.str() + "_";
    auto pre = mb.create<HCPreOp>(
        SmallVector<Type>{mb.activation({c.hidden}), mb.activation({n}),
                  mb.activation({n, n})},
        streams, mb.weight(hc + "fn", {mixRows, flat}),
        mb.weight(hc + "base", {mixRows}), mb.weight(hc + "scale", {3}),
        b.getF64FloatAttr(c.eps), b.getF64FloatAttr(c.hcEps));
    Value comb = mb.create<SinkhornOp>(pre.getCombLogits(),
                                       b.getI64IntegerAttr(c.sinkhornIters),
                                       b.getF64FloatAttr(c.hcEps));
    Value out = sublayer(pre.getInput());
    streams = mb.create<HCPostOp>(streams.getType(), streams, out,
                                  pre.getPost(), comb);
  };

  for (int64_t i = 0; i < c.layers; ++i) {
    std::string p = root + "layers." + std::to_string(i) + ".";
    mb.setScope(p + "attn");
    hyperConnected(p, "attn", [&](Value x) {
      return attention(mb.rmsNorm(x, p + "attn_norm.weight", c.eps), p + "attn.",
                       c.layerTypes[i]);
    });
    mb.setScope(p + "ffn");
    hyperConnected(p, "ffn", [&](Value x) {
      MoESpec moe = c.moe;
      if (c.mlpTypes[i] == "hash_moe")
        moe.router.hashTable = "gate.tid2eid";
      else
        moe.router.correctionBias = "gate.bias";
      return buildMoE(mb, mb.rmsNorm(x, p + "ffn_norm.weight", c.eps), p + "ffn",
                      moe);
    });
  }

  mb.setScope(root + "hc_head");
  Value h = mb.create<HCCollapseOp>(
      mb.activation({c.hidden}), streams,
      mb.weightAnyOf({root + "hc_head.hc_fn", "hc_head_fn"}, {n, flat}),
      mb.weightAnyOf({root + "hc_head.hc_base", "hc_head_base"}, {n}),
      mb.weightAnyOf({root + "hc_head.hc_scale", "hc_head_scale"}, {1}),
      b.getF64FloatAttr(c.eps), b.getF64FloatAttr(c.hcEps));
  mb.setScope(root + "norm");
  h = mb.rmsNorm(mb.selectLogitRows(h), root + "norm.weight", c.eps);
  mb.setScope("head");
  Value head = mb.weightAnyOf({"head.weight", "lm_head.weight"},
                              {c.vocab, c.hidden});
  return mb.linear(h, head);
}

Value mlir::lm::importDeepSeekV4(ModelBuilder &mb) {
  V4Config c = readV4Config(mb.config);
  if (mb.failed())
    return nullptr;
  return V4Builder(mb, c).build();
}
