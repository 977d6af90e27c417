//===- Blocks.cpp - Building blocks shared by family importers ------------===//

#include "lmc/Import/Blocks.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::lm;
namespace json = llvm::json;

static constexpr int64_t kDyn = ShapedType::kDynamic;

//===----------------------------------------------------------------------===//
// Rotary embeddings
//===----------------------------------------------------------------------===//

namespace {
/// Reads RoPE fields from the dictionaries where configs put them: the
/// (per-layer-type) `rope_parameters`, the legacy `rope_scaling`, then the
/// top-level config.
class RopeFields {
public:
  RopeFields(ModelConfig &config, StringRef layerType) : config(config) {
    params = config.getObject("rope_parameters");
    if (params) {
      // transformers 5.x keys the entries by layer type for models whose
      // layer types use different RoPE (Gemma 3, OLMo 3).
      bool perType = llvm::any_of(*params, [](const auto &kv) {
        return kv.second.getAsObject() != nullptr;
      });
      if (perType) {
        const json::Object *entry =
            params->getObject(layerType.empty() ? "full_attention" : layerType);
        if (!entry)
          entry = params->getObject("full_attention");
        params = entry;
      }
    }
    legacy = config.getObject("rope_scaling");
  }

  std::optional<double> number(StringRef key) {
    for (const json::Object *o : {params, legacy}) {
      if (!o)
        continue;
      if (const json::Value *v = o->get(key)) {
        if (v->kind() == json::Value::Null)
          continue;
        if (std::optional<double> d = v->getAsNumber())
          return d;
        config.error(o == params ? "rope_parameters" : "rope_scaling",
                     "field '" + key + "': expected a number");
        return std::nullopt;
      }
    }
    return std::nullopt;
  }

  std::optional<bool> boolean(StringRef key) {
    for (const json::Object *o : {params, legacy})
      if (o)
        if (std::optional<bool> b = o->getBoolean(key))
          return b;
    return std::nullopt;
  }

  std::string type() {
    for (const json::Object *o : {params, legacy}) {
      if (!o)
        continue;
      for (StringRef key : {"rope_type", "type"})
        if (std::optional<StringRef> s = o->getString(key))
          return s->str();
    }
    return "default";
  }

private:
  ModelConfig &config;
  const json::Object *params = nullptr;
  const json::Object *legacy = nullptr;
};
} // namespace

/// YaRN's magnitude correction `get_mscale` of modeling_rope_utils.py.
static double yarnMscale(double factor, double mscale = 1.0) {
  return factor <= 1 ? 1.0 : 0.1 * mscale * std::log(factor) + 1.0;
}

RopeSpec mlir::lm::readRope(ModelBuilder &mb, int64_t headDim,
                            StringRef layerType, double defaultTheta) {
  ModelConfig &config = mb.config;
  Builder b(mb.getBuilder().getContext());
  RopeFields fields(config, layerType);
  RopeSpec rope;
  rope.theta = fields.number("rope_theta").value_or(
      config.getNumber("rope_theta", defaultTheta));
  config.require(rope.theta > 0, "rope_theta",
                 "expected a positive value, got " + std::to_string(rope.theta));

  double partial = fields.number("partial_rotary_factor")
                       .value_or(config.getNumber("partial_rotary_factor", 1.0));
  if (!(partial > 0 && partial <= 1)) {
    config.error("partial_rotary_factor",
                 "expected a fraction in (0, 1], got " +
                     llvm::formatv("{0:e}", partial).str());
    partial = 1.0;
  }
  rope.rotaryDim = config.has("rotary_dim")
                       ? config.getPositive("rotary_dim")
                       : static_cast<int64_t>(headDim * partial);
  if (rope.rotaryDim <= 0 || rope.rotaryDim % 2 || rope.rotaryDim > headDim)
    config.error(config.has("rotary_dim") ? "rotary_dim" : "partial_rotary_factor",
                 "rotary dim " + Twine(rope.rotaryDim) +
                     " must be even and at most the head dim " +
                     Twine(headDim));

  std::string type = fields.type();
  SmallVector<NamedAttribute> scaling;
  auto set = [&](StringRef key, double value) {
    scaling.push_back(b.getNamedAttr(key, b.getF64FloatAttr(value)));
  };
  auto required = [&](StringRef key) {
    std::optional<double> v = fields.number(key);
    if (!v)
      config.error("rope_scaling", type + " scaling needs '" + key + "'");
    return v.value_or(1.0);
  };
  if (type == "default") {
    return rope;
  } else if (type == "linear") {
    rope.factor = required("factor");
    set("factor", rope.factor);
  } else if (type == "llama3") {
    rope.factor = required("factor");
    set("factor", rope.factor);
    set("low_freq_factor", fields.number("low_freq_factor").value_or(1.0));
    set("high_freq_factor", fields.number("high_freq_factor").value_or(4.0));
    set("original_max_position_embeddings",
        required("original_max_position_embeddings"));
  } else if (type == "yarn") {
    rope.factor = required("factor");
    set("factor", rope.factor);
    set("original_max_position_embeddings",
        fields.number("original_max_position_embeddings")
            .value_or(double(config.getPositive("max_position_embeddings",
                                                4096))));
    set("beta_fast", fields.number("beta_fast").value_or(32.0));
    set("beta_slow", fields.number("beta_slow").value_or(1.0));
    scaling.push_back(b.getNamedAttr(
        "truncate", b.getBoolAttr(fields.boolean("truncate").value_or(true))));
    std::optional<double> mscale = fields.number("mscale");
    std::optional<double> mscaleAll = fields.number("mscale_all_dim");
    rope.mscaleAllDim = mscaleAll.value_or(0.0);
    double attentionFactor = yarnMscale(rope.factor);
    if (std::optional<double> given = fields.number("attention_factor"))
      attentionFactor = *given;
    else if (mscale && mscaleAll && *mscale != 0 && *mscaleAll != 0)
      attentionFactor = yarnMscale(rope.factor, *mscale) /
                        yarnMscale(rope.factor, *mscaleAll);
    set("attention_factor", attentionFactor);
  } else {
    config.error("rope_scaling", "unsupported rope_type '" + type +
                                     "' (supported: default, linear, "
                                     "llama3, yarn)");
    return rope;
  }
  scaling.push_back(b.getNamedAttr("rope_type", b.getStringAttr(type)));
  rope.scaling = b.getDictionaryAttr(scaling);
  return rope;
}

Value mlir::lm::applyRope(ModelBuilder &mb, Value x, const RopeSpec &rope,
                          bool inverse, Value positions) {
  OpBuilder &b = mb.getBuilder();
  return mb.create<RopeOp>(
      x.getType(), x, positions ? positions : mb.getPositions(),
      b.getF64FloatAttr(rope.theta), b.getI64IntegerAttr(rope.rotaryDim),
      b.getI64IntegerAttr(rope.offset),
      rope.interleaved ? b.getUnitAttr() : UnitAttr(),
      inverse ? b.getUnitAttr() : UnitAttr(), rope.scaling);
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

Value mlir::lm::buildAttention(ModelBuilder &mb, Value x, StringRef prefix,
                               const AttentionSpec &spec) {
  OpBuilder &b = mb.getBuilder();
  std::string p = prefix.str() + ".";
  const int64_t hd = spec.headDim;
  const int64_t vd = spec.valueDim ? spec.valueDim : hd;
  const int64_t hidden = ModelBuilder::lastDim(x);
  int64_t qRows = spec.heads * hd * (spec.gatedOutput ? 2 : 1);

  Value q = mb.linear(x, p + spec.q, qRows, spec.qkvBias);
  Value k = mb.linear(x, p + spec.k, spec.kvHeads * hd, spec.qkvBias);
  Value v = mb.linear(x, p + spec.v, spec.kvHeads * vd, spec.qkvBias);
  if (spec.qkNorm == QKNorm::WholeProjection) {
    q = mb.rmsNorm(q, p + spec.qNorm + ".weight", spec.normEps,
                   spec.normOffset);
    k = mb.rmsNorm(k, p + spec.kNorm + ".weight", spec.normEps,
                   spec.normOffset);
  }

  Value gate;
  q = mb.splitHeads(q, spec.heads);
  if (spec.gatedOutput) {
    // Per head: hd query channels, then hd gate channels.
    gate = mb.mergeHeads(mb.slice(q, hd, hd));
    q = mb.slice(q, 0, hd);
  }
  k = mb.splitHeads(k, spec.kvHeads);
  v = mb.splitHeads(v, spec.kvHeads);

  if (spec.qkNorm == QKNorm::PerHead) {
    q = mb.rmsNorm(q, p + spec.qNorm + ".weight", spec.normEps,
                   spec.normOffset);
    k = mb.rmsNorm(k, p + spec.kNorm + ".weight", spec.normEps,
                   spec.normOffset);
  }
  if (spec.rope) {
    q = applyRope(mb, q, *spec.rope);
    k = applyRope(mb, k, *spec.rope);
    if (spec.qkNorm == QKNorm::WeightlessAfterRope) {
      q = mb.rmsNorm(q, Value(), spec.normEps);
      k = mb.rmsNorm(k, Value(), spec.normEps);
    }
  }
  if (spec.temperature)
    q = mb.create<AttentionTemperatureOp>(
        q, mb.getPositions(), b.getF64FloatAttr(spec.temperature->first),
        b.getF64FloatAttr(spec.temperature->second));

  auto cacheType = KVCacheType::get(b.getContext(), spec.kvHeads, hd, vd,
                                    spec.slidingWindow.value_or(0),
                                    mb.getCacheElementType());
  Value cache = mb.addState(cacheType, "kv_cache");
  auto update = mb.create<KVCacheUpdateOp>(
      SmallVector<Type>{cacheType, mb.activation({spec.kvHeads, hd}),
                mb.activation({spec.kvHeads, vd})},
      cache, k, v, mb.getPositions());
  mb.setState(cache, update.getUpdated());

  Value sinks = spec.sinks ? mb.weight(p + spec.sinksName, {spec.heads})
                           : Value();
  double scale = spec.scale > 0 ? spec.scale : 1.0 / std::sqrt(double(hd));
  auto attention = mb.create<AttentionOp>(
      mb.activation({spec.heads, vd}), q, update.getKeys(), update.getValues(),
      mb.getPositions(), sinks, b.getF64FloatAttr(scale),
      spec.slidingWindow ? b.getI64IntegerAttr(*spec.slidingWindow)
                         : IntegerAttr(),
      spec.chunkSize ? b.getI64IntegerAttr(*spec.chunkSize) : IntegerAttr(),
      spec.softcap ? b.getF64FloatAttr(*spec.softcap) : FloatAttr());
  Value o = mb.mergeHeads(attention);
  if (gate)
    o = mb.gate(o, gate, ActivationKind::sigmoid);
  return mb.linear(o, p + spec.o, hidden, spec.outputBias);
}

/// The V3.2 lightning indexer: the top-k cached tokens per query.
static Value buildIndexer(ModelBuilder &mb, Value x, Value qLatent,
                          StringRef prefix, const MLASpec &spec) {
  OpBuilder &b = mb.getBuilder();
  const IndexerSpec &ix = *spec.indexer;
  assert(spec.rope && "the indexer rotates with the layer's RoPE");
  std::string p = prefix.str() + ".indexer.";
  // The indexer's RoPE is half-split on the first rope channels.
  RopeSpec rope = *spec.rope;
  rope.interleaved = false;
  rope.rotaryDim = spec.ropeDim;

  Value q = mb.splitHeads(mb.linear(qLatent, p + "wq_b", ix.heads * ix.headDim),
                          ix.heads);
  q = applyRope(mb, q, rope);
  Value k = mb.linear(x, p + "wk", ix.headDim);
  k = mb.layerNorm(k, mb.weight(p + "k_norm.weight", {ix.headDim}),
                   mb.weight(p + "k_norm.bias", {ix.headDim}), 1e-6);
  k = mb.mergeHeads(applyRope(mb, mb.splitHeads(k, 1), rope));

  auto cacheType =
      KeyCacheType::get(b.getContext(), ix.headDim, 0, mb.getCacheElementType());
  Value cache = mb.addState(cacheType, "indexer.key_cache");
  auto update = mb.create<KeyCacheUpdateOp>(
      SmallVector<Type>{cacheType, mb.activation({ix.headDim})}, cache, k,
      mb.getPositions());
  mb.setState(cache, update.getUpdated());

  Value weights = mb.linear(x, p + "weights_proj", ix.heads);
  double scale = 1.0 / std::sqrt(double(ix.heads) * double(ix.headDim));
  auto selected = RankedTensorType::get({kDyn, kDyn, ix.topK}, b.getI64Type());
  return mb.create<LightningIndexerOp>(
      selected, q, update.getKeys(), weights, mb.getPositions(),
      b.getI64IntegerAttr(ix.topK), b.getF64FloatAttr(scale),
      b.getI64IntegerAttr(1));
}

Value mlir::lm::buildMLA(ModelBuilder &mb, Value x, StringRef prefix,
                         const MLASpec &spec) {
  OpBuilder &b = mb.getBuilder();
  std::string p = prefix.str() + ".";
  const int64_t hidden = ModelBuilder::lastDim(x);
  const int64_t qkDim = spec.nopeDim + spec.ropeDim;

  Value qLatent, q;
  if (spec.qLoraRank > 0) {
    qLatent = mb.linear(x, p + "q_a_proj", spec.qLoraRank, spec.bias);
    qLatent = mb.rmsNorm(qLatent, p + "q_a_layernorm.weight", spec.latentEps);
    q = mb.linear(qLatent, p + "q_b_proj", spec.heads * qkDim);
  } else {
    q = mb.linear(x, p + "q_proj", spec.heads * qkDim);
  }
  q = mb.splitHeads(q, spec.heads);
  Value qNope = mb.slice(q, 0, spec.nopeDim);
  Value qRope = mb.slice(q, spec.nopeDim, spec.ropeDim);

  Value kv = mb.linear(x, p + "kv_a_proj_with_mqa",
                       spec.kvLoraRank + spec.ropeDim, spec.bias);
  Value latent = mb.rmsNorm(mb.slice(kv, 0, spec.kvLoraRank),
                            p + "kv_a_layernorm.weight", spec.latentEps);
  Value kRope = mb.slice(kv, spec.kvLoraRank, spec.ropeDim);
  if (spec.rope) {
    qRope = applyRope(mb, qRope, *spec.rope);
    kRope = mb.mergeHeads(applyRope(mb, mb.splitHeads(kRope, 1), *spec.rope));
  }

  auto cacheType = LatentCacheType::get(b.getContext(), spec.kvLoraRank,
                                        spec.ropeDim, mb.getCacheElementType());
  Value cache = mb.addState(cacheType, "latent_cache");
  auto update = mb.create<LatentCacheUpdateOp>(
      SmallVector<Type>{cacheType, mb.activation({spec.kvLoraRank}),
                mb.activation({spec.ropeDim})},
      cache, latent, kRope, mb.getPositions());
  mb.setState(cache, update.getUpdated());

  Value selected =
      spec.indexer ? buildIndexer(mb, x, qLatent, prefix, spec) : Value();
  Value kvB = mb.weight(p + "kv_b_proj.weight",
                        {spec.heads * (spec.nopeDim + spec.valueDim),
                         spec.kvLoraRank});
  double scale = spec.scale > 0 ? spec.scale : 1.0 / std::sqrt(double(qkDim));
  Value o = mb.create<MLAAttentionOp>(
      mb.activation({spec.heads, spec.valueDim}), qNope, qRope,
      update.getLatents(), update.getKeyRopes(), kvB, mb.getPositions(),
      selected, b.getF64FloatAttr(scale));
  return mb.linear(mb.mergeHeads(o), p + "o_proj", hidden, spec.bias);
}

//===----------------------------------------------------------------------===//
// Feed-forward networks
//===----------------------------------------------------------------------===//

Value mlir::lm::buildMLP(ModelBuilder &mb, Value x, StringRef prefix,
                         const MLPSpec &spec) {
  std::string p = prefix.str() + ".";
  const int64_t hidden = ModelBuilder::lastDim(x);
  Value up = mb.linear(x, p + spec.up, spec.intermediate, spec.bias);
  Value h;
  if (spec.ungated) {
    h = mb.activate(up, ActivationKind::relu2);
  } else {
    Value gate = mb.linear(x, p + spec.gate, spec.intermediate, spec.bias);
    h = mb.glu(gate, up, spec.kind, spec.alpha, spec.limit);
  }
  return mb.linear(h, p + spec.down, hidden, spec.bias);
}

/// The stacked `[E, 2I (or I), D]` and `[E, D, I]` expert weights, from
/// per-expert or fused checkpoint tensors.
static std::pair<Value, Value> expertWeights(ModelBuilder &mb, StringRef prefix,
                                             int64_t hidden,
                                             const ExpertsSpec &spec) {
  std::string p = prefix.str() + ".experts.";
  const int64_t e = spec.experts, i = spec.intermediate;
  const bool gated = spec.kind != ExpertKind::relu2;
  const int64_t rows = gated ? 2 * i : i;
  std::string fusedUp = p + (gated ? "gate_up_proj" : spec.up);

  ExpertLayout layout = spec.layout;
  if (mb.hasWeights())
    layout = !mb.hasTensor(fusedUp) ? ExpertLayout::PerExpert
             : spec.layout == ExpertLayout::FusedInOut
                 ? ExpertLayout::FusedInOut
                 : ExpertLayout::FusedOutIn;
  switch (layout) {
  case ExpertLayout::PerExpert: {
    SmallVector<std::string> upNames;
    if (gated)
      upNames.push_back(p + "{}." + spec.gate + ".weight");
    upNames.push_back(p + "{}." + spec.up + ".weight");
    SmallVector<int64_t> rowCounts(upNames.size(), i);
    Value gateUp = mb.stackedWeight(upNames, e, rowCounts, hidden);
    Value down =
        mb.stackedWeight({p + "{}." + spec.down + ".weight"}, e, {hidden}, i);
    return {gateUp, down};
  }
  case ExpertLayout::FusedOutIn:
    return {mb.weight(fusedUp, {e, rows, hidden}),
            mb.weight(p + "down_proj", {e, hidden, i})};
  case ExpertLayout::FusedInOut:
    return {mb.transpose(mb.weight(fusedUp, {e, hidden, rows}), {0, 2, 1}),
            mb.transpose(mb.weight(p + "down_proj", {e, i, hidden}),
                         {0, 2, 1})};
  }
  llvm_unreachable("unknown expert layout");
}

Value mlir::lm::buildMoE(ModelBuilder &mb, Value x, StringRef prefix,
                         const MoESpec &spec) {
  OpBuilder &b = mb.getBuilder();
  std::string p = prefix.str() + ".";
  const RouterSpec &r = spec.router;
  const ExpertsSpec &ex = spec.experts;
  const int64_t hidden = ModelBuilder::lastDim(x);

  Value logits = mb.linear(x, p + r.gate, ex.experts, r.logitBias);
  auto weightsType = mb.activation({r.topK});
  auto indicesType = RankedTensorType::get({kDyn, kDyn, r.topK}, b.getI64Type());
  Value weights, indices;
  auto scoring = ScoringKindAttr::get(b.getContext(), r.scoring);
  if (r.hashTable) {
    Value table = mb.indexWeight(p + *r.hashTable,
                            {mb.config.getPositive("vocab_size"), r.topK});
    auto op = mb.create<HashRouterOp>(
        weightsType, indicesType, mb.getIds(), table, logits, scoring,
        r.normalize ? b.getUnitAttr() : UnitAttr(),
        b.getF64FloatAttr(r.routedScaling));
    weights = op.getWeights();
    indices = op.getIndices();
  } else {
    Value bias = r.correctionBias
                     ? mb.weight(p + *r.correctionBias, {ex.experts})
                     : Value();
    auto op = mb.create<RouterOp>(
        weightsType, indicesType, logits, bias, scoring,
        b.getI64IntegerAttr(r.topK), b.getI64IntegerAttr(r.groups),
        b.getI64IntegerAttr(r.topKGroups),
        r.normalize ? b.getUnitAttr() : UnitAttr(),
        b.getF64FloatAttr(r.normalizeEpsilon),
        b.getF64FloatAttr(r.routedScaling));
    weights = op.getWeights();
    indices = op.getIndices();
  }

  auto [gateUp, down] = expertWeights(mb, prefix, hidden, ex);
  Value gateUpBias, downBias;
  if (ex.biases) {
    const int64_t rows = ModelBuilder::dim(gateUp, 1);
    gateUpBias = mb.weight(p + "experts.gate_up_proj_bias", {ex.experts, rows});
    downBias = mb.weight(p + "experts.down_proj_bias", {ex.experts, hidden});
  }
  Value y = mb.create<MoEExpertsOp>(
      x.getType(), x, weights, indices, gateUp, down, gateUpBias, downBias,
      ExpertKindAttr::get(b.getContext(), ex.kind),
      ex.alpha ? b.getF64FloatAttr(*ex.alpha) : FloatAttr(),
      ex.limit ? b.getF64FloatAttr(*ex.limit) : FloatAttr(),
      ex.interleavedGateUp ? b.getUnitAttr() : UnitAttr(),
      ex.scaleInput ? b.getUnitAttr() : UnitAttr());

  if (spec.shared) {
    Value shared = buildMLP(mb, x, p + spec.sharedName, *spec.shared);
    if (spec.sharedGate)
      shared = mb.gate(shared, mb.linear(x, p + *spec.sharedGate, 1),
                       ActivationKind::sigmoid);
    y = mb.add(y, shared);
  }
  return y;
}

//===----------------------------------------------------------------------===//
// Recurrent mixers
//===----------------------------------------------------------------------===//

/// A causal depthwise conv over `x` with its own carried state.
static Value shortConv(ModelBuilder &mb, Value x, Value weight, Value bias,
                       StringRef role = "conv_state") {
  OpBuilder &b = mb.getBuilder();
  const int64_t channels = ModelBuilder::lastDim(x);
  const int64_t kernel = ModelBuilder::dim(weight, 2);
  auto stateType = RecurrentStateType::get(
      b.getContext(), {channels, std::max<int64_t>(kernel - 1, 1)}, mb.f32());
  Value state = mb.addState(stateType, role);
  auto conv = mb.create<CausalConv1dOp>(
      SmallVector<Type>{x.getType(), stateType}, x, weight, bias, state,
      /*lengths=*/Value(),
      ActivationKindAttr::get(b.getContext(), ActivationKind::silu));
  mb.setState(state, conv.getUpdated());
  return conv.getResult();
}

/// The delta-rule recurrence and its state.
static Value deltaRule(ModelBuilder &mb, Value q, Value k, Value v, Value g,
                       Value beta, double scale) {
  OpBuilder &b = mb.getBuilder();
  auto stateType = RecurrentStateType::get(
      b.getContext(),
      {ModelBuilder::dim(v, 2), ModelBuilder::dim(q, 3), ModelBuilder::dim(v, 3)},
      mb.f32());
  Value state = mb.addState(stateType, "recurrent_state");
  auto rule = mb.create<GatedDeltaRuleOp>(
      SmallVector<Type>{v.getType(), stateType}, q, k, v, g, beta, state,
      /*lengths=*/Value(), b.getF64FloatAttr(scale));
  mb.setState(state, rule.getUpdated());
  return rule.getResult();
}

Value mlir::lm::buildGatedDeltaNet(ModelBuilder &mb, Value x, StringRef prefix,
                                   const GatedDeltaNetSpec &spec) {
  OpBuilder &b = mb.getBuilder();
  std::string p = prefix.str() + ".";
  const int64_t hk = spec.keyHeads, hv = spec.valueHeads;
  const int64_t dk = spec.keyDim, dv = spec.valueDim;
  if (hk <= 0 || hv % hk != 0)
    mb.config.error("linear_num_value_heads",
                    "expected a multiple of linear_num_key_heads (" +
                        Twine(hk) + "), got " + Twine(hv));
  const int64_t r = hk > 0 ? hv / hk : 1;
  const int64_t keyDim = hk * dk, valueDim = hv * dv;
  const int64_t hidden = ModelBuilder::lastDim(x);

  // in_proj_qkvz is grouped by key head: [q | k | v (r heads) | z (r heads)].
  Value qkvz = mb.splitHeads(
      mb.linear(x, p + "in_proj_qkvz", 2 * keyDim + 2 * valueDim), hk);
  Value q = mb.mergeHeads(mb.slice(qkvz, 0, dk));
  Value k = mb.mergeHeads(mb.slice(qkvz, dk, dk));
  Value v = mb.mergeHeads(mb.slice(qkvz, 2 * dk, r * dv));
  Value z = mb.splitHeads(mb.mergeHeads(mb.slice(qkvz, 2 * dk + r * dv, r * dv)),
                          hv);
  Value ba = mb.splitHeads(mb.linear(x, p + "in_proj_ba", 2 * hv), hk);
  Value betaLogits = mb.mergeHeads(mb.slice(ba, 0, r));
  Value a = mb.mergeHeads(mb.slice(ba, r, r));

  Value mixed = mb.concat({q, k, v});
  const int64_t channels = 2 * keyDim + valueDim;
  mixed = shortConv(mb, mixed,
                    mb.weight(p + "conv1d.weight", {channels, 1, spec.kernel}),
                    Value());
  q = mb.l2Norm(mb.splitHeads(mb.slice(mixed, 0, keyDim), hk), 1e-6);
  k = mb.l2Norm(mb.splitHeads(mb.slice(mixed, keyDim, keyDim), hk), 1e-6);
  v = mb.splitHeads(mb.slice(mixed, 2 * keyDim, valueDim), hv);

  Value beta = mb.activate(betaLogits, ActivationKind::sigmoid);
  Value g = mb.create<DecayGateOp>(a.getType(), a, mb.weight(p + "A_log", {hv}),
                                   mb.weight(p + "dt_bias", {hv}));
  Value o = deltaRule(mb, q, k, v, g, beta, 1.0 / std::sqrt(double(dk)));
  Value n = mb.create<GatedRMSNormOp>(
      o.getType(), o, z, mb.weight(p + "norm.weight", {dv}),
      b.getF64FloatAttr(spec.normEps), b.getI64IntegerAttr(0),
      b.getUnitAttr(),
      ActivationKindAttr::get(b.getContext(), ActivationKind::silu));
  return mb.linear(mb.mergeHeads(n), p + "out_proj", hidden);
}

Value mlir::lm::buildKimiDeltaAttention(ModelBuilder &mb, Value x,
                                        StringRef prefix,
                                        const GatedDeltaNetSpec &spec) {
  OpBuilder &b = mb.getBuilder();
  std::string p = prefix.str() + ".";
  const int64_t h = spec.keyHeads, dk = spec.keyDim, dv = spec.valueDim;
  const int64_t width = h * dk, hidden = ModelBuilder::lastDim(x);
  auto projectConv = [&](StringRef name, int64_t channels) {
    Value y = mb.linear(x, p + name + "_proj", channels);
    return shortConv(mb, y,
                     mb.weight(p + name + "_conv1d.weight",
                               {channels, 1, spec.kernel}),
                     Value(), (name + "_conv_state").str());
  };
  Value q = mb.l2Norm(mb.splitHeads(projectConv("q", width), h), 1e-6);
  Value k = mb.l2Norm(mb.splitHeads(projectConv("k", width), h), 1e-6);
  Value v = mb.splitHeads(projectConv("v", h * dv), h);

  Value a = mb.splitHeads(
      mb.linear(mb.linear(x, p + "f_a_proj", dk), p + "f_b_proj", width), h);
  Value g = mb.create<DecayGateOp>(a.getType(), a,
                                   mb.weight(p + "A_log", {1, 1, h, 1}),
                                   mb.weight(p + "dt_bias", {width}));
  Value beta = mb.activate(mb.linear(x, p + "b_proj", h), ActivationKind::sigmoid);
  Value o = deltaRule(mb, q, k, v, g, beta, 1.0 / std::sqrt(double(dk)));
  Value gate = mb.splitHeads(
      mb.linear(mb.linear(x, p + "g_a_proj", dk), p + "g_b_proj", h * dv), h);
  Value n = mb.create<GatedRMSNormOp>(
      o.getType(), o, gate, mb.weight(p + "o_norm.weight", {dv}),
      b.getF64FloatAttr(spec.normEps), b.getI64IntegerAttr(0),
      b.getUnitAttr(),
      ActivationKindAttr::get(b.getContext(), ActivationKind::sigmoid));
  return mb.linear(mb.mergeHeads(n), p + "o_proj", hidden);
}

Value mlir::lm::buildMamba2(ModelBuilder &mb, Value x, StringRef prefix,
                            const Mamba2Spec &spec) {
  OpBuilder &b = mb.getBuilder();
  std::string p = prefix.str() + ".";
  const int64_t heads = spec.heads, inner = spec.heads * spec.headDim;
  const int64_t groupWidth = spec.groups * spec.stateDim;
  const int64_t convDim = inner + 2 * groupWidth;
  const int64_t hidden = ModelBuilder::lastDim(x);

  // in_proj rows: z | x | B | C | dt.
  Value zxbcdt = mb.linear(x, p + "in_proj", inner + convDim + heads,
                           spec.projBias);
  Value z = mb.slice(zxbcdt, 0, inner);
  Value xbc = mb.slice(zxbcdt, inner, convDim);
  Value dt = mb.slice(zxbcdt, inner + convDim, heads);
  Value convBias =
      spec.convBias ? mb.weight(p + "conv1d.bias", {convDim}) : Value();
  xbc = shortConv(mb, xbc,
                  mb.weight(p + "conv1d.weight", {convDim, 1, spec.kernel}),
                  convBias);
  Value xs = mb.splitHeads(mb.slice(xbc, 0, inner), heads);
  Value bMat = mb.splitHeads(mb.slice(xbc, inner, groupWidth), spec.groups);
  Value cMat =
      mb.splitHeads(mb.slice(xbc, inner + groupWidth, groupWidth), spec.groups);

  auto stateType = RecurrentStateType::get(
      b.getContext(), {heads, spec.headDim, spec.stateDim}, mb.f32());
  Value state = mb.addState(stateType, "ssm_state");
  auto scan = mb.create<SelectiveScanOp>(
      SmallVector<Type>{xs.getType(), stateType}, xs, dt,
      mb.weight(p + "dt_bias", {heads}), mb.weight(p + "A_log", {heads}), bMat,
      cMat, mb.weight(p + "D", {heads}), state, /*lengths=*/Value(),
      b.getF64FloatAttr(spec.dtMin),
      spec.dtMax ? b.getF64FloatAttr(*spec.dtMax) : FloatAttr());
  mb.setState(state, scan.getUpdated());

  Value y = mb.mergeHeads(scan.getResult());
  y = mb.create<GatedRMSNormOp>(
      y.getType(), y, z, mb.weight(p + "norm.weight", {inner}),
      b.getF64FloatAttr(spec.normEps),
      b.getI64IntegerAttr(spec.groups > 0 ? inner / spec.groups : 0),
      UnitAttr(), ActivationKindAttr::get(b.getContext(), ActivationKind::silu));
  return mb.linear(y, p + "out_proj", hidden, spec.projBias);
}
