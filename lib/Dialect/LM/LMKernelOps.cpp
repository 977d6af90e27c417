//===- LMKernelOps.cpp - Kernel choices: verifiers, effects, bufferization ===//
//
// Kernel ops are destination-style: on tensors they return their inits, on
// memrefs (after one-shot bufferization) they read their inputs and write
// every element of their inits.
//
//===----------------------------------------------------------------------===//

#include "lmc/Dialect/LM/LMOps.h"

#include "ShapeChecker.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::lm;
using lm::detail::ShapeChecker;

namespace {
/// Whether every shaped operand of `op` is a tensor, or every one a memref.
LogicalResult verifyOneForm(Operation *op) {
  bool tensors = false, memrefs = false;
  for (Type type : op->getOperandTypes()) {
    tensors |= isa<RankedTensorType>(type);
    memrefs |= isa<MemRefType>(type);
  }
  if (tensors && memrefs)
    return op->emitOpError("expected all operands to be tensors or all to be "
                           "memrefs");
  return success();
}

/// An RMS-norm prologue's attributes (lm.streamed_linear,
/// lm.streamed_experts): `epsilon` exactly with a norm weight, not
/// negative; a weight offset only with one.
LogicalResult verifyNormPrologue(Operation *op, Value normWeight,
                                 std::optional<APFloat> epsilon,
                                 const APFloat &weightOffset) {
  if (bool(normWeight) != bool(epsilon))
    return op->emitOpError("expected 'epsilon' exactly when there is a "
                           "'norm_weight'");
  if (epsilon && epsilon->convertToDouble() < 0)
    return op->emitOpError("expected a non-negative 'epsilon', got ")
           << epsilon->convertToDouble();
  if (!normWeight && !weightOffset.isZero())
    return op->emitOpError(
        "expected no 'weight_offset' without a 'norm_weight'");
  return success();
}
} // namespace

//===----------------------------------------------------------------------===//
// FlashDecodeOp, FlashAttentionOp
//===----------------------------------------------------------------------===//

namespace {
Type elementOf(Type type) { return cast<ShapedType>(type).getElementType(); }

/// What the attention templates check alike: lm.attention's operands and
/// attributes, static heads and head dims (the templates specialise to
/// them), an f32 or bf16 init [B, T, H, Dv], and their warps.
template <typename KernelOp>
LogicalResult verifyAttentionKernel(KernelOp op, const ShapeChecker &check) {
  if (failed(verifyOneForm(op)))
    return failure();
  Type q = op.getQuery().getType(), k = op.getKey().getType(),
       v = op.getValue().getType(), pos = op.getPositions().getType();
  if (failed(lm::detail::verifyAttentionOperands(check, q, k, v)) ||
      failed(check.shape("positions", pos,
                         {ShapeChecker::size(q, 0), ShapeChecker::size(q, 1)},
                         {"batch", "tokens"})))
    return failure();
  int64_t heads = ShapeChecker::size(q, 2), kvHeads = ShapeChecker::size(k, 2);
  int64_t headDim = ShapeChecker::size(q, 3),
          valueDim = ShapeChecker::size(v, 3);
  for (int64_t size : {heads, kvHeads, headDim, valueDim})
    if (ShapedType::isDynamic(size) || size <= 0)
      return op.emitOpError("expected static, positive heads, kv heads and "
                            "head dims, got ")
             << q << ", " << k << " and " << v;
  if (heads % kvHeads != 0)
    return op.emitOpError("expected the ")
           << heads << " query heads to be a multiple of the " << kvHeads
           << " kv heads";
  if (!elementOf(pos).isSignlessInteger(64))
    return op.emitOpError("expected i64 'positions', got ") << pos;
  for (auto [name, type] :
       {std::pair<StringRef, Type>{"query", q}, {"key", k}, {"value", v}})
    if (!isa<FloatType>(elementOf(type)))
      return op.emitOpError("expected float '") << name << "', got " << type;
  if (Value sinks = op.getSinks()) {
    if (failed(check.shape("sinks", sinks.getType(), {heads}, {"heads"})))
      return failure();
    if (!isa<FloatType>(elementOf(sinks.getType())))
      return op.emitOpError("expected float 'sinks', got ") << sinks.getType();
  }
  Type init = op.getInit().getType();
  if (failed(check.shape(
          "init", init,
          {ShapeChecker::size(q, 0), ShapeChecker::size(q, 1), heads, valueDim},
          {"batch", "tokens", "heads", "value dim"})))
    return failure();
  if (!elementOf(init).isF32() && !elementOf(init).isBF16())
    return op.emitOpError("expected an f32 or bf16 'init', got ") << init;
  if (failed(lm::detail::verifyAttentionAttributes(
          op, check, op.getSlidingWindow(), op.getChunkSize(), op.getSoftcap(),
          op.getScale())))
    return failure();
  int64_t warps = static_cast<int64_t>(op.getWarps());
  if (warps < 1 || warps > 32)
    return op.emitOpError("expected 1 to 32 'warps', got ") << warps;
  return success();
}

/// Query heads per kv head of an attention kernel op (verified static).
template <typename KernelOp> int64_t groupSize(KernelOp op) {
  return ShapeChecker::size(op.getQuery().getType(), 2) /
         ShapeChecker::size(op.getKey().getType(), 2);
}
} // namespace

int64_t FlashDecodeOp::getGroupSize() { return groupSize(*this); }

LogicalResult FlashDecodeOp::verify() {
  ShapeChecker check(*this);
  if (failed(verifyAttentionKernel(*this, check)) ||
      failed(check.dim("query", getQuery().getType(), 1, 1, "tokens")))
    return failure();
  Type q = getQuery().getType(), partials = getPartials().getType();
  int64_t valueDim = ShapeChecker::size(getValue().getType(), 3);
  if (failed(check.shape("partials", partials,
                         {ShapeChecker::size(q, 0), ShapeChecker::size(q, 2),
                          ShapedType::kDynamic, valueDim + 2},
                         {"batch", "heads", "splits", "value dim + 2"})))
    return failure();
  if (!elementOf(partials).isF32())
    return emitOpError("expected f32 'partials', got ") << partials;
  return success();
}

LogicalResult FlashMLADecodeOp::verify() {
  if (failed(verifyOneForm(*this)))
    return failure();
  ShapeChecker check(*this);
  Type qn = getQueryNope().getType(), qr = getQueryRope().getType(),
       lat = getLatent().getType(), kr = getKeyRope().getType(),
       kvb = getKvB().getType(), pos = getPositions().getType(),
       ql = getQueryLatent().getType(), partials = getPartials().getType(),
       init = getInit().getType();
  if (failed(check.rank("query_nope", qn, 4)) ||
      failed(check.rank("latent", lat, 3)) ||
      failed(check.rank("key_rope", kr, 3)) ||
      failed(check.rank("kv_b", kvb, 2)) || failed(check.rank("init", init, 4)))
    return failure();
  int64_t batch = ShapeChecker::size(qn, 0), heads = ShapeChecker::size(qn, 2),
          nopeDim = ShapeChecker::size(qn, 3),
          latentDim = ShapeChecker::size(lat, 2),
          ropeDim = ShapeChecker::size(kr, 2),
          valueDim = ShapeChecker::size(init, 3);
  for (int64_t size : {heads, nopeDim, latentDim, ropeDim, valueDim})
    if (ShapedType::isDynamic(size) || size <= 0)
      return emitOpError("expected static, positive heads, nope, latent, "
                         "rope and value dims, got ")
             << qn << ", " << lat << ", " << kr << " and " << init;
  // The templates specialise to the projection's shape.
  if (!cast<ShapedType>(kvb).hasStaticShape())
    return emitOpError("expected a static 'kv_b', got ") << kvb;
  if (failed(check.dim("query_nope", qn, 1, 1, "tokens")) ||
      failed(check.shape("query_rope", qr, {batch, 1, heads, ropeDim},
                         {"batch", "tokens", "heads", "rope dim"})) ||
      failed(check.shape("latent", lat,
                         {batch, ShapedType::kDynamic, latentDim},
                         {"batch", "keys", "latent dim"})) ||
      failed(check.sameDim("key_rope", kr, 0, "latent", lat, 0, "batch")) ||
      failed(check.sameDim("key_rope", kr, 1, "latent", lat, 1, "keys")) ||
      failed(check.shape("kv_b", kvb, {heads * (nopeDim + valueDim), latentDim},
                         {"heads x (nope + value dims)", "latent dim"})) ||
      failed(check.shape("positions", pos, {batch, 1}, {"batch", "tokens"})) ||
      failed(check.shape("query_latent", ql, {batch, 1, heads, latentDim},
                         {"batch", "tokens", "heads", "latent dim"})) ||
      failed(check.shape("partials", partials,
                         {batch, heads, ShapedType::kDynamic, latentDim + 2},
                         {"batch", "heads", "splits", "latent dim + 2"})) ||
      failed(check.shape("init", init, {batch, 1, heads, valueDim},
                         {"batch", "tokens", "heads", "value dim"})))
    return failure();
  for (auto [name, type] : {std::pair<StringRef, Type>{"query_nope", qn},
                            {"query_rope", qr},
                            {"latent", lat},
                            {"key_rope", kr},
                            {"kv_b", kvb}})
    if (!isa<FloatType>(elementOf(type)))
      return emitOpError("expected float '") << name << "', got " << type;
  if (!elementOf(pos).isSignlessInteger(64))
    return emitOpError("expected i64 'positions', got ") << pos;
  for (auto [name, type] :
       {std::pair<StringRef, Type>{"query_latent", ql}, {"partials", partials}})
    if (!elementOf(type).isF32())
      return emitOpError("expected f32 '") << name << "', got " << type;
  // A bf16 init receives the output rounded (o_proj's input).
  if (!elementOf(init).isF32() && !elementOf(init).isBF16())
    return emitOpError("expected an f32 or bf16 'init', got ") << init;
  if (failed(check.positive("scale", getScale().convertToDouble())))
    return failure();
  int64_t warps = static_cast<int64_t>(getWarps());
  if (warps < 1 || warps > 32)
    return emitOpError("expected 1 to 32 'warps', got ") << warps;
  int64_t tile = static_cast<int64_t>(getHeadTile());
  if (tile < 1 || heads % tile != 0)
    return emitOpError("expected 'head_tile' to divide the ")
           << heads << " heads, got " << tile;
  return success();
}

int64_t FlashAttentionOp::getGroupSize() { return groupSize(*this); }

LogicalResult FlashAttentionOp::verify() {
  return verifyAttentionKernel(*this, ShapeChecker(*this));
}

//===----------------------------------------------------------------------===//
// StreamedLinearOp, TiledLinearOp
//===----------------------------------------------------------------------===//

namespace {
/// What the projection templates check alike: lm.linear's operands (a
/// float `input` [rows..., K], a static f32 or bf16 `weight` [N, K] (the
/// templates specialise to its shape), an f32 or bf16 `init`
/// [rows..., N], float biases [N]) and the epilogue (a GLU exactly with an
/// `up_weight` of the weight's type, or a residual added into an f32
/// init).
template <typename KernelOp>
LogicalResult verifyLinearKernel(KernelOp op, const ShapeChecker &check) {
  if (failed(verifyOneForm(op)))
    return failure();
  Type in = op.getInput().getType(), w = op.getWeight().getType(),
       init = op.getInit().getType();
  int64_t rank = cast<ShapedType>(in).getRank();
  if (rank < 2)
    return op.emitOpError("expected 'input' of rank >= 2, got ") << in;
  if (failed(check.rank("weight", w, 2)))
    return failure();
  if (!cast<ShapedType>(w).hasStaticShape())
    return op.emitOpError("expected a static 'weight', got ") << w;
  int64_t n = ShapeChecker::size(w, 0), k = ShapeChecker::size(w, 1);
  if (failed(check.dim("input", in, -1, k, "in features")) ||
      failed(check.rank("init", init, rank)) ||
      failed(check.dim("init", init, -1, n, "out features")))
    return failure();
  for (int64_t i = 0; i + 1 < rank; ++i)
    if (failed(check.sameDim("init", init, i, "input", in, i, "leading")))
      return failure();
  Type weightElement = elementOf(w);
  if (!weightElement.isF32() && !weightElement.isBF16())
    return op.emitOpError("expected an f32 or bf16 'weight', got ") << w;
  if (!isa<FloatType>(elementOf(in)))
    return op.emitOpError("expected a float 'input', got ") << in;
  if (!elementOf(init).isF32() && !elementOf(init).isBF16())
    return op.emitOpError("expected an f32 or bf16 'init', got ") << init;
  for (auto [name, value] : {std::pair<StringRef, Value>{"bias", op.getBias()},
                             {"up_bias", op.getUpBias()}}) {
    if (!value)
      continue;
    if (failed(check.shape(name, value.getType(), {n}, {"out features"})))
      return failure();
    if (!isa<FloatType>(elementOf(value.getType())))
      return op.emitOpError("expected a float '")
             << name << "', got " << value.getType();
  }

  // Epilogues: a GLU of the two projections, or a residual add.
  Value upWeight = op.getUpWeight();
  if (upWeight && upWeight.getType() != w)
    return op.emitOpError("expected 'up_weight' of the weight's type ")
           << w << ", got " << upWeight.getType();
  if (op.getUpBias() && !upWeight)
    return op.emitOpError("expected no 'up_bias' without an 'up_weight'");
  std::optional<GluKind> glu = op.getGlu();
  if (bool(upWeight) != glu.has_value())
    return op.emitOpError("expected a 'glu' kind exactly when there is an "
                          "'up_weight'");
  if (glu) {
    if (failed(lm::detail::verifyGluConstants(op, *glu, op.getAlpha(),
                                              op.getLimit())))
      return failure();
  } else if (op.getAlpha() || op.getLimit()) {
    return op.emitOpError("expected no 'alpha' or 'limit' without a 'glu'");
  }
  if (op.getAccumulate() && upWeight)
    return op.emitOpError("expected 'accumulate' or an 'up_weight', not both");
  if (op.getAccumulate() && !elementOf(init).isF32())
    return op.emitOpError("expected an f32 'init' to accumulate into, got ")
           << init;
  return success();
}
} // namespace

LogicalResult StreamedLinearOp::verify() {
  ShapeChecker check(*this);
  if (failed(verifyLinearKernel(*this, check)))
    return failure();
  Value normWeight = getNormWeight();
  int64_t k = ShapeChecker::size(getWeight().getType(), 1);
  if (normWeight && failed(check.shape("norm_weight", normWeight.getType(), {k},
                                       {"in features"})))
    return failure();
  if (normWeight && !isa<FloatType>(elementOf(normWeight.getType())))
    return emitOpError("expected a float 'norm_weight', got ")
           << normWeight.getType();
  if (failed(verifyNormPrologue(*this, normWeight, getEpsilon(),
                                getWeightOffset())))
    return failure();
  int64_t warps = static_cast<int64_t>(getWarps()),
          rowGroup = static_cast<int64_t>(getRowGroup());
  if (warps < 1 || warps > 32)
    return emitOpError("expected 1 to 32 'warps', got ") << warps;
  if (rowGroup < 1 || rowGroup > warps)
    return emitOpError("expected 1 to 'warps' (")
           << warps << ") 'row_group', got " << rowGroup;
  return success();
}

LogicalResult TiledLinearOp::verify() {
  if (failed(verifyLinearKernel(*this, ShapeChecker(*this))))
    return failure();
  // wgmma multiplies bf16 as stored; the tensor maps take rows of a
  // multiple of 16 bytes.
  for (auto [name, type] :
       {std::pair<StringRef, Type>{"input", getInput().getType()},
        {"weight", getWeight().getType()}})
    if (!elementOf(type).isBF16())
      return emitOpError("expected a bf16 '") << name << "', got " << type;
  int64_t k = ShapeChecker::size(getWeight().getType(), 1);
  if (k % 8 != 0)
    return emitOpError("expected in features that are a multiple of 8 "
                       "(16-byte rows), got ")
           << k;
  return success();
}

bool StreamedLinearOp::stagesRows() {
  return getNormWeight() || getElementTypeOrSelf(getInput().getType()) !=
                                getElementTypeOrSelf(getWeight().getType());
}

//===----------------------------------------------------------------------===//
// StreamedExpertsOp
//===----------------------------------------------------------------------===//

namespace {
/// What the expert templates check alike: lm.moe_experts' operands and
/// attributes, static expert weights and top-k (the templates specialise
/// to them), f32 input and routing weights, i64 indices, an f32 init
/// [B, T, D], and weights of one of `weightTypes`.
template <typename KernelOp>
LogicalResult verifyExpertsKernel(KernelOp op, const ShapeChecker &check,
                                  StringRef weightTypes) {
  if (failed(verifyOneForm(op)))
    return failure();
  Type x = op.getInput().getType(), gu = op.getGateUp().getType(),
       down = op.getDown().getType(), init = op.getInit().getType();
  if (failed(lm::detail::verifyMoEExperts(
          op, check,
          {x, op.getWeights().getType(), op.getIndices().getType(), gu, down,
           op.getGateUpBias(), op.getDownBias(), op.getActivation(),
           op.getAlpha(), op.getLimit(), op.getInterleavedGateUp()})))
    return failure();
  for (auto [name, type] :
       {std::pair<StringRef, Type>{"gate_up", gu}, {"down", down}})
    if (!cast<ShapedType>(type).hasStaticShape())
      return op.emitOpError("expected a static '") << name << "', got " << type;
  if (ShapedType::isDynamic(op.getTopK()))
    return op.emitOpError("expected a static top_k in 'indices', got ")
           << op.getIndices().getType();
  Type weightElement = elementOf(gu);
  bool allowed = weightElement.isBF16() ||
                 (weightElement.isF32() && weightTypes.contains("f32"));
  if (!allowed || elementOf(down) != weightElement)
    return op.emitOpError("expected 'gate_up' and 'down' both ")
           << weightTypes << ", got " << gu << " and " << down;
  for (auto [name, type] : {std::pair<StringRef, Type>{"input", x},
                            {"weights", op.getWeights().getType()}})
    if (!elementOf(type).isF32())
      return op.emitOpError("expected f32 '") << name << "', got " << type;
  if (!elementOf(op.getIndices().getType()).isSignlessInteger(64))
    return op.emitOpError("expected i64 'indices', got ")
           << op.getIndices().getType();
  if (failed(check.shape("init", init,
                         {ShapeChecker::size(x, 0), ShapeChecker::size(x, 1),
                          ShapeChecker::size(x, 2)},
                         {"batch", "tokens", "hidden"})))
    return failure();
  if (!elementOf(init).isF32())
    return op.emitOpError("expected f32 'init', got ") << init;
  return success();
}
} // namespace

LogicalResult StreamedExpertsOp::verify() {
  ShapeChecker check(*this);
  if (failed(verifyExpertsKernel(*this, check, "f32 or both bf16")))
    return failure();
  Type x = getInput().getType(), hidden = getHidden().getType();
  if (failed(check.shape("hidden", hidden,
                         {ShapeChecker::size(x, 0), ShapeChecker::size(x, 1),
                          getTopK(), getExpertWidth()},
                         {"batch", "tokens", "top_k", "expert width"})))
    return failure();
  Type weightElement = elementOf(getGateUp().getType());
  if (elementOf(hidden) != weightElement)
    return emitOpError("expected 'hidden' of the weights' element type ")
           << weightElement << ", got " << hidden;
  Value normWeight = getNormWeight();
  if (normWeight) {
    if (failed(check.shape("norm_weight", normWeight.getType(),
                           {ShapeChecker::size(x, 2)}, {"hidden"})))
      return failure();
    if (!isa<FloatType>(elementOf(normWeight.getType())))
      return emitOpError("expected a float 'norm_weight', got ")
             << normWeight.getType();
  }
  if (failed(verifyNormPrologue(*this, normWeight, getEpsilon(),
                                getWeightOffset())))
    return failure();
  int64_t warps = static_cast<int64_t>(getWarps());
  if (warps < 1 || warps > 32)
    return emitOpError("expected 1 to 32 'warps', got ") << warps;
  return success();
}

bool StreamedExpertsOp::stagesRows() {
  return getNormWeight() || getScaleInput() ||
         !getElementTypeOrSelf(getGateUp().getType()).isF32();
}

//===----------------------------------------------------------------------===//
// GroupedExpertsOp
//===----------------------------------------------------------------------===//

LogicalResult GroupedExpertsOp::verify() {
  ShapeChecker check(*this);
  if (failed(verifyExpertsKernel(*this, check, "bf16")))
    return failure();
  Type x = getInput().getType();
  int64_t batch = ShapeChecker::size(x, 0), tokens = ShapeChecker::size(x, 1),
          d = ShapeChecker::size(x, 2), width = getExpertWidth(),
          topK = getTopK();
  int64_t experts = ShapeChecker::size(getGateUp().getType(), 0);
  // The GEMMs read rows, hidden and the weights through tensor maps, whose
  // rows are whole 16-byte units.
  for (auto [name, size] :
       {std::pair<StringRef, int64_t>{"hidden", d}, {"expert width", width}})
    if (ShapedType::isDynamic(size) || size % 8 != 0)
      return emitOpError("expected a static ")
             << name << " that is a multiple of 8 (16-byte rows), got " << size;
  Type order = getOrder().getType(), tiles = getTiles().getType();
  int64_t pairs = ShapedType::kDynamic;
  if (!ShapedType::isDynamic(batch) && !ShapedType::isDynamic(tokens))
    pairs = batch * tokens * topK;
  if (failed(check.shape("order", order, {pairs}, {"pairs"})) ||
      failed(check.rank("tiles", tiles, 2)) ||
      failed(check.dim("tiles", tiles, 1, 3, "[expert, first, end]")) ||
      failed(check.shape("slots", getSlots().getType(), {batch, tokens, topK},
                         {"batch", "tokens", "top_k"})) ||
      failed(check.shape("rows", getRows().getType(), {pairs, d},
                         {"pairs", "hidden"})) ||
      failed(check.shape("hidden", getHidden().getType(), {pairs, width},
                         {"pairs", "expert width"})) ||
      failed(check.shape("expert_out", getExpertOut().getType(), {pairs, d},
                         {"pairs", "hidden"})))
    return failure();
  for (auto [name, type] : {std::pair<StringRef, Type>{"order", order},
                            {"tiles", tiles},
                            {"slots", getSlots().getType()}})
    if (!elementOf(type).isSignlessInteger(32))
      return emitOpError("expected i32 '") << name << "', got " << type;
  for (auto [name, type] :
       {std::pair<StringRef, Type>{"rows", getRows().getType()},
        {"hidden", getHidden().getType()}})
    if (!elementOf(type).isBF16())
      return emitOpError("expected bf16 '") << name << "', got " << type;
  if (!elementOf(getExpertOut().getType()).isF32())
    return emitOpError("expected f32 'expert_out', got ")
           << getExpertOut().getType();
  int64_t tileCount = ShapeChecker::size(tiles, 0);
  if (!ShapedType::isDynamic(pairs) && !ShapedType::isDynamic(tileCount) &&
      tileCount < maxTiles(pairs, experts))
    return emitOpError("expected at least ")
           << maxTiles(pairs, experts)
           << " tiles (a partial one per expert chosen), got " << tileCount;
  return success();
}

//===----------------------------------------------------------------------===//
// What every kernel op shares
//===----------------------------------------------------------------------===//

void lm::detail::getKernelOpEffects(
    DestinationStyleOpInterface op, function_ref<bool(OpOperand &)> readsInit,
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    bool init = op.isDpsInit(&operand);
    if (!init || readsInit(operand))
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
    if (init)
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
  }
}

/// Inits are written whole (a kernel writes every element; an accumulating
/// one reads it first), inputs only read.
namespace {
/// Whether the template reads `operand` through a tensor map, which
/// describes buffers of the identity layout only.
bool needsIdentityLayout(Operation *op, OpOperand &operand) {
  if (auto tiled = dyn_cast<TiledLinearOp>(op))
    return tiled.needsIdentityLayout(operand);
  return false;
}

/// `buffer`, or a copy of it of the identity layout where it is a view.
FailureOr<Value>
withIdentityLayout(RewriterBase &rewriter, Location loc, Value buffer,
                   const bufferization::BufferizationOptions &options) {
  auto type = cast<MemRefType>(buffer.getType());
  if (type.getLayout().isIdentity())
    return buffer;
  auto identity =
      MemRefType::get(type.getShape(), type.getElementType(),
                      MemRefLayoutAttrInterface(), type.getMemorySpace());
  SmallVector<Value> sizes;
  for (auto [dim, size] : llvm::enumerate(type.getShape()))
    if (ShapedType::isDynamic(size))
      sizes.push_back(memref::DimOp::create(rewriter, loc, buffer, dim));
  FailureOr<Value> copy = options.createAlloc(rewriter, loc, identity, sizes);
  if (failed(copy) ||
      failed(options.createMemCpy(rewriter, loc, buffer, *copy)))
    return failure();
  return copy;
}
} // namespace

LogicalResult lm::detail::bufferizeKernelOp(
    DestinationStyleOpInterface op, RewriterBase &rewriter,
    const bufferization::BufferizationOptions &options,
    bufferization::BufferizationState &state) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  SmallVector<Value> operands, inits;
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<TensorType>(operand.get().getType())) {
      operands.push_back(operand.get());
      continue;
    }
    FailureOr<Value> buffer =
        bufferization::getBuffer(rewriter, operand.get(), options, state);
    if (failed(buffer))
      return failure();
    if (needsIdentityLayout(op, operand))
      buffer = withIdentityLayout(rewriter, op.getLoc(), *buffer, options);
    if (failed(buffer))
      return failure();
    operands.push_back(*buffer);
    if (op.isDpsInit(&operand))
      inits.push_back(*buffer);
  }
  OperationState bufferized(op.getLoc(), op->getName(), operands, TypeRange{},
                            op->getAttrs());
  rewriter.create(bufferized);
  bufferization::replaceOpWithBufferizedValues(rewriter, op, inits);
  return success();
}

//===----------------------------------------------------------------------===//
// WarpRouterOp
//===----------------------------------------------------------------------===//

LogicalResult WarpRouterOp::verify() {
  if (failed(verifyOneForm(*this)))
    return failure();
  Type logits = getLogits().getType();
  if (failed(detail::verifyRouter(*this, logits, getCorrectionBias(), getTopK(),
                                  getNumGroups(), getTopKGroups(),
                                  getWeightsInit().getType(),
                                  getIndicesInit().getType())))
    return failure();
  auto elementOf = [](Type t) { return cast<ShapedType>(t).getElementType(); };
  if (!elementOf(getWeightsInit().getType()).isF32())
    return emitOpError("expected f32 'weights_init', got ")
           << getWeightsInit().getType();
  if (!elementOf(getIndicesInit().getType()).isInteger(64))
    return emitOpError("expected i64 'indices_init', got ")
           << getIndicesInit().getType();
  int64_t experts = ShapeChecker::size(logits, 2);
  if (experts > kMaxExperts)
    return emitOpError("expected at most ")
           << kMaxExperts << " experts (eight per lane), got " << experts;
  return success();
}
