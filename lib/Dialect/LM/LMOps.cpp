//===- LMOps.cpp - Verifiers of the lm dialect's operations ---------------===//
//
// Every verifier names the operand at fault and the numbers involved. Dynamic
// dimensions (batch, tokens, cached sequence) are compatible with anything.
//
//===----------------------------------------------------------------------===//

#include "lmc/Dialect/LM/LMOps.h"

#include "ShapeChecker.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::lm;

#define GET_OP_CLASSES
#include "lmc/Dialect/LM/LMOps.cpp.inc"

namespace {
using lm::detail::ShapeChecker;
using lm::detail::verifyGluConstants;

constexpr int64_t kDyn = ShapedType::kDynamic;

/// Product of a size that may be dynamic.
int64_t mul(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) ? kDyn : a * b;
}
} // namespace

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

LogicalResult StackedWeightOp::verify() {
  int64_t count = static_cast<int64_t>(getCount());
  if (count <= 0)
    return emitOpError("expected a positive expert count, got ") << count;
  if (getPatterns().empty())
    return emitOpError("expected at least one name pattern");
  for (Attribute a : getPatterns())
    if (!cast<StringAttr>(a).getValue().contains("{}"))
      return emitOpError("expected name pattern '")
             << cast<StringAttr>(a).getValue()
             << "' to contain '{}' for the expert index";
  auto type = cast<RankedTensorType>(getType());
  if (!type.hasStaticShape())
    return emitOpError("expected a static shape, got ") << type;
  if (type.getRank() < 2)
    return emitOpError("expected a result of rank >= 2, got ") << type;
  return ShapeChecker(*this).dim("result", type, 0, count, "experts");
}

LogicalResult TransposeOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getType());
  ArrayRef<int64_t> perm = getPermutation();
  if (static_cast<int64_t>(perm.size()) != in.getRank())
    return emitOpError("expected a permutation of ")
           << in.getRank() << " dimensions, got " << perm.size();
  SmallVector<bool> seen(perm.size(), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= in.getRank() || seen[p])
      return emitOpError("expected 'permutation' to be a permutation of 0..")
             << in.getRank() - 1;
    seen[p] = true;
  }
  ShapeChecker check(*this);
  if (failed(check.rank("result", out, in.getRank())))
    return failure();
  for (auto [i, p] : llvm::enumerate(perm))
    if (failed(check.dim("result", out, i, in.getDimSize(p), "permuted")))
      return failure();
  return success();
}

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError("expected a non-empty weight name");
  if (!cast<RankedTensorType>(getType()).hasStaticShape())
    return emitOpError("expected weight '")
           << getName() << "' to have a static shape, got " << getType();
  return success();
}

//===----------------------------------------------------------------------===//
// Embedding and output
//===----------------------------------------------------------------------===//

LogicalResult EmbedOp::verify() {
  ShapeChecker check(*this);
  Type table = getTable().getType(), ids = getIds().getType();
  if (failed(check.rank("table", table, 2)) || failed(check.rank("ids", ids, 2)))
    return failure();
  return check.shape("result", getType(),
                     {check.size(ids, 0), check.size(ids, 1),
                      check.size(table, 1)},
                     {"batch", "tokens", "hidden"});
}

LogicalResult SelectRowsOp::verify() {
  ShapeChecker check(*this);
  Type input = getInput().getType(), rows = getRows().getType();
  if (failed(check.rank("input", input, 3)) ||
      failed(check.rank("rows", rows, 2)) ||
      failed(check.sameDim("rows", rows, 0, "input", input, 0, "batch")))
    return failure();
  if (getElementTypeOrSelf(getType()) != getElementTypeOrSelf(input))
    return emitOpError("expected the result's element type to be the "
                       "input's, got ")
           << getType();
  return check.shape(
      "result", getType(),
      {check.size(input, 0), check.size(rows, 1), check.size(input, 2)},
      {"batch", "rows", "hidden"});
}

LogicalResult SoftcapOp::verify() {
  return ShapeChecker(*this).positive("cap", getCap().convertToDouble());
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

/// A per-channel parameter of a norm: rank 1, the size of the last dim.
static LogicalResult verifyChannelParam(const ShapeChecker &check,
                                        StringRef name, Value param,
                                        Type input) {
  if (!param)
    return success();
  if (failed(check.rank(name, param.getType(), 1)))
    return failure();
  return check.dim(name, param.getType(), 0, ShapeChecker::size(input, -1),
                   "channels");
}

LogicalResult GatedRMSNormOp::verify() {
  ShapeChecker check(*this);
  Type in = getInput().getType();
  if (getGate().getType() != in)
    return emitOpError("expected 'gate' to have the input type ")
           << in << ", got " << getGate().getType();
  if (getType() != in)
    return emitOpError("expected the result to have the input type ") << in;
  if (failed(verifyChannelParam(check, "weight", getWeight(), in)))
    return failure();
  int64_t channels = ShapeChecker::size(in, -1), group = getGroupSize();
  if (group < 0 || (group > 0 && !ShapedType::isDynamic(channels) &&
                    channels % group != 0))
    return emitOpError("expected 'group_size' to divide the ")
           << channels << " channels, got " << group;
  return success();
}

LogicalResult LayerNormOp::verify() {
  ShapeChecker check(*this);
  Type in = getInput().getType();
  if (getType() != in)
    return emitOpError("expected the result to have the input type ") << in;
  if (failed(verifyChannelParam(check, "weight", getWeight(), in)) ||
      failed(verifyChannelParam(check, "bias", getBias(), in)))
    return failure();
  return success();
}

LogicalResult RMSNormOp::verify() {
  ShapeChecker check(*this);
  Type in = getInput().getType();
  if (getType() != in)
    return emitOpError("expected the result to have the input type ") << in;
  if (!getWeight() && getWeightOffset().convertToDouble() != 0.0)
    return emitOpError("expected a 'weight' with a non-zero 'weight_offset'");
  return verifyChannelParam(check, "weight", getWeight(), in);
}

//===----------------------------------------------------------------------===//
// Projections and shapes
//===----------------------------------------------------------------------===//

/// All dimensions but the last of `a` and `b` agree.
static LogicalResult verifyLeadingDims(const ShapeChecker &check,
                                       StringRef aName, Type a, StringRef bName,
                                       Type b) {
  int64_t rank = cast<RankedTensorType>(a).getRank();
  if (failed(check.rank(bName, b, rank)))
    return failure();
  for (int64_t i = 0; i + 1 < rank; ++i)
    if (failed(check.sameDim(bName, b, i, aName, a, i, "leading")))
      return failure();
  return success();
}

LogicalResult ConcatOp::verify() {
  ShapeChecker check(*this);
  if (getInputs().empty())
    return emitOpError("expected at least one input");
  Type first = getInputs().front().getType();
  int64_t total = 0;
  for (auto [i, v] : llvm::enumerate(getInputs())) {
    std::string name = "inputs #" + std::to_string(i);
    if (failed(verifyLeadingDims(check, "inputs #0", first, name, v.getType())))
      return failure();
    total = ShapedType::isDynamic(total)
                ? total
                : (ShapedType::isDynamic(ShapeChecker::size(v.getType(), -1))
                       ? kDyn
                       : total + ShapeChecker::size(v.getType(), -1));
  }
  if (failed(verifyLeadingDims(check, "inputs #0", first, "result", getType())))
    return failure();
  return check.dim("result", getType(), -1, total, "sum of input channels");
}

LogicalResult GroupedLinearOp::verify() {
  ShapeChecker check(*this);
  Type in = getInput().getType(), w = getWeight().getType();
  if (failed(check.rank("input", in, 4)) || failed(check.rank("weight", w, 2)) ||
      failed(check.sameDim("weight", w, 1, "input", in, 3, "in features")))
    return failure();
  int64_t groups = ShapeChecker::size(in, 2), rows = ShapeChecker::size(w, 0);
  if (ShapedType::isDynamic(groups) || ShapedType::isDynamic(rows))
    return emitOpError("expected static groups and weight rows");
  if (rows % groups != 0)
    return emitOpError("expected 'weight' rows (")
           << rows << ") to be a multiple of the " << groups << " groups";
  return check.shape("result", getType(),
                     {ShapeChecker::size(in, 0), ShapeChecker::size(in, 1),
                      groups, ShapedType::isDynamic(groups) ? kDyn : rows / groups},
                     {"batch", "tokens", "groups", "out features"});
}

LogicalResult LinearOp::verify() {
  ShapeChecker check(*this);
  Type in = getInput().getType(), w = getWeight().getType();
  if (cast<RankedTensorType>(in).getRank() < 2)
    return emitOpError("expected 'input' of rank >= 2");
  if (failed(check.rank("weight", w, 2)) ||
      failed(check.sameDim("weight", w, 1, "input", in, -1, "in features")) ||
      failed(verifyLeadingDims(check, "input", in, "result", getType())) ||
      failed(check.sameDim("result", getType(), -1, "weight", w, 0,
                           "out features")))
    return failure();
  if (Value b = getBias())
    if (failed(check.rank("bias", b.getType(), 1)) ||
        failed(check.sameDim("bias", b.getType(), 0, "weight", w, 0,
                             "out features")))
      return failure();
  return success();
}

LogicalResult MergeHeadsOp::verify() {
  ShapeChecker check(*this);
  Type in = getInput().getType();
  if (failed(check.rank("input", in, 4)))
    return failure();
  return check.shape("result", getType(),
                     {ShapeChecker::size(in, 0), ShapeChecker::size(in, 1),
                      mul(ShapeChecker::size(in, 2), ShapeChecker::size(in, 3))},
                     {"batch", "tokens", "heads x head dim"});
}

LogicalResult SliceOp::verify() {
  ShapeChecker check(*this);
  Type in = getInput().getType();
  int64_t channels = ShapeChecker::size(in, -1);
  int64_t offset = getOffset(), size = getSize();
  if (offset < 0 || size <= 0 ||
      (!ShapedType::isDynamic(channels) && offset + size > channels))
    return emitOpError("expected slice [")
           << offset << ", " << offset + size << ") to lie within the "
           << channels << " input channels";
  if (failed(verifyLeadingDims(check, "input", in, "result", getType())))
    return failure();
  return check.dim("result", getType(), -1, size, "slice size");
}

LogicalResult SplitHeadsOp::verify() {
  ShapeChecker check(*this);
  Type in = getInput().getType(), out = getType();
  if (failed(check.rank("input", in, 3)) || failed(check.rank("result", out, 4)))
    return failure();
  int64_t heads = ShapeChecker::size(out, 2), dim = ShapeChecker::size(out, 3);
  if (ShapedType::isDynamic(heads) || ShapedType::isDynamic(dim))
    return emitOpError("expected static heads and head dim, got ") << out;
  if (failed(check.sameDim("result", out, 0, "input", in, 0, "batch")) ||
      failed(check.sameDim("result", out, 1, "input", in, 1, "tokens")))
    return failure();
  return check.dim("input", in, 2, heads * dim, "heads x head dim");
}

//===----------------------------------------------------------------------===//
// Pointwise
//===----------------------------------------------------------------------===//

LogicalResult GateOp::verify() {
  ShapeChecker check(*this);
  Type in = getInput().getType(), gate = getGate().getType();
  if (getType() != in)
    return emitOpError("expected the result to have the input type ") << in;
  if (failed(verifyLeadingDims(check, "input", in, "gate", gate)))
    return failure();
  if (ShapeChecker::size(gate, -1) == 1)
    return success();
  return check.sameDim("gate", gate, -1, "input", in, -1,
                       "channels, or 1 to broadcast");
}

LogicalResult GluOp::verify() {
  return verifyGluConstants(*this, getKind(), getAlpha(), getLimit());
}

//===----------------------------------------------------------------------===//
// Positions
//===----------------------------------------------------------------------===//

/// `positions` is `[B, T]` matching the first two dims of `input`.
static LogicalResult verifyPositions(const ShapeChecker &check, Type input,
                                     Type positions) {
  if (failed(check.rank("positions", positions, 2)))
    return failure();
  return failure(
      failed(check.sameDim("positions", positions, 0, "input", input, 0,
                           "batch")) ||
      failed(check.sameDim("positions", positions, 1, "input", input, 1,
                           "tokens")));
}

LogicalResult AttentionTemperatureOp::verify() {
  ShapeChecker check(*this);
  if (failed(check.rank("input", getInput().getType(), 4)) ||
      failed(verifyPositions(check, getInput().getType(),
                             getPositions().getType())))
    return failure();
  return check.positive("floor_scale", getFloorScale().convertToDouble());
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::verify() {
  ShapeChecker check(*this);
  Type q = getQuery().getType(), k = getKey().getType(),
       v = getValue().getType();
  if (failed(lm::detail::verifyAttentionOperands(check, q, k, v)) ||
      failed(verifyPositions(check, q, getPositions().getType())))
    return failure();
  int64_t heads = ShapeChecker::size(q, 2), kvHeads = ShapeChecker::size(k, 2);
  if (!ShapedType::isDynamic(heads) && !ShapedType::isDynamic(kvHeads) &&
      (kvHeads <= 0 || heads % kvHeads != 0))
    return emitOpError("expected the ")
           << heads << " query heads to be a multiple of the " << kvHeads
           << " kv heads";
  if (Value sinks = getSinks())
    if (failed(check.shape("sinks", sinks.getType(), {heads}, {"heads"})))
      return failure();
  if (failed(lm::detail::verifyAttentionAttributes(
          *this, check, getSlidingWindow(), getChunkSize(), getSoftcap(),
          getScale())))
    return failure();
  return check.shape("result", getType(),
                     {ShapeChecker::size(q, 0), ShapeChecker::size(q, 1), heads,
                      ShapeChecker::size(v, 3)},
                     {"batch", "tokens", "heads", "value dim"});
}

LogicalResult LightningIndexerOp::verify() {
  ShapeChecker check(*this);
  Type q = getQuery().getType(), k = getKey().getType(),
       w = getHeadWeights().getType();
  if (failed(check.rank("query", q, 4)) || failed(check.rank("key", k, 3)) ||
      failed(verifyPositions(check, q, getPositions().getType())) ||
      failed(check.sameDim("key", k, 2, "query", q, 3, "index head dim")) ||
      failed(check.shape("head_weights", w,
                         {ShapeChecker::size(q, 0), ShapeChecker::size(q, 1),
                          ShapeChecker::size(q, 2)},
                         {"batch", "tokens", "index heads"})))
    return failure();
  int64_t topK = static_cast<int64_t>(getTopK());
  int64_t ratio = static_cast<int64_t>(getRatio());
  if (topK <= 0)
    return emitOpError("expected a positive 'top_k', got ") << topK;
  if (ratio <= 0)
    return emitOpError("expected a positive 'ratio', got ") << ratio;
  return check.shape("result", getType(),
                     {ShapeChecker::size(q, 0), ShapeChecker::size(q, 1),
                      topK},
                     {"batch", "tokens", "top_k"});
}

LogicalResult MLAAttentionOp::verify() {
  ShapeChecker check(*this);
  Type qn = getQueryNope().getType(), qr = getQueryRope().getType(),
       lat = getLatent().getType(), kr = getKeyRope().getType(),
       kvb = getKvB().getType();
  if (failed(check.rank("query_nope", qn, 4)) ||
      failed(check.rank("query_rope", qr, 4)) ||
      failed(check.rank("latent", lat, 3)) ||
      failed(check.rank("key_rope", kr, 3)) ||
      failed(check.rank("kv_b", kvb, 2)) ||
      failed(verifyPositions(check, qn, getPositions().getType())))
    return failure();
  if (failed(check.sameDim("query_rope", qr, 2, "query_nope", qn, 2, "heads")) ||
      failed(check.sameDim("key_rope", kr, 2, "query_rope", qr, 3, "rope dim")) ||
      failed(check.sameDim("key_rope", kr, 1, "latent", lat, 1, "keys")) ||
      failed(check.sameDim("kv_b", kvb, 1, "latent", lat, 2, "latent dim")))
    return failure();
  int64_t heads = ShapeChecker::size(qn, 2), nope = ShapeChecker::size(qn, 3);
  int64_t rows = ShapeChecker::size(kvb, 0);
  if (ShapedType::isDynamic(heads) || ShapedType::isDynamic(nope))
    return emitOpError("expected static heads and nope dim in 'query_nope'");
  if (heads <= 0 || rows % heads != 0 || rows / heads <= nope)
    return emitOpError("expected 'kv_b' rows (")
           << rows << ") to be heads (" << heads
           << ") x (nope dim " << nope << " + value dim)";
  if (Value sel = getSelected())
    if (failed(check.rank("selected", sel.getType(), 3)))
      return failure();
  return check.shape("result", getType(),
                     {ShapeChecker::size(qn, 0), ShapeChecker::size(qn, 1),
                      heads, rows / heads - nope},
                     {"batch", "tokens", "heads", "value dim"});
}

//===----------------------------------------------------------------------===//
// Inference state
//===----------------------------------------------------------------------===//

/// `name` is `[B, T, ...trailing]` with `positions` `[B, T]`, and the gathered
/// `all` result is `[B, S, ...trailing]`.
static LogicalResult verifyCachedTensor(const ShapeChecker &check,
                                        StringRef name, Type value,
                                        ArrayRef<int64_t> trailing,
                                        ArrayRef<StringRef> meanings,
                                        Type positions, StringRef allName,
                                        Type all) {
  SmallVector<int64_t> shape = {kDyn, kDyn};
  shape.append(trailing.begin(), trailing.end());
  SmallVector<StringRef> names = {"batch", "tokens"};
  names.append(meanings.begin(), meanings.end());
  if (failed(check.shape(name, value, shape, names)) ||
      failed(verifyPositions(check, value, positions)))
    return failure();
  names[1] = "cached positions";
  shape[0] = ShapeChecker::size(value, 0);
  return check.shape(allName, all, shape, names);
}

LogicalResult KeyCacheUpdateOp::verify() {
  ShapeChecker check(*this);
  KeyCacheType cache = getCache().getType();
  if (getUpdated().getType() != cache)
    return emitOpError("expected the updated cache to have type ") << cache;
  return verifyCachedTensor(check, "key", getKey().getType(), {cache.getDim()},
                            {"key dim"}, getPositions().getType(), "keys",
                            getKeys().getType());
}

LogicalResult KVCacheUpdateOp::verify() {
  ShapeChecker check(*this);
  KVCacheType cache = getCache().getType();
  if (getUpdated().getType() != cache)
    return emitOpError("expected the updated cache to have type ") << cache;
  Type pos = getPositions().getType();
  return failure(
      failed(verifyCachedTensor(check, "key", getKey().getType(),
                                {cache.getNumHeads(), cache.getKeyDim()},
                                {"kv heads", "key dim"}, pos, "keys",
                                getKeys().getType())) ||
      failed(verifyCachedTensor(check, "value", getValue().getType(),
                                {cache.getNumHeads(), cache.getValueDim()},
                                {"kv heads", "value dim"}, pos, "values",
                                getValues().getType())));
}

LogicalResult LatentCacheUpdateOp::verify() {
  ShapeChecker check(*this);
  LatentCacheType cache = getCache().getType();
  if (getUpdated().getType() != cache)
    return emitOpError("expected the updated cache to have type ") << cache;
  Type pos = getPositions().getType();
  return failure(
      failed(verifyCachedTensor(check, "latent", getLatent().getType(),
                                {cache.getLatentDim()}, {"latent dim"}, pos,
                                "latents", getLatents().getType())) ||
      failed(verifyCachedTensor(check, "key_rope", getKeyRope().getType(),
                                {cache.getRopeDim()}, {"rope dim"}, pos,
                                "key_ropes", getKeyRopes().getType())));
}

//===----------------------------------------------------------------------===//
// Recurrent mixers
//===----------------------------------------------------------------------===//

/// The updated state has the type of the incoming one.
static LogicalResult verifyStateThrough(Operation *op, Type in, Type out) {
  if (in == out)
    return success();
  return op->emitOpError("expected the updated state to have type ")
         << in << ", got " << out;
}

/// A ragged batch's `lengths`, if given, has one entry per sequence.
static LogicalResult verifyLengths(const ShapeChecker &check, Value lengths,
                                   int64_t batch) {
  if (!lengths)
    return success();
  return check.shape("lengths", lengths.getType(), {batch}, {"batch"});
}

/// `state` has exactly `shape`.
static LogicalResult verifyStateShape(Operation *op, RecurrentStateType state,
                                      ArrayRef<int64_t> shape,
                                      StringRef meaning) {
  if (state.getShape() == shape)
    return success();
  auto diag = op->emitOpError("expected 'state' of shape [");
  llvm::interleaveComma(shape, diag);
  diag << "] (" << meaning << "), got [";
  llvm::interleaveComma(state.getShape(), diag);
  return diag << "]";
}

LogicalResult CausalConv1dOp::verify() {
  ShapeChecker check(*this);
  Type in = getInput().getType(), w = getWeight().getType();
  if (failed(check.rank("input", in, 3)) || failed(check.rank("weight", w, 3)) ||
      failed(check.sameDim("weight", w, 0, "input", in, 2, "channels")) ||
      failed(check.dim("weight", w, 1, 1, "depthwise")))
    return failure();
  if (getType(0) != in)
    return emitOpError("expected the result to have the input type ") << in;
  if (Value b = getBias())
    if (failed(check.shape("bias", b.getType(), {ShapeChecker::size(w, 0)},
                           {"channels"})))
      return failure();
  int64_t kernel = ShapeChecker::size(w, 2);
  if (failed(verifyStateShape(*this, getState().getType(),
                              {ShapeChecker::size(w, 0), kernel - 1},
                              "channels, kernel - 1")))
    return failure();
  if (failed(verifyLengths(check, getLengths(), ShapeChecker::size(in, 0))))
    return failure();
  return verifyStateThrough(*this, getState().getType(), getUpdated().getType());
}

LogicalResult DecayGateOp::verify() {
  ShapeChecker check(*this);
  auto in = cast<RankedTensorType>(getInput().getType());
  if (in.getRank() != 3 && in.getRank() != 4)
    return emitOpError("expected 'input' of rank 3 (per head) or 4 (per "
                       "channel), got rank ")
           << in.getRank();
  if (getType() != in)
    return emitOpError("expected the result to have the input type ") << in;
  int64_t heads = in.getDimSize(2);
  int64_t perToken = in.getRank() == 4 ? mul(heads, in.getDimSize(3)) : heads;
  if (ShapedType::isDynamic(perToken))
    return emitOpError("expected static heads (and channels) in 'input'");
  auto numElements = [](Value v) -> int64_t {
    auto t = cast<RankedTensorType>(v.getType());
    return t.hasStaticShape() ? t.getNumElements() : kDyn;
  };
  if (numElements(getALog()) != heads)
    return emitOpError("expected 'a_log' to hold one value per head (")
           << heads << "), got " << numElements(getALog());
  if (numElements(getDtBias()) != perToken)
    return emitOpError("expected 'dt_bias' to hold ")
           << perToken << " values, got " << numElements(getDtBias());
  return success();
}

LogicalResult GatedDeltaRuleOp::verify() {
  ShapeChecker check(*this);
  Type q = getQuery().getType(), k = getKey().getType(),
       v = getValue().getType(), g = getLogDecay().getType(),
       beta = getBeta().getType();
  if (failed(check.rank("query", q, 4)) || failed(check.rank("value", v, 4)) ||
      failed(check.shape("key", k,
                         {ShapeChecker::size(q, 0), ShapeChecker::size(q, 1),
                          ShapeChecker::size(q, 2), ShapeChecker::size(q, 3)},
                         {"batch", "tokens", "key heads", "key dim"})) ||
      failed(check.sameDim("value", v, 0, "query", q, 0, "batch")) ||
      failed(check.sameDim("value", v, 1, "query", q, 1, "tokens")))
    return failure();
  int64_t kHeads = ShapeChecker::size(q, 2), vHeads = ShapeChecker::size(v, 2);
  int64_t kDim = ShapeChecker::size(q, 3), vDim = ShapeChecker::size(v, 3);
  if (kHeads <= 0 || vHeads % kHeads != 0)
    return emitOpError("expected the ")
           << vHeads << " value heads to be a multiple of the " << kHeads
           << " key heads";
  SmallVector<int64_t> decay = {ShapeChecker::size(v, 0),
                                ShapeChecker::size(v, 1), vHeads};
  if (cast<RankedTensorType>(g).getRank() == 4)
    decay.push_back(kDim);
  if (failed(check.shape("log_decay", g, decay,
                         {"batch", "tokens", "value heads", "key dim"})) ||
      failed(check.shape("beta", beta, ArrayRef(decay).take_front(3),
                         {"batch", "tokens", "value heads"})) ||
      failed(verifyStateShape(*this, getState().getType(), {vHeads, kDim, vDim},
                              "value heads, key dim, value dim")) ||
      failed(verifyStateThrough(*this, getState().getType(),
                                getUpdated().getType())) ||
      failed(verifyLengths(check, getLengths(), ShapeChecker::size(v, 0))))
    return failure();
  if (getType(0) != v)
    return emitOpError("expected the result to have the value type ") << v;
  return success();
}

LogicalResult SelectiveScanOp::verify() {
  ShapeChecker check(*this);
  Type x = getInput().getType(), b = getB().getType(), c = getC().getType();
  if (failed(check.rank("input", x, 4)) || failed(check.rank("b", b, 4)))
    return failure();
  int64_t batch = ShapeChecker::size(x, 0), tokens = ShapeChecker::size(x, 1);
  int64_t heads = ShapeChecker::size(x, 2), headDim = ShapeChecker::size(x, 3);
  int64_t groups = ShapeChecker::size(b, 2), stateDim = ShapeChecker::size(b, 3);
  if (groups <= 0 || heads % groups != 0)
    return emitOpError("expected the ")
           << heads << " heads to be a multiple of the " << groups << " groups";
  if (failed(check.shape("dt", getDt().getType(), {batch, tokens, heads},
                         {"batch", "tokens", "heads"})) ||
      failed(check.shape("b", b, {batch, tokens, groups, stateDim},
                         {"batch", "tokens", "groups", "state dim"})) ||
      failed(check.shape("c", c, {batch, tokens, groups, stateDim},
                         {"batch", "tokens", "groups", "state dim"})))
    return failure();
  for (auto [name, v] : {std::pair<StringRef, Value>{"dt_bias", getDtBias()},
                         {"a_log", getALog()},
                         {"d", getD()}})
    if (failed(check.shape(name, v.getType(), {heads}, {"heads"})))
      return failure();
  if (failed(verifyStateShape(*this, getState().getType(),
                              {heads, headDim, stateDim},
                              "heads, head dim, state dim")) ||
      failed(verifyStateThrough(*this, getState().getType(),
                                getUpdated().getType())) ||
      failed(verifyLengths(check, getLengths(), batch)))
    return failure();
  if (getType(0) != x)
    return emitOpError("expected the result to have the input type ") << x;
  return success();
}

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

/// Router results: weights `[B, T, k]` float and indices `[B, T, k]`.
static LogicalResult verifyRouting(const ShapeChecker &check, Type logits,
                                   int64_t topK, Type weights, Type indices) {
  SmallVector<int64_t> shape = {ShapeChecker::size(logits, 0),
                                ShapeChecker::size(logits, 1), topK};
  return failure(
      failed(check.shape("weights", weights, shape,
                         {"batch", "tokens", "top_k"})) ||
      failed(check.shape("indices", indices, shape,
                         {"batch", "tokens", "top_k"})));
}

LogicalResult HashRouterOp::verify() {
  ShapeChecker check(*this);
  Type ids = getIds().getType(), table = getTable().getType(),
       logits = getLogits().getType();
  if (failed(check.rank("ids", ids, 2)) || failed(check.rank("table", table, 2)) ||
      failed(check.rank("logits", logits, 3)) ||
      failed(check.sameDim("logits", logits, 0, "ids", ids, 0, "batch")) ||
      failed(check.sameDim("logits", logits, 1, "ids", ids, 1, "tokens")))
    return failure();
  return verifyRouting(check, logits, ShapeChecker::size(table, 1),
                       getWeights().getType(), getIndices().getType());
}

LogicalResult lm::detail::verifyMoEExperts(Operation *op,
                                           const ShapeChecker &check,
                                           const MoEExpertsOperands &operands) {
  Type x = operands.input, w = operands.weights, idx = operands.indices,
       gu = operands.gateUp, down = operands.down;
  if (failed(check.rank("input", x, 3)) || failed(check.rank("gate_up", gu, 3)) ||
      failed(check.rank("down", down, 3)) || failed(check.rank("weights", w, 3)))
    return failure();
  int64_t experts = ShapeChecker::size(gu, 0), hidden = ShapeChecker::size(x, 2);
  int64_t inner = ShapeChecker::size(down, 2);
  ExpertKind kind = operands.activation;
  bool gated = kind != ExpertKind::relu2;
  int64_t rows = gated ? mul(2, inner) : inner;
  if (failed(check.shape("indices", idx,
                         {ShapeChecker::size(x, 0), ShapeChecker::size(x, 1),
                          ShapeChecker::size(w, 2)},
                         {"batch", "tokens", "top_k"})) ||
      failed(check.shape("gate_up", gu, {experts, rows, hidden},
                         {"experts", gated ? "2 x expert width" : "expert width",
                          "hidden"})) ||
      failed(check.shape("down", down, {experts, hidden, inner},
                         {"experts", "hidden", "expert width"})))
    return failure();
  if (!ShapedType::isDynamic(ShapeChecker::size(w, 2)) &&
      ShapeChecker::size(w, 2) > experts)
    return op->emitOpError("expected top_k (")
           << ShapeChecker::size(w, 2) << ") to be at most the " << experts
           << " experts";
  Value guBias = operands.gateUpBias, downBias = operands.downBias;
  if (bool(guBias) != bool(downBias))
    return op->emitOpError(
        "expected both 'gate_up_bias' and 'down_bias' or neither");
  if (guBias &&
      (failed(check.shape("gate_up_bias", guBias.getType(), {experts, rows},
                          {"experts", "gate_up rows"})) ||
       failed(check.shape("down_bias", downBias.getType(), {experts, hidden},
                          {"experts", "hidden"}))))
    return failure();
  if (failed(verifyGluConstants(op, stringifyExpertKind(kind),
                                kind == ExpertKind::clamped_swiglu ||
                                    kind == ExpertKind::gpt_oss_swiglu,
                                kind == ExpertKind::gpt_oss_swiglu,
                                operands.alpha, operands.limit)))
    return failure();
  if (operands.interleavedGateUp && !gated)
    return op->emitOpError(
        "expected a gated activation with 'interleaved_gate_up'");
  return success();
}

LogicalResult MoEExpertsOp::verify() {
  Type x = getInput().getType();
  if (failed(lm::detail::verifyMoEExperts(
          *this, ShapeChecker(*this),
          {x, getWeights().getType(), getIndices().getType(),
           getGateUp().getType(), getDown().getType(), getGateUpBias(),
           getDownBias(), getActivation(), getAlpha(), getLimit(),
           getInterleavedGateUp()})))
    return failure();
  if (getType() != x)
    return emitOpError("expected the result to have the input type ") << x;
  return success();
}

LogicalResult lm::detail::verifyRouter(Operation *op, Type logits, Value bias,
                                       int64_t topK, int64_t groups,
                                       int64_t keep, Type weights,
                                       Type indices) {
  ShapeChecker check(op);
  if (failed(check.rank("logits", logits, 3)))
    return failure();
  int64_t experts = ShapeChecker::size(logits, 2);
  if (ShapedType::isDynamic(experts))
    return op->emitOpError("expected a static expert count in 'logits'");
  if (bias && failed(check.shape("correction_bias", bias.getType(), {experts},
                                 {"experts"})))
    return failure();
  if (topK <= 0 || topK > experts)
    return op->emitOpError("expected 'top_k' in [1, ")
           << experts << "], got " << topK;
  if (groups <= 0 || experts % groups != 0)
    return op->emitOpError("expected 'num_groups' to divide the ")
           << experts << " experts, got " << groups;
  if (keep <= 0 || keep > groups)
    return op->emitOpError("expected 'top_k_groups' in [1, ")
           << groups << "], got " << keep;
  if (topK > keep * (experts / groups))
    return op->emitOpError("expected 'top_k' (")
           << topK << ") to fit in the " << keep * (experts / groups)
           << " experts of the kept groups";
  return verifyRouting(check, logits, topK, weights, indices);
}

LogicalResult RouterOp::verify() {
  return detail::verifyRouter(*this, getLogits().getType(), getCorrectionBias(),
                              getTopK(), getNumGroups(), getTopKGroups(),
                              getWeights().getType(), getIndices().getType());
}

LogicalResult CompressedAttentionOp::verify() {
  ShapeChecker check(*this);
  Type q = getQuery().getType(), kv = getKv().getType();
  if (failed(check.rank("query", q, 4)) ||
      failed(verifyPositions(check, q, getPositions().getType())))
    return failure();
  int64_t batch = ShapeChecker::size(q, 0), dim = ShapeChecker::size(q, 3);
  if (failed(check.shape("kv", kv, {batch, kDyn, dim},
                         {"batch", "keys", "head dim"})) ||
      (getEntries() &&
       failed(check.shape("entries", getEntries().getType(), {batch, kDyn, dim},
                          {"batch", "entries", "head dim"}))) ||
      failed(check.shape("sinks", getSinks().getType(),
                         {ShapeChecker::size(q, 2)}, {"heads"})))
    return failure();
  if (Value sel = getSelected()) {
    if (!getEntries())
      return emitOpError("expected 'entries' to select from");
    if (failed(check.rank("selected", sel.getType(), 3)))
      return failure();
  }
  int64_t window = static_cast<int64_t>(getSlidingWindow());
  int64_t ratio = static_cast<int64_t>(getRatio());
  if (window <= 0 || ratio <= 0)
    return emitOpError("expected a positive 'sliding_window' and 'ratio', got ")
           << window << " and " << ratio;
  if (getEntries() && ratio < 2)
    return emitOpError("expected a 'ratio' of at least 2 with 'entries', got ")
           << ratio;
  if (Value sel = getSelected())
    if (failed(check.shape("selected", sel.getType(),
                           {batch, ShapeChecker::size(q, 1), kDyn},
                           {"batch", "tokens", "top_k"})))
      return failure();
  if (failed(check.positive("scale", getScale().convertToDouble())))
    return failure();
  if (getType() != q)
    return emitOpError("expected the result to have the query type ") << q;
  return success();
}

LogicalResult KVCompressOp::verify() {
  ShapeChecker check(*this);
  CompressedCacheType cache = getCache().getType();
  if (getUpdated().getType() != cache)
    return emitOpError("expected the updated cache to have type ") << cache;
  Type kv = getKv().getType();
  int64_t width = cache.getRowWidth();
  if (failed(check.shape("kv", kv, {kDyn, kDyn, width},
                         {"batch", "tokens", "row width"})) ||
      failed(verifyPositions(check, kv, getPositions().getType())) ||
      failed(check.shape("gate", getGate().getType(),
                         {ShapeChecker::size(kv, 0), ShapeChecker::size(kv, 1),
                          width},
                         {"batch", "tokens", "row width"})) ||
      failed(check.shape("ape", getApe().getType(), {cache.getRatio(), width},
                         {"ratio", "row width"})) ||
      failed(check.shape("entries", getEntries().getType(),
                         {ShapeChecker::size(kv, 0), kDyn, cache.getDim()},
                         {"batch", "entries", "dim"})))
    return failure();
  return check.shape("entry_positions", getEntryPositions().getType(),
                     {ShapeChecker::size(kv, 0),
                      ShapeChecker::size(getEntries().getType(), 1)},
                     {"batch", "entries"});
}

//===----------------------------------------------------------------------===//
// Hyper-connections
//===----------------------------------------------------------------------===//

/// The streams are `[B, T, N, D]`; `fn` is `[rows, N*D]`, `base` `[rows]`
/// and `scale` `[scales]`.
static LogicalResult verifyStreamMix(const ShapeChecker &check, Type streams,
                                     Type fn, Type base, Type scale,
                                     int64_t rows, int64_t scales) {
  if (failed(check.rank("streams", streams, 4)))
    return failure();
  int64_t flat = mul(ShapeChecker::size(streams, 2),
                     ShapeChecker::size(streams, 3));
  return failure(
      failed(check.shape("fn", fn, {rows, flat}, {"mix rows", "streams x hidden"})) ||
      failed(check.shape("base", base, {rows}, {"mix rows"})) ||
      failed(check.shape("scale", scale, {scales}, {"scales"})));
}

LogicalResult HCCollapseOp::verify() {
  ShapeChecker check(*this);
  Type x = getStreams().getType();
  if (failed(check.rank("streams", x, 4)))
    return failure();
  int64_t n = ShapeChecker::size(x, 2);
  if (failed(verifyStreamMix(check, x, getFn().getType(), getBase().getType(),
                             getScale().getType(), n, 1)))
    return failure();
  return check.shape("result", getType(),
                     {ShapeChecker::size(x, 0), ShapeChecker::size(x, 1),
                      ShapeChecker::size(x, 3)},
                     {"batch", "tokens", "hidden"});
}

LogicalResult HCExpandOp::verify() {
  ShapeChecker check(*this);
  Type in = getInput().getType(), out = getType();
  if (failed(check.rank("input", in, 3)) || failed(check.rank("result", out, 4)))
    return failure();
  if (ShapeChecker::size(out, 2) <= 0)
    return emitOpError("expected a static, positive stream count, got ") << out;
  return check.shape("result", out,
                     {ShapeChecker::size(in, 0), ShapeChecker::size(in, 1),
                      ShapeChecker::size(out, 2), ShapeChecker::size(in, 2)},
                     {"batch", "tokens", "streams", "hidden"});
}

LogicalResult HCPostOp::verify() {
  ShapeChecker check(*this);
  Type x = getStreams().getType();
  if (failed(check.rank("streams", x, 4)))
    return failure();
  int64_t b = ShapeChecker::size(x, 0), t = ShapeChecker::size(x, 1),
          n = ShapeChecker::size(x, 2), d = ShapeChecker::size(x, 3);
  if (failed(check.shape("output", getOutput().getType(), {b, t, d},
                         {"batch", "tokens", "hidden"})) ||
      failed(check.shape("post", getPost().getType(), {b, t, n},
                         {"batch", "tokens", "streams"})) ||
      failed(check.shape("comb", getComb().getType(), {b, t, n, n},
                         {"batch", "tokens", "streams", "streams"})))
    return failure();
  if (getType() != x)
    return emitOpError("expected the result to have the streams type ") << x;
  return success();
}

LogicalResult HCPreOp::verify() {
  ShapeChecker check(*this);
  Type x = getStreams().getType();
  if (failed(check.rank("streams", x, 4)))
    return failure();
  int64_t b = ShapeChecker::size(x, 0), t = ShapeChecker::size(x, 1),
          n = ShapeChecker::size(x, 2), d = ShapeChecker::size(x, 3);
  if (failed(verifyStreamMix(check, x, getFn().getType(), getBase().getType(),
                             getScale().getType(), mul(n + 2, n), 3)) ||
      failed(check.shape("input", getInput().getType(), {b, t, d},
                         {"batch", "tokens", "hidden"})) ||
      failed(check.shape("post", getPost().getType(), {b, t, n},
                         {"batch", "tokens", "streams"})))
    return failure();
  return check.shape("comb_logits", getCombLogits().getType(), {b, t, n, n},
                     {"batch", "tokens", "streams", "streams"});
}

LogicalResult SinkhornOp::verify() {
  auto t = cast<RankedTensorType>(getInput().getType());
  if (t.getRank() < 2 || t.getDimSize(t.getRank() - 1) != t.getDimSize(t.getRank() - 2))
    return emitOpError("expected square matrices in the last two dimensions, got ")
           << t;
  if (static_cast<int64_t>(getIterations()) <= 0)
    return emitOpError("expected a positive 'iterations', got ")
           << static_cast<int64_t>(getIterations());
  return success();
}
