//===- SelectKernels.cpp - GPU kernel templates chosen at the lm level ----===//
//
// The one home of the decision which lm op runs as which kernel template.
// It is made here, before lm-lower-to-linalg, because after it an attention
// is five generics that no longer say they are one. The phase is a host
// decision (the token count is only known per call), so a claimed op
// becomes a branch: the phase the template serves gets the kernel op, the
// other keeps the op for the generic path. A template that serves every
// phase (the warp router) replaces its op outright.
//
//===----------------------------------------------------------------------===//

#include "../LMToLinalg/Common.h"
#include "../MLAPromptForm.h"
#include "Kernels/Kernels.h"
#include "lmc/Codegen/GPU/TargetInfo.h"
#include "lmc/Codegen/Passes.h"
#include "lmc/Dialect/LM/LMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::lm {
#define GEN_PASS_DEF_SELECTGPUKERNELSPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
using namespace gpu_target;

/// Flash decoding's configuration. The constants are reasoned, not yet
/// timed (no GPU in the session that wrote them): 8 warps as every other
/// template; splits so the blocks cover the SMs four times over, but not
/// below 4 keys per warp, where a block's fixed work (its queries, the
/// combine of its warps) would outweigh its key reads.
struct FlashDecodeConfig {
  static constexpr int64_t kWarps = kWarpsPerBlock;
  static constexpr int64_t kBlocksPerSM = 4;
  static constexpr int64_t kMinKeysPerSplit = 4 * kWarps;
  /// A lane's registers for its group's queries and sums.
  static constexpr int64_t kMaxLaneValues = 128;

  /// Why the template cannot take `op`; nothing if it can.
  static std::optional<StringRef> refusal(AttentionOp op) {
    if (!cast<RankedTensorType>(op.getType()).getElementType().isF32())
      return StringRef("not an f32 result");
    auto q = cast<RankedTensorType>(op.getQuery().getType());
    auto k = cast<RankedTensorType>(op.getKey().getType());
    auto v = cast<RankedTensorType>(op.getValue().getType());
    int64_t heads = q.getDimSize(2), kvHeads = k.getDimSize(2);
    int64_t keyDim = q.getDimSize(3), valueDim = v.getDimSize(3);
    for (int64_t size : {heads, kvHeads, keyDim, valueDim})
      if (ShapedType::isDynamic(size))
        return StringRef("dynamic heads or head dims");
    gpu_mapping::FlashDecodeFootprint footprint{kWarps, heads / kvHeads, keyDim,
                                                valueDim};
    if (footprint.laneValues() > kMaxLaneValues)
      return StringRef("query-head group too large for a lane's registers");
    if (footprint.sharedBytes() > kStaticSharedBytes)
      return StringRef("block combine exceeds static shared memory");
    return std::nullopt;
  }

  /// splits = min(ceil(kBlocksPerSM * SMs / (B * Hkv)), ceil(S / minKeys)).
  static Value splits(OpBuilder &b, Location loc, Value batch, Value keys,
                      int64_t kvHeads) {
    auto c = [&](int64_t value) {
      return arith::ConstantIndexOp::create(b, loc, value);
    };
    Value blocksPerSplit = arith::MulIOp::create(b, loc, batch, c(kvHeads));
    Value cover = arith::CeilDivUIOp::create(b, loc, c(kBlocksPerSM * kSMCount),
                                             blocksPerSplit);
    Value most = arith::CeilDivUIOp::create(b, loc, keys, c(kMinKeysPerSplit));
    Value splits = arith::MinUIOp::create(b, loc, cover, most);
    // An empty cache (S = 0) still gets one split, which writes empties.
    return arith::MaxUIOp::create(b, loc, splits, c(1));
  }
};

/// MLA's absorbed decode on flash decoding's kernels, configured as flash
/// decoding (its warps, splits and register budget), the tile of heads a
/// block takes as large as that budget and static shared memory allow
/// (DeepSeek-V2/V3: R = 512, Dr = 64, tiles of 2 heads).
struct FlashMLADecodeConfig {
  static constexpr int64_t kWarps = FlashDecodeConfig::kWarps;

  /// The head tile for `op`, or why the template cannot take it.
  static FailureOr<int64_t> headTile(MLAAttentionOp op, StringRef &why) {
    if (op.getSelected()) {
      why = "sparse attention (selected keys)";
      return failure();
    }
    if (!cast<RankedTensorType>(op.getType()).getElementType().isF32()) {
      why = "not an f32 result";
      return failure();
    }
    auto qn = cast<RankedTensorType>(op.getQueryNope().getType());
    auto latent = cast<RankedTensorType>(op.getLatent().getType());
    auto rope = cast<RankedTensorType>(op.getKeyRope().getType());
    auto kvB = cast<RankedTensorType>(op.getKvB().getType());
    int64_t heads = qn.getDimSize(2), latentDim = latent.getDimSize(2),
            ropeDim = rope.getDimSize(2);
    if (ShapedType::isDynamic(latentDim) || ShapedType::isDynamic(ropeDim) ||
        !kvB.hasStaticShape()) {
      why = "dynamic latent or rope dims";
      return failure();
    }
    // The projections by kv_b read 16-byte slices of its rows.
    gpu_mapping::MLAAbsorptionFootprint absorption{kWarpsPerBlock,
                                                   kvB.getElementType()};
    if (latentDim % absorption.laneElements() != 0) {
      why = "a latent dim that is not a whole number of 16-byte slices";
      return failure();
    }
    for (int64_t tile = heads; tile >= 1; --tile) {
      gpu_mapping::FlashMLADecodeFootprint footprint{kWarps, tile, latentDim,
                                                     ropeDim};
      if (heads % tile == 0 &&
          footprint.laneValues() <= FlashDecodeConfig::kMaxLaneValues &&
          footprint.sharedBytes() <= kStaticSharedBytes)
        return tile;
    }
    why = "a head's latent query and sum exceed a lane's registers";
    return failure();
  }
};

/// Flash attention's configuration, reasoned, not timed: 4 warps, 64 rows
/// of (token, query head) per block, FlashAttention-2's shape for head dims
/// up to 128; keys in tiles of 64 (Kernels.h, FlashAttentionFootprint).
struct FlashAttentionConfig {
  static constexpr int64_t kWarps = 4;
  /// A lane's registers for its two rows: the query's fragments (Dk / 4
  /// words) and the value sums (Dv / 2 floats), within FA-2's budget.
  static constexpr int64_t kMaxKeyDim = 256;
  static constexpr int64_t kMaxValueDim = 128;
  static_assert(gpu_mapping::FlashAttentionFootprint{kWarps, kMaxKeyDim,
                                                     kMaxValueDim}
                        .sharedBytes() <= kMaxSharedBytes,
                "the largest key and value tiles fit a block's shared memory");

  /// Why the template cannot take `op`; nothing if it can.
  static std::optional<StringRef> refusal(AttentionOp op) {
    auto k = cast<RankedTensorType>(op.getKey().getType());
    auto v = cast<RankedTensorType>(op.getValue().getType());
    auto result = cast<RankedTensorType>(op.getType());
    return refusal(op.getBf16Products(), result.getElementType(),
                   result.getDimSize(2), k.getDimSize(2), k.getDimSize(3),
                   v.getDimSize(3));
  }

  /// Why the template cannot take attention of these products, result
  /// type, (query and kv) heads and head dims.
  static std::optional<StringRef> refusal(bool bf16Products, Type result,
                                          int64_t heads, int64_t kvHeads,
                                          int64_t keyDim, int64_t valueDim) {
    if (!bf16Products)
      return StringRef("products not bf16 (f32 attention stays exact)");
    if (!result.isF32())
      return StringRef("not an f32 result");
    for (int64_t size : {heads, kvHeads, keyDim, valueDim})
      if (ShapedType::isDynamic(size))
        return StringRef("dynamic heads or head dims");
    if (keyDim > kMaxKeyDim)
      return StringRef("key dim above 256");
    if (valueDim > kMaxValueDim)
      return StringRef("value dim above 128");
    return std::nullopt;
  }

  /// Why the template cannot take `op`'s expanded (prompt) form: every
  /// head its own kv head, keys of Dn + Dr.
  static std::optional<StringRef> refusal(MLAAttentionOp op) {
    if (op.getSelected())
      return StringRef("selected keys (DeepSeek sparse attention) are not "
                       "in flash attention's mask");
    auto queryNope = cast<RankedTensorType>(op.getQueryNope().getType());
    auto result = cast<RankedTensorType>(op.getType());
    int64_t heads = queryNope.getDimSize(2);
    return refusal(
        op.getBf16Products(), result.getElementType(), heads, heads,
        queryNope.getDimSize(3) +
            cast<RankedTensorType>(op.getQueryRope().getType()).getDimSize(3),
        result.getDimSize(3));
  }
};

/// A buffer of `type` allocated before a kernel choice for both branches to
/// write (the generic branch's result materialised in it), so that the
/// choice's result bufferizes to one buffer of the identity layout, an
/// arena slot (a branch result of mixed layouts would take a copy). Its
/// dynamic dimensions are the leading ones, whose sizes `leading` gives
/// (allocations, not tensor.empty: CSE would make two outputs one).
Value outputBeforeChoice(OpBuilder &b, Location loc, RankedTensorType type,
                         ArrayRef<Value> leading) {
  SmallVector<Value> dynamicSizes;
  for (auto [dim, size] : llvm::enumerate(type.getShape()))
    if (ShapedType::isDynamic(size)) {
      assert(dim < leading.size() && "a dynamic dimension past the leading");
      dynamicSizes.push_back(leading[dim]);
    }
  return bufferization::AllocTensorOp::create(b, loc, type, dynamicSizes);
}

/// The empty [B, T, H, Dv] f32 tensor `op`'s kernels write.
Value attentionInit(OpBuilder &b, Location loc, AttentionOp op, Value batch,
                    Value tokens) {
  auto resultType = cast<RankedTensorType>(op.getType());
  return tensor::EmptyOp::create(b, loc,
                                 {ShapedType::kDynamic, ShapedType::kDynamic,
                                  resultType.getDimSize(2),
                                  resultType.getDimSize(3)},
                                 b.getF32Type(), ValueRange{batch, tokens});
}

/// `op`'s result type with `element`s.
RankedTensorType resultTypeOf(AttentionOp op, Type element) {
  return cast<RankedTensorType>(op.getType()).clone(element);
}

/// `value` as `op`'s result type (whose batch or tokens may be static), of
/// `value`'s elements.
Value asResultOf(OpBuilder &b, Location loc, AttentionOp op, Value value) {
  Type type = resultTypeOf(op, getElementTypeOrSelf(value.getType()));
  if (value.getType() == type)
    return value;
  return tensor::CastOp::create(b, loc, type, value);
}

/// `op` as lm.flash_decode, at the builder (one token per sequence),
/// writing `init` when given, else a fresh tensor of f32s.
Value buildFlashDecodeFor(OpBuilder &b, AttentionOp op, Value tokens,
                          Value init = Value()) {
  Location loc = op.getLoc();
  Value q = op.getQuery();
  auto resultType = cast<RankedTensorType>(op.getType());
  int64_t heads = resultType.getDimSize(2), valueDim = resultType.getDimSize(3);
  int64_t kvHeads = cast<RankedTensorType>(op.getKey().getType()).getDimSize(2);
  Value batch = tensor::DimOp::create(b, loc, q, 0);
  Value keys = tensor::DimOp::create(b, loc, op.getKey(), 1);
  Value splits = FlashDecodeConfig::splits(b, loc, batch, keys, kvHeads);
  Value partials = tensor::EmptyOp::create(
      b, loc, {ShapedType::kDynamic, heads, ShapedType::kDynamic, valueDim + 2},
      b.getF32Type(), ValueRange{batch, splits});
  if (!init)
    init = attentionInit(b, loc, op, batch, tokens);
  SmallVector<Value> operands = {q, op.getKey(), op.getValue(),
                                 op.getPositions()};
  if (Value sinks = op.getSinks())
    operands.push_back(sinks);
  operands.append({partials, init});
  auto kernel = FlashDecodeOp::create(
      b, loc, TypeRange{partials.getType(), init.getType()}, operands,
      op->getAttrs());
  kernel.setWarps(FlashDecodeConfig::kWarps);
  return asResultOf(b, loc, op, kernel.getResult(1));
}

/// `op` as lm.flash_attention, at the builder (any token count), writing
/// `init` when given, else a fresh tensor of f32s.
Value buildFlashAttentionFor(OpBuilder &b, AttentionOp op, Value tokens,
                             Value init = Value()) {
  Location loc = op.getLoc();
  Value batch = tensor::DimOp::create(b, loc, op.getQuery(), 0);
  if (!init)
    init = attentionInit(b, loc, op, batch, tokens);
  auto kernel = FlashAttentionOp::create(
      b, loc, init.getType(), op.getQuery(), op.getKey(), op.getValue(),
      op.getPositions(), op.getSinks(), init, op.getScaleAttr(),
      op.getSlidingWindowAttr(), op.getChunkSizeAttr(), op.getSoftcapAttr(),
      b.getI64IntegerAttr(FlashAttentionConfig::kWarps));
  return asResultOf(b, loc, op, kernel.getResult(0));
}

/// The bf16 rounding of `op`'s heads merged, when that is all that reads
/// `op` (the next projection's input under --dtype bf16: o_proj's): the
/// kernels then write bf16 themselves, the values the rounding would give,
/// with no kernel of its own for it and half the bytes.
arith::TruncFOp roundedMergedHeads(Operation *op) {
  if (!op->hasOneUse())
    return {};
  auto merge = dyn_cast<MergeHeadsOp>(*op->user_begin());
  if (!merge || !merge->hasOneUse())
    return {};
  auto round = dyn_cast<arith::TruncFOp>(*merge->user_begin());
  if (!round || !getElementTypeOrSelf(round.getType()).isBF16())
    return {};
  return round;
}

/// `op` (an attention) replaced by `result`, its kernels' output: where
/// `round` (roundedMergedHeads) reads it, the result is already rounded,
/// and its merged heads replace the rounding's.
void replaceAttention(OpBuilder &b, Operation *op, arith::TruncFOp round,
                      Value result) {
  if (!round) {
    op->replaceAllUsesWith(ValueRange{result});
    op->erase();
    return;
  }
  auto merge = cast<MergeHeadsOp>(round.getIn().getDefiningOp());
  Value merged = MergeHeadsOp::create(b, op->getLoc(), round.getType(), result);
  round.replaceAllUsesWith(merged);
  round.erase();
  merge.erase();
  op->erase();
}

/// `op`'s templates in its place: one token ? decode's : the prompt's, the
/// generic lm.attention standing in for a phase neither claims; a prompt
/// template alone serves every phase (no branch). Where only the bf16
/// rounding of its merged heads reads `op`, the kernels write bf16 into one
/// output allocated before the choice (the generic branch rounds into it:
/// one buffer of the identity layout, which merge_heads collapses without a
/// copy), and the rounding goes.
void selectAttention(AttentionOp op, bool decode, bool prompt) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value tokens = tensor::DimOp::create(b, loc, op.getQuery(), 1);
  arith::TruncFOp round = roundedMergedHeads(op);
  Value output;
  if (round)
    output = outputBeforeChoice(
        b, loc, resultTypeOf(op, b.getBF16Type()),
        {tensor::DimOp::create(b, loc, op.getQuery(), 0), tokens});
  Value result;
  if (!decode) {
    result = buildFlashAttentionFor(b, op, tokens, output);
  } else {
    Type resultType = round ? output.getType() : op.getType();
    Value isDecode =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tokens,
                              arith::ConstantIndexOp::create(b, loc, 1));
    auto choice = scf::IfOp::create(b, loc, resultType, isDecode,
                                    /*withElseRegion=*/true);
    b.setInsertionPointToStart(&choice.getThenRegion().front());
    scf::YieldOp::create(b, loc, buildFlashDecodeFor(b, op, tokens, output));
    b.setInsertionPointToStart(&choice.getElseRegion().front());
    Value promptResult;
    if (prompt) {
      promptResult = buildFlashAttentionFor(b, op, tokens, output);
    } else {
      promptResult = b.clone(*op)->getResult(0);
      if (round)
        promptResult =
            bufferization::MaterializeInDestinationOp::create(
                b, loc,
                arith::TruncFOp::create(b, loc, resultType, promptResult),
                output)
                .getResult();
    }
    scf::YieldOp::create(b, loc, promptResult);
    b.setInsertionPoint(op);
    result = choice.getResult(0);
  }
  replaceAttention(b, op, round, result);
}

/// lm.streamed_linear's configuration, reasoned, not timed: 8 warps as
/// every other template; the projection generic's rows per pass over the
/// weight, halved until the staged rows fit in static shared memory.
struct StreamedLinearConfig {
  static constexpr int64_t kWarps = kWarpsPerBlock;

  /// The rows staged (or streamed) at a time for in features `k` of
  /// `operandType`; nothing when even one staged row does not fit.
  static std::optional<int64_t> rowGroup(int64_t k, Type operandType,
                                         bool staged) {
    for (int64_t rows = gpu_mapping::kStreamingRowGroup; rows >= 1; rows /= 2)
      if (gpu_mapping::StreamedLinearFootprint{rows, k, operandType, staged}
              .sharedBytes() <= kStaticSharedBytes)
        return rows;
    return std::nullopt;
  }
};

/// Whether `value` is an argument of the function (as weights are after
/// lm-weights-to-arguments): available anywhere in it.
bool isFunctionArgument(Value value) {
  auto arg = dyn_cast<BlockArgument>(value);
  return arg && isa<func::FuncOp>(arg.getOwner()->getParentOp());
}

/// Whether `value` can be used at `at`: a block argument of a block
/// enclosing it, or the result of an op before it (or before the op
/// enclosing it) in that op's block.
bool availableAt(Value value, Operation *at) {
  if (auto arg = dyn_cast<BlockArgument>(value))
    return arg.getOwner()->findAncestorOpInBlock(*at) != nullptr;
  Operation *def = value.getDefiningOp();
  Operation *ancestor = def->getBlock()->findAncestorOpInBlock(*at);
  return ancestor && def != ancestor && def->isBeforeInBlock(ancestor);
}

/// What one lm.streamed_linear computes in place of lm ops: a projection;
/// with `up` and `glu`, the GLU of it (the gate) and the up projection
/// beside it; with `add`, the projection added to a residual; with
/// `rounding`, that rounded to bf16 (the next projection's input).
struct StreamedUnit {
  LinearOp linear;
  LinearOp up;
  GluOp glu;
  arith::AddFOp add;
  arith::TruncFOp rounding;

  /// The op whose result the kernel writes.
  Operation *last() {
    if (rounding)
      return rounding;
    if (glu)
      return glu;
    if (add)
      return add;
    return linear;
  }
  /// The residual `add` adds the projection to. (Looked up when needed: an
  /// earlier selection may have replaced it.)
  Value residual() {
    return add.getLhs() == linear.getResult() ? add.getRhs() : add.getLhs();
  }
  SmallVector<Operation *> ops() {
    SmallVector<Operation *> ops = {linear};
    for (Operation *op : {up.getOperation(), glu.getOperation(),
                          add.getOperation(), rounding.getOperation()})
      if (op)
        ops.push_back(op);
    return ops;
  }
};

/// Projections of one operand `a` in one block, each with its epilogue: `a`
/// is x, the rounding of x to the weights' bf16, or the RMS norm of x
/// (perhaps rounded). The kernels read x.
struct StreamedGroup {
  RMSNormOp norm;           ///< Null without a norm.
  arith::TruncFOp rounding; ///< Null in f32.
  SmallVector<StreamedUnit> units;
  int64_t rowGroup = 0;

  /// What the kernels read. (Looked up when needed, as the residuals.)
  Value input() {
    if (norm)
      return norm.getInput();
    if (rounding)
      return rounding.getIn();
    return units.front().linear.getInput();
  }
};

/// Why `linear`, reading a value of `operandType` in `block`, cannot be
/// part of a streamed group; nothing if it can.
std::optional<StringRef> refuseLinear(LinearOp linear, Type operandType,
                                      Block *block) {
  auto weightType = cast<RankedTensorType>(linear.getWeight().getType());
  if (!weightType.hasStaticShape())
    return StringRef("a dynamic weight");
  if (cast<RankedTensorType>(linear.getType()).getRank() < 2)
    return StringRef("a projection of a single vector");
  if (weightType.getElementType() != operandType ||
      !(operandType.isF32() || operandType.isBF16()))
    return StringRef("weight and input types differ, or are neither f32 nor "
                     "bf16");
  if (!getElementTypeOrSelf(linear.getType()).isF32())
    return StringRef("not an f32 result");
  // The group's linears move to one place.
  if (linear->getBlock() != block)
    return StringRef("a projection in another block than its input's group");
  for (Value param : {linear.getWeight(), linear.getBias()})
    if (param && !isFunctionArgument(param))
      return StringRef("a weight or bias that is not a function argument "
                       "(a transposed or sliced view)");
  return std::nullopt;
}

/// `linears` (each accepted by refuseLinear, in block order) as units: a
/// linear that only a GLU reads as its gate, with the up projection another
/// of them that only the GLU reads; one that only an f32 add reads, with
/// the add. An epilogue op goes to one unit: `claimed` holds those taken.
SmallVector<StreamedUnit>
formUnits(ArrayRef<LinearOp> linears,
          llvm::SmallPtrSetImpl<Operation *> &claimed) {
  SmallVector<StreamedUnit> units;
  llvm::SmallPtrSet<Operation *, 8> taken;
  for (LinearOp linear : linears) {
    if (taken.contains(linear))
      continue;
    StreamedUnit unit{linear, nullptr, nullptr, nullptr, nullptr};
    Value result = linear.getResult();
    if (result.hasOneUse()) {
      Operation *user = *result.getUsers().begin();
      if (auto glu = dyn_cast<GluOp>(user)) {
        // The GLU's unit, whichever of its projections comes first.
        auto gate = glu.getGate().getDefiningOp<LinearOp>();
        auto up = glu.getUp().getDefiningOp<LinearOp>();
        if (gate && up && gate != up && gate.getResult().hasOneUse() &&
            up.getResult().hasOneUse() && llvm::is_contained(linears, gate) &&
            llvm::is_contained(linears, up) && !taken.contains(gate) &&
            !taken.contains(up) && !claimed.contains(glu) &&
            up.getWeight().getType() == gate.getWeight().getType())
          unit = {gate, up, glu, nullptr, nullptr};
      } else if (auto add = dyn_cast<arith::AddFOp>(user)) {
        if (add.getType() == linear.getType() && add.getLhs() != add.getRhs() &&
            !claimed.contains(add))
          unit.add = add;
      }
    }
    // A result only rounded to bf16 is written rounded.
    Value out = unit.last()->getResult(0);
    if (!unit.add && out.hasOneUse())
      if (auto rounding = dyn_cast<arith::TruncFOp>(*out.getUsers().begin()))
        if (getElementTypeOrSelf(rounding.getType()).isBF16() &&
            !claimed.contains(rounding))
          unit.rounding = rounding;
    taken.insert(unit.linear);
    if (unit.up)
      taken.insert(unit.up);
    if (unit.glu)
      claimed.insert(unit.glu);
    if (unit.add)
      claimed.insert(unit.add);
    if (unit.rounding)
      claimed.insert(unit.rounding);
    units.push_back(unit);
  }
  return units;
}

/// The group of the projections reading `norm`'s result (directly or
/// rounded to their weights' bf16), or why the template cannot serve them;
/// nothing (no remark) when no projection reads it.
FailureOr<StreamedGroup>
matchNormGroup(RMSNormOp norm, llvm::SmallPtrSetImpl<Operation *> &claimed,
               std::optional<StringRef> &why) {
  StreamedGroup group;
  group.norm = norm;
  Value normalised = norm.getResult();
  if (normalised.hasOneUse())
    if (auto rounding =
            dyn_cast<arith::TruncFOp>(*normalised.getUsers().begin()))
      if (getElementTypeOrSelf(rounding.getType()).isBF16()) {
        group.rounding = rounding;
        normalised = rounding.getResult();
      }
  SmallVector<LinearOp> linears;
  bool others = false;
  for (OpOperand &use : normalised.getUses()) {
    auto linear = dyn_cast<LinearOp>(use.getOwner());
    if (linear && use.getOperandNumber() == 0)
      linears.push_back(linear);
    else
      others = true;
  }
  if (linears.empty())
    return failure();
  auto refuse = [&](StringRef reason) {
    why = reason;
    return failure();
  };
  // (Projections read by other ops than the norm's stay a group of their
  // own: the rounding, not the norm, is then what their kernels fold.)
  if (others)
    return refuse("the normalised value has users other than projections");
  if (!norm.getWeight())
    return refuse("a weightless norm");
  auto inputType = cast<RankedTensorType>(norm.getInput().getType());
  int64_t k = inputType.getDimSize(inputType.getRank() - 1);
  if (ShapedType::isDynamic(k))
    return refuse("dynamic in features");
  Type operandType = getElementTypeOrSelf(normalised.getType());
  for (LinearOp linear : linears)
    if (std::optional<StringRef> reason =
            refuseLinear(linear, operandType, norm->getBlock()))
      return refuse(*reason);
  std::optional<int64_t> rowGroup =
      StreamedLinearConfig::rowGroup(k, operandType, /*staged=*/true);
  if (!rowGroup)
    return refuse("a normalised row exceeds static shared memory");
  llvm::sort(linears,
             [](LinearOp a, LinearOp b) { return a->isBeforeInBlock(b); });
  group.units = formUnits(linears, claimed);
  group.rowGroup = *rowGroup;
  return group;
}

/// The groups of the projections no norm group took, one per operand and
/// block; a projection it cannot serve gets a remark (with `explain`).
SmallVector<StreamedGroup> matchProjectionGroups(ArrayRef<LinearOp> linears,
                                                 bool explain) {
  llvm::MapVector<std::pair<Value, Block *>, SmallVector<LinearOp>> byOperand;
  for (LinearOp linear : linears) {
    Value operand = linear.getInput();
    Type operandType = getElementTypeOrSelf(operand.getType());
    if (std::optional<StringRef> why =
            refuseLinear(linear, operandType, linear->getBlock())) {
      if (explain)
        linear.emitRemark("no streamed projection: ") << *why;
      continue;
    }
    byOperand[{operand, linear->getBlock()}].push_back(linear);
  }
  SmallVector<StreamedGroup> groups;
  llvm::SmallPtrSet<Operation *, 16> claimed;
  for (auto &[key, members] : byOperand) {
    Value operand = key.first;
    StreamedGroup group;
    auto rounding = operand.getDefiningOp<arith::TruncFOp>();
    if (rounding && getElementTypeOrSelf(rounding.getIn().getType()).isF32() &&
        getElementTypeOrSelf(operand.getType()).isBF16())
      group.rounding = rounding;
    group.units = formUnits(members, claimed);
    groups.push_back(std::move(group));
  }
  // A rounding another unit writes (its result rounded) is no longer the
  // group's to stage: the group reads what that unit writes.
  SmallVector<StreamedGroup> accepted;
  for (StreamedGroup &group : groups) {
    if (group.rounding && claimed.contains(group.rounding))
      group.rounding = nullptr;
    // (refuseLinear saw a static weight: K is static.)
    auto type =
        cast<RankedTensorType>(group.units.front().linear.getInput().getType());
    std::optional<int64_t> rowGroup = StreamedLinearConfig::rowGroup(
        type.getDimSize(type.getRank() - 1), type.getElementType(),
        /*staged=*/bool(group.rounding));
    if (!rowGroup) {
      if (explain)
        for (StreamedUnit &unit : group.units)
          unit.linear.emitRemark("no streamed projection: a rounded row "
                                 "exceeds static shared memory");
      continue;
    }
    group.rowGroup = *rowGroup;
    accepted.push_back(std::move(group));
  }
  return accepted;
}

/// The wgmma tile's configuration for a group of projections of many rows
/// (lm.tiled_linear): 128 x 128 tiles (64 output columns with a GLU),
/// WgmmaGemm.h's.
struct TiledLinearConfig {
  /// Whether the tiles take `group`'s projections: bf16 weights and input
  /// (the input as --dtype bf16 rounds it), in features a multiple of 8
  /// (the tensor maps' 16-byte rows).
  static bool applies(StreamedGroup &group) {
    LinearOp first = group.units.front().linear;
    auto weight = cast<RankedTensorType>(first.getWeight().getType());
    return getElementTypeOrSelf(first.getInput().getType()).isBF16() &&
           weight.getElementType().isBF16() && weight.getDimSize(1) % 8 == 0;
  }
};

/// `ops` (of `group`, in block order) cloned at the builder through
/// `mapping`, and each unit's result in its init (a residual unit's is its
/// add, into the residual already).
SmallVector<Value> cloneUnits(OpBuilder &b, Location loc, StreamedGroup &group,
                              ArrayRef<Operation *> ops, ArrayRef<Value> inits,
                              IRMapping &mapping) {
  for (Operation *op : ops)
    b.clone(*op, mapping);
  SmallVector<Value> results;
  for (auto [unit, init] : llvm::zip(group.units, inits)) {
    Value result = mapping.lookup(unit.last()->getResult(0));
    if (!unit.add)
      result = bufferization::MaterializeInDestinationOp::create(b, loc, result,
                                                                 init)
                   .getResult();
    results.push_back(result);
  }
  return results;
}

/// rows < kStreamingRows ? lm.streamed_linear per unit
///   : rows >= kWarpgroupRows ? lm.tiled_linear per unit (where it applies)
///   : the lm ops,
/// in place of `group`'s ops, at the first op whose result a unit replaces.
void selectStreamedGroup(StreamedGroup &group) {
  // A unit's residual must exist where the choice goes; a residual that
  // does not (or that the group computes) leaves its add outside.
  Operation *at = nullptr;
  for (bool changed = true; changed;) {
    changed = false;
    at = group.units.front().last();
    for (StreamedUnit &unit : group.units)
      if (unit.last()->isBeforeInBlock(at))
        at = unit.last();
    llvm::SmallPtrSet<Operation *, 16> groupOps;
    for (StreamedUnit &unit : group.units)
      groupOps.insert_range(unit.ops());
    for (StreamedUnit &unit : group.units) {
      if (!unit.add)
        continue;
      Value residual = unit.residual();
      if (!availableAt(residual, at) ||
          groupOps.contains(residual.getDefiningOp())) {
        unit.add = nullptr;
        changed = true;
      }
    }
  }

  OpBuilder b(at);
  Location loc = group.units.front().linear.getLoc();
  Value input = group.input();
  auto inputType = cast<RankedTensorType>(input.getType());
  SmallVector<Value> leading;
  Value rows = arith::ConstantIndexOp::create(b, loc, 1);
  for (int64_t dim = 0; dim + 1 < inputType.getRank(); ++dim) {
    leading.push_back(tensor::DimOp::create(b, loc, input, dim));
    rows = b.createOrFold<arith::MulIOp>(loc, rows, leading.back());
  }
  Value few = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ult, rows,
      arith::ConstantIndexOp::create(b, loc, gpu_mapping::kStreamingRows));
  // The outputs are allocated before the choice (outputBeforeChoice; the
  // generic branch's own become them: eliminate-empty-tensors).
  // A residual unit writes the sum back into the residual, in place where
  // nothing reads the residual later (as the generic branch's projection
  // accumulates into it: lm-fold-add-into-reduction).
  SmallVector<Type> resultTypes;
  SmallVector<Value> inits;
  for (StreamedUnit &unit : group.units) {
    auto type = cast<RankedTensorType>(unit.last()->getResult(0).getType());
    resultTypes.push_back(type);
    if (unit.add) {
      inits.push_back(unit.residual());
      continue;
    }
    inits.push_back(outputBeforeChoice(b, loc, type, leading));
  }
  auto choice = scf::IfOp::create(b, loc, resultTypes, few,
                                  /*withElseRegion=*/true);

  b.setInsertionPointToStart(&choice.getThenRegion().front());
  RMSNormOp norm = group.norm;
  SmallVector<Value> streamed;
  for (auto [unit, init] : llvm::zip(group.units, inits)) {
    LinearOp up = unit.up;
    GluOp glu = unit.glu;
    auto kernel = StreamedLinearOp::create(
        b, loc, TypeRange{init.getType()}, input, unit.linear.getWeight(),
        unit.linear.getBias(), up ? up.getWeight() : Value(),
        up ? up.getBias() : Value(), norm ? norm.getWeight() : Value(), init,
        norm ? norm.getEpsilonAttr() : FloatAttr(),
        norm ? norm.getWeightOffsetAttr() : FloatAttr(),
        glu ? glu.getKindAttr() : GluKindAttr(),
        glu ? glu.getAlphaAttr() : FloatAttr(),
        glu ? glu.getLimitAttr() : FloatAttr(),
        unit.add ? b.getUnitAttr() : UnitAttr(),
        b.getI64IntegerAttr(StreamedLinearConfig::kWarps),
        b.getI64IntegerAttr(group.rowGroup));
    streamed.push_back(kernel.getResult(0));
  }
  scf::YieldOp::create(b, loc, streamed);

  // The generic branch: the group's ops, and the norm and rounding when
  // only they read them.
  SmallVector<Operation *> moved;
  llvm::SmallPtrSet<Operation *, 16> movedSet;
  for (StreamedUnit &unit : group.units)
    for (Operation *op : unit.ops()) {
      moved.push_back(op);
      movedSet.insert(op);
    }
  for (Operation *op : {group.rounding.getOperation(), norm.getOperation()})
    if (op && op->getBlock() == at->getBlock() &&
        llvm::all_of(op->getUsers(), [&](Operation *user) {
          return movedSet.contains(user);
        })) {
      moved.push_back(op);
      movedSet.insert(op);
    }
  llvm::sort(moved,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  b.setInsertionPointToStart(&choice.getElseRegion().front());
  IRMapping mapping;
  SmallVector<Value> many;
  if (TiledLinearConfig::applies(group)) {
    // rows >= kWarpgroupRows ? lm.tiled_linear per unit : the lm ops, the
    // input's norm and rounding (what the tiles read) before that choice.
    SmallVector<Operation *> units, prologue;
    llvm::SmallPtrSet<Operation *, 16> unitOps;
    for (StreamedUnit &unit : group.units)
      unitOps.insert_range(unit.ops());
    for (Operation *op : moved)
      (unitOps.contains(op) ? units : prologue).push_back(op);
    for (Operation *op : prologue)
      b.clone(*op, mapping);
    Value tiles = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::uge, rows,
        arith::ConstantIndexOp::create(b, loc, gpu_mapping::kWarpgroupRows));
    auto tileChoice = scf::IfOp::create(b, loc, resultTypes, tiles,
                                        /*withElseRegion=*/true);
    b.setInsertionPointToStart(&tileChoice.getThenRegion().front());
    Value tiledInput =
        mapping.lookupOrDefault(group.units.front().linear.getInput());
    SmallVector<Value> tiled;
    for (auto [unit, init] : llvm::zip(group.units, inits)) {
      LinearOp up = unit.up;
      GluOp glu = unit.glu;
      tiled.push_back(
          TiledLinearOp::create(b, loc, TypeRange{init.getType()}, tiledInput,
                                unit.linear.getWeight(), unit.linear.getBias(),
                                up ? up.getWeight() : Value(),
                                up ? up.getBias() : Value(), init,
                                glu ? glu.getKindAttr() : GluKindAttr(),
                                glu ? glu.getAlphaAttr() : FloatAttr(),
                                glu ? glu.getLimitAttr() : FloatAttr(),
                                unit.add ? b.getUnitAttr() : UnitAttr())
              .getResult(0));
    }
    scf::YieldOp::create(b, loc, tiled);
    b.setInsertionPointToStart(&tileChoice.getElseRegion().front());
    scf::YieldOp::create(b, loc,
                         cloneUnits(b, loc, group, units, inits, mapping));
    b.setInsertionPointAfter(tileChoice);
    many = tileChoice.getResults();
  } else {
    many = cloneUnits(b, loc, group, moved, inits, mapping);
  }
  scf::YieldOp::create(b, loc, many);

  for (auto [unit, result] : llvm::zip(group.units, choice.getResults()))
    unit.last()->getResult(0).replaceAllUsesWith(result);
  for (Operation *op : llvm::reverse(moved))
    op->erase();
}

/// Why the warp router cannot take `op`, if it cannot: more experts than
/// its lanes hold, more groups or choices than it unrolls (DeepSeek-V3:
/// 256 experts in 8 groups, 8 chosen).
constexpr int64_t kMaxRouterGroups = 16;
constexpr int64_t kMaxRouterChoices = 16;
std::optional<StringRef> refuseRouter(RouterOp op) {
  auto logits = cast<RankedTensorType>(op.getLogits().getType());
  if (logits.getDimSize(2) > WarpRouterOp::kMaxExperts)
    return StringRef("more than 256 experts");
  if (op.getNumGroups() > kMaxRouterGroups)
    return StringRef("more than 16 expert groups");
  if (op.getTopK() > kMaxRouterChoices)
    return StringRef("more than 16 experts chosen per token");
  if (!cast<RankedTensorType>(op.getWeights().getType())
           .getElementType()
           .isF32())
    return StringRef("weights not in f32");
  return std::nullopt;
}

/// lm.router as lm.warp_router, whatever the token count: a warp per token
/// routes from registers what a thread per token routes serially through
/// memory.
void selectWarpRouter(RouterOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto empty = [&](Value like) {
    auto type = cast<RankedTensorType>(like.getType());
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (type.isDynamicDim(d))
        sizes.push_back(tensor::DimOp::create(b, loc, op.getLogits(), d));
    return tensor::EmptyOp::create(b, loc, type.getShape(),
                                   type.getElementType(), sizes)
        .getResult();
  };
  Value weights = empty(op.getWeights());
  Value indices = empty(op.getIndices());
  auto router = WarpRouterOp::create(
      b, loc, TypeRange{op.getWeights().getType(), op.getIndices().getType()},
      op.getLogits(), op.getCorrectionBias(), weights, indices,
      op.getScoringAttr(), op.getTopKAttr(), op.getNumGroupsAttr(),
      op.getTopKGroupsAttr(), op.getNormalizeAttr(),
      op.getNormalizeEpsilonAttr(), op.getRoutedScalingAttr());
  op.replaceAllUsesWith(router.getResults());
  op.erase();
}

/// `op`'s expanded (prompt) form on flash attention, at the builder,
/// writing `output`: the operands as the host lowering builds them
/// (MLAPromptForm.h), every head its own kv head.
Value buildMLAPromptFor(OpBuilder &b, MLAAttentionOp op, Value tokens,
                        Value output) {
  Location loc = op.getLoc();
  MLAPromptOperands operands = buildMLAPromptOperands(b, loc, op);
  auto attention = AttentionOp::create(
      b, loc, op.getType(), operands.query, operands.key, operands.value,
      op.getPositions(), /*sinks=*/Value(), op.getScaleAttr(),
      /*sliding_window=*/nullptr, /*chunk_size=*/nullptr,
      /*softcap=*/nullptr, b.getUnitAttr());
  Value result = buildFlashAttentionFor(b, attention, tokens, output);
  attention.erase();
  return result;
}

/// lm.mla_attention's templates in its place: one token ?
/// lm.flash_mla_decode (the absorbed form: the absorption, the attention
/// over the latent cache, the value projection) : the expanded form on
/// flash attention (`prompt`), or the op for the generic path; the
/// expanded form alone serves every phase (no branch). As
/// selectStreamedGroup's, the output is allocated before the choice and
/// both branches write it: one buffer of the identity layout, which
/// merge_heads collapses without a copy. As selectAttention's, where only
/// the bf16 rounding of its merged heads reads `op`, that output is bf16
/// and the rounding goes.
void selectMLA(MLAAttentionOp op, std::optional<int64_t> headTile,
               bool prompt) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  arith::TruncFOp round = roundedMergedHeads(op);
  auto resultType = cast<RankedTensorType>(op.getType());
  if (round)
    resultType = resultType.clone(b.getBF16Type());
  Value batch = tensor::DimOp::create(b, loc, op.getQueryNope(), 0);
  Value tokens = tensor::DimOp::create(b, loc, op.getQueryNope(), 1);
  Value output = outputBeforeChoice(b, loc, resultType, {batch, tokens});
  if (!headTile) {
    replaceAttention(b, op, round, buildMLAPromptFor(b, op, tokens, output));
    return;
  }
  Value isDecode =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tokens,
                            arith::ConstantIndexOp::create(b, loc, 1));
  auto choice = scf::IfOp::create(b, loc, resultType, isDecode,
                                  /*withElseRegion=*/true);
  b.setInsertionPointToStart(&choice.getThenRegion().front());
  int64_t heads = resultType.getDimSize(2);
  int64_t latentDim =
      cast<RankedTensorType>(op.getLatent().getType()).getDimSize(2);
  Value keys = tensor::DimOp::create(b, loc, op.getLatent(), 1);
  // Every head reads the one latent head: splits as for a single kv head
  // per tile.
  Value splits =
      FlashDecodeConfig::splits(b, loc, batch, keys, heads / *headTile);
  auto dyn = ShapedType::kDynamic;
  Value queryLatent = tensor::EmptyOp::create(
      b, loc, {dyn, 1, heads, latentDim}, b.getF32Type(), ValueRange{batch});
  Value partials =
      tensor::EmptyOp::create(b, loc, {dyn, heads, dyn, latentDim + 2},
                              b.getF32Type(), ValueRange{batch, splits});
  auto kernel = FlashMLADecodeOp::create(
      b, loc, TypeRange{queryLatent.getType(), partials.getType(), resultType},
      op.getQueryNope(), op.getQueryRope(), op.getLatent(), op.getKeyRope(),
      op.getKvB(), op.getPositions(), queryLatent, partials, output,
      op.getScaleAttr(), b.getI64IntegerAttr(FlashMLADecodeConfig::kWarps),
      b.getI64IntegerAttr(*headTile));
  scf::YieldOp::create(b, loc, kernel.getResult(2));
  b.setInsertionPointToStart(&choice.getElseRegion().front());
  Value promptResult;
  if (prompt) {
    promptResult = buildMLAPromptFor(b, op, tokens, output);
  } else {
    Value generic = b.clone(*op)->getResult(0);
    if (round)
      generic = arith::TruncFOp::create(b, loc, resultType, generic);
    promptResult = bufferization::MaterializeInDestinationOp::create(
                       b, loc, generic, output)
                       .getResult();
  }
  scf::YieldOp::create(b, loc, promptResult);
  b.setInsertionPoint(op);
  replaceAttention(b, op, round, choice.getResult(0));
}

/// Why neither expert template can take `op`'s operands: both read the
/// stacked weights as the static buffers of function arguments (an
/// identity layout) and f32 inputs and routing weights.
std::optional<StringRef> refuseExpertOperands(MoEExpertsOp op) {
  auto gateUp = cast<RankedTensorType>(op.getGateUp().getType());
  auto down = cast<RankedTensorType>(op.getDown().getType());
  if (!gateUp.hasStaticShape() || !down.hasStaticShape())
    return StringRef("dynamic expert weights");
  for (Value weight :
       {op.getGateUp(), op.getDown(), op.getGateUpBias(), op.getDownBias()})
    if (weight && !isFunctionArgument(weight))
      return StringRef("expert weights that are not function arguments (a "
                       "transposed or sliced view)");
  if (!getElementTypeOrSelf(op.getInput().getType()).isF32() ||
      !getElementTypeOrSelf(op.getWeights().getType()).isF32())
    return StringRef("input or routing weights not in f32");
  return std::nullopt;
}

/// lm.streamed_experts' configuration, reasoned, not timed: 8 warps as
/// every other template, for few rows as lm.streamed_linear.
struct StreamedExpertsConfig {
  static constexpr int64_t kWarps = kWarpsPerBlock;
  /// Down rows a warp streams side by side (one per choice; Qwen3-MoE: 8).
  static constexpr int64_t kMaxTopK = 16;

  /// Why the template cannot take `op`; nothing if it can.
  static std::optional<StringRef> refusal(MoEExpertsOp op) {
    if (std::optional<StringRef> why = refuseExpertOperands(op))
      return why;
    auto gateUp = cast<RankedTensorType>(op.getGateUp().getType());
    Type weightType = gateUp.getElementType();
    if ((!weightType.isF32() && !weightType.isBF16()) ||
        cast<RankedTensorType>(op.getDown().getType()).getElementType() !=
            weightType)
      return StringRef("expert weights neither both f32 nor both bf16");
    int64_t topK = op.getTopK();
    if (ShapedType::isDynamic(topK) || topK > kMaxTopK)
      return StringRef("more than 16 experts chosen per token");
    // Rounding to bf16 or scaling by the routing weight stages the row.
    if ((weightType.isBF16() || op.getScaleInput()) && !rowFits(op.getGateUp()))
      return StringRef("a staged row exceeds static shared memory");
    return std::nullopt;
  }
  /// Whether the first kernel's staged row of `gateUp`'s D values (of its
  /// type) fits in static shared memory.
  static bool rowFits(Value gateUp) {
    auto type = cast<RankedTensorType>(gateUp.getType());
    return gpu_mapping::StreamedLinearFootprint{1, type.getDimSize(2),
                                                type.getElementType(),
                                                /*staged=*/true}
               .sharedBytes() <= kStaticSharedBytes;
  }
};

/// lm.grouped_experts' conditions: what its tensor maps and its sort's
/// shared memory need.
struct GroupedExpertsConfig {
  /// Why the template cannot take `op`; nothing if it can.
  static std::optional<StringRef> refusal(MoEExpertsOp op) {
    if (std::optional<StringRef> why = refuseExpertOperands(op))
      return why;
    auto gateUp = cast<RankedTensorType>(op.getGateUp().getType());
    auto down = cast<RankedTensorType>(op.getDown().getType());
    if (!gateUp.getElementType().isBF16() || !down.getElementType().isBF16())
      return StringRef("expert weights not both bf16 (f32 experts stay "
                       "exact, off tensor cores)");
    if (ShapedType::isDynamic(op.getTopK()))
      return StringRef("a dynamic top-k");
    if (gateUp.getDimSize(2) % 8 != 0 || down.getDimSize(2) % 8 != 0)
      return StringRef("hidden size or expert width not a multiple of 8 "
                       "(tensor maps' 16-byte rows)");
    // The sort's counts, segment starts and cursors.
    if (3 * gateUp.getDimSize(0) * 4 + 4 > kStaticSharedBytes)
      return StringRef("too many experts for the sort's shared memory");
    return std::nullopt;
  }
};

/// What one lm.streamed_experts computes in place of lm ops: the experts,
/// of `norm`'s result when there is one (the norm becomes the kernel's
/// prologue; the projections reading it keep it), added to a residual with
/// `add`.
struct ExpertsUnit {
  MoEExpertsOp experts;
  RMSNormOp norm;
  arith::AddFOp add;

  Value residual() {
    Value result = experts.getResult();
    return add.getLhs() == result ? add.getRhs() : add.getLhs();
  }
};

/// `r + (experts + y)` (a routed and a shared expert added to the residual
/// stream, as DeepSeek's layers read) as `(r + experts) + y`, so that the
/// experts and y's projection each accumulate into the stream in place.
/// (The sums round differently: by f32 ulps of the stream, as the
/// kernels' own sums do.)
void reassociateIntoResidual(MoEExpertsOp experts) {
  Value result = experts.getResult();
  if (!result.hasOneUse())
    return;
  auto inner = dyn_cast<arith::AddFOp>(*result.getUsers().begin());
  if (!inner || !inner.getResult().hasOneUse() ||
      inner.getLhs() == inner.getRhs())
    return;
  auto outer = dyn_cast<arith::AddFOp>(*inner.getResult().getUsers().begin());
  if (!outer || outer->getBlock() != inner->getBlock())
    return;
  Value other = inner.getLhs() == result ? inner.getRhs() : inner.getLhs();
  Value residual =
      outer.getLhs() == inner.getResult() ? outer.getRhs() : outer.getLhs();
  if (residual == inner.getResult() || residual.getType() != result.getType() ||
      other.getType() != result.getType() || !availableAt(residual, inner))
    return;
  OpBuilder b(inner);
  Value stream = arith::AddFOp::create(b, inner.getLoc(), residual, result);
  b.setInsertionPoint(outer);
  Value sum = arith::AddFOp::create(b, outer.getLoc(), stream, other);
  outer.getResult().replaceAllUsesWith(sum);
  outer.erase();
  inner.erase();
}

/// `experts` with its prologue and epilogue, when it has them.
ExpertsUnit matchExpertsUnit(MoEExpertsOp experts) {
  ExpertsUnit unit{experts, nullptr, nullptr};
  if (auto norm = experts.getInput().getDefiningOp<RMSNormOp>())
    if (norm.getWeight() && norm->getBlock() == experts->getBlock() &&
        StreamedExpertsConfig::rowFits(experts.getGateUp()))
      unit.norm = norm;
  reassociateIntoResidual(experts);
  Value result = experts.getResult();
  if (result.hasOneUse())
    if (auto add = dyn_cast<arith::AddFOp>(*result.getUsers().begin())) {
      unit.add = add;
      if (add.getLhs() == add.getRhs() || add.getType() != result.getType() ||
          add->getBlock() != experts->getBlock() ||
          !availableAt(unit.residual(), add))
        unit.add = nullptr;
    }
  return unit;
}

/// lm.grouped_experts for `experts` of `input` (B x T tokens), writing
/// `init` (added to it with `accumulate`), with a row of scratch per
/// (token, choice) pair and a tile table for the most tiles there can be:
/// ceil(B T K / 128) + min(E, B T K). Returns its result.
Value buildGroupedExperts(OpBuilder &b, Location loc, MoEExpertsOp experts,
                          Value input, Value init, bool accumulate, Value batch,
                          Value tokens) {
  auto gateUpType = cast<RankedTensorType>(experts.getGateUp().getType());
  int64_t topK = experts.getTopK(), hidden = gateUpType.getDimSize(2);
  int64_t width =
      cast<RankedTensorType>(experts.getDown().getType()).getDimSize(2);
  auto constant = [&](int64_t value) -> Value {
    return arith::ConstantIndexOp::create(b, loc, value);
  };
  Value pairs = arith::MulIOp::create(
      b, loc, arith::MulIOp::create(b, loc, batch, tokens), constant(topK));
  Value fullTiles = arith::CeilDivUIOp::create(
      b, loc, pairs, constant(GroupedExpertsOp::kTileRows));
  Value partialTiles =
      arith::MinUIOp::create(b, loc, pairs, constant(gateUpType.getDimSize(0)));
  Value tiles = arith::AddIOp::create(b, loc, fullTiles, partialTiles);
  auto dyn = ShapedType::kDynamic;
  Type i32 = b.getI32Type(), bf16 = b.getBF16Type(), f32 = b.getF32Type();
  auto empty = [&](ArrayRef<int64_t> shape, Type element,
                   ValueRange sizes) -> Value {
    return tensor::EmptyOp::create(b, loc, shape, element, sizes);
  };
  Value order = empty({dyn}, i32, pairs);
  Value table = empty({dyn, 3}, i32, tiles);
  Value slots = empty({dyn, dyn, topK}, i32, {batch, tokens});
  Value sorted = empty({dyn, hidden}, bf16, pairs);
  Value activations = empty({dyn, width}, bf16, pairs);
  Value expertRows = empty({dyn, hidden}, f32, pairs);
  SmallVector<Value> inits = {order,       table,      slots, sorted,
                              activations, expertRows, init};
  auto kernel = GroupedExpertsOp::create(
      b, loc, ValueRange(inits).getTypes(), input, experts.getWeights(),
      experts.getIndices(), experts.getGateUp(), experts.getDown(),
      experts.getGateUpBias(), experts.getDownBias(), order, table, slots,
      sorted, activations, expertRows, init, experts.getActivationAttr(),
      experts.getAlphaAttr(), experts.getLimitAttr(),
      experts.getInterleavedGateUpAttr(), experts.getScaleInputAttr(),
      accumulate ? b.getUnitAttr() : UnitAttr());
  return kernel.getResults().back();
}

/// The output `unit` writes, made before its choice: the residual it
/// accumulates into, or a buffer both branches write.
Value expertsOutput(OpBuilder &b, Location loc, ExpertsUnit &unit, Value batch,
                    Value tokens) {
  if (unit.add)
    return unit.residual();
  return outputBeforeChoice(
      b, loc, cast<RankedTensorType>(unit.experts.getResult().getType()),
      {batch, tokens});
}

/// Replaces `unit`'s experts (and residual add) by `result`.
void replaceExpertsUnit(ExpertsUnit &unit, Value result) {
  Operation *last =
      unit.add ? unit.add.getOperation() : unit.experts.getOperation();
  last->getResult(0).replaceAllUsesWith(result);
  if (unit.add)
    unit.add.erase();
  unit.experts.erase();
  if (unit.norm && unit.norm->use_empty())
    unit.norm.erase();
}

/// lm.grouped_experts for every token count, in place of `unit`'s ops (its
/// norm stays an op of its own).
void selectGroupedExperts(ExpertsUnit &unit) {
  MoEExpertsOp experts = unit.experts;
  OpBuilder b(unit.add ? unit.add.getOperation() : experts.getOperation());
  Location loc = experts.getLoc();
  Value batch = tensor::DimOp::create(b, loc, experts.getInput(), 0);
  Value tokens = tensor::DimOp::create(b, loc, experts.getInput(), 1);
  Value init = expertsOutput(b, loc, unit, batch, tokens);
  unit.norm = nullptr;
  replaceExpertsUnit(unit,
                     buildGroupedExperts(b, loc, experts, experts.getInput(),
                                         init, bool(unit.add), batch, tokens));
}

/// rows < kStreamingRows ? lm.streamed_experts : lm.grouped_experts where
/// it applies (`grouped`), else the lm ops (the norm computed again for
/// them), in place of `unit`'s ops.
void selectStreamedExperts(ExpertsUnit &unit, bool grouped) {
  MoEExpertsOp experts = unit.experts;
  Operation *last = unit.add ? unit.add.getOperation() : experts.getOperation();
  OpBuilder b(last);
  Location loc = experts.getLoc();
  Value input = unit.norm ? unit.norm.getInput() : experts.getInput();
  Value batch = tensor::DimOp::create(b, loc, input, 0);
  Value tokens = tensor::DimOp::create(b, loc, input, 1);
  Value few = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ult,
      arith::MulIOp::create(b, loc, batch, tokens),
      arith::ConstantIndexOp::create(b, loc, gpu_mapping::kStreamingRows));
  // As selectStreamedGroup: the output allocated before the choice (both
  // branches write it), or the residual it accumulates into.
  auto resultType = cast<RankedTensorType>(last->getResult(0).getType());
  Value init = expertsOutput(b, loc, unit, batch, tokens);
  auto choice = scf::IfOp::create(b, loc, resultType, few,
                                  /*withElseRegion=*/true);

  b.setInsertionPointToStart(&choice.getThenRegion().front());
  // The activations, as the down product reads them.
  auto downType = cast<RankedTensorType>(experts.getDown().getType());
  auto dyn = ShapedType::kDynamic;
  Value hidden = tensor::EmptyOp::create(
      b, loc, {dyn, dyn, experts.getTopK(), downType.getDimSize(2)},
      downType.getElementType(), ValueRange{batch, tokens});
  RMSNormOp norm = unit.norm;
  auto kernel = StreamedExpertsOp::create(
      b, loc, TypeRange{hidden.getType(), init.getType()}, input,
      experts.getWeights(), experts.getIndices(), experts.getGateUp(),
      experts.getDown(), experts.getGateUpBias(), experts.getDownBias(),
      norm ? norm.getWeight() : Value(), hidden, init,
      experts.getActivationAttr(), experts.getAlphaAttr(),
      experts.getLimitAttr(), experts.getInterleavedGateUpAttr(),
      experts.getScaleInputAttr(), norm ? norm.getEpsilonAttr() : FloatAttr(),
      norm ? norm.getWeightOffsetAttr() : FloatAttr(),
      unit.add ? b.getUnitAttr() : UnitAttr(),
      b.getI64IntegerAttr(StreamedExpertsConfig::kWarps));
  scf::YieldOp::create(b, loc, kernel.getResult(1));

  b.setInsertionPointToStart(&choice.getElseRegion().front());
  IRMapping mapping;
  if (norm)
    b.clone(*norm, mapping);
  Value other;
  if (grouped) {
    other = buildGroupedExperts(b, loc, experts,
                                mapping.lookupOrDefault(experts.getInput()),
                                init, bool(unit.add), batch, tokens);
  } else {
    b.clone(*experts, mapping);
    other = unit.add
                ? b.clone(*unit.add, mapping)->getResult(0)
                : Value(bufferization::MaterializeInDestinationOp::create(
                            b, loc, mapping.lookup(experts.getResult()), init)
                            .getResult());
  }
  scf::YieldOp::create(b, loc, other);
  replaceExpertsUnit(unit, choice.getResult(0));
}

/// Whether `op` is in the generic branch of an earlier selection (whose
/// other branch holds one of `KernelOps`).
template <typename... KernelOps> bool inGenericBranch(Operation *op) {
  auto parent = dyn_cast<scf::IfOp>(op->getParentOp());
  return parent && parent.getElseRegion().isAncestor(op->getParentRegion()) &&
         llvm::any_of(parent.getThenRegion().getOps(),
                      [](Operation &o) { return isa<KernelOps...>(o); });
}

struct SelectGPUKernelsPass final
    : impl::SelectGPUKernelsPassBase<SelectGPUKernelsPass> {
  using Base::Base;
  void runOnOperation() override {
    struct AttentionChoice {
      AttentionOp op;
      bool decode, prompt;
    };
    SmallVector<AttentionChoice> attentions;
    getOperation().walk([&](AttentionOp op) {
      if (inGenericBranch<FlashDecodeOp>(op))
        return;
      std::optional<StringRef> noDecode = FlashDecodeConfig::refusal(op);
      std::optional<StringRef> noPrompt = FlashAttentionConfig::refusal(op);
      if (explain && noDecode)
        op.emitRemark("no flash decoding: ") << *noDecode;
      if (explain && noPrompt)
        op.emitRemark("no flash attention: ") << *noPrompt;
      if (!noDecode || !noPrompt)
        attentions.push_back({op, !noDecode, !noPrompt});
    });
    for (AttentionChoice &choice : attentions)
      selectAttention(choice.op, choice.decode, choice.prompt);

    struct MLAChoice {
      MLAAttentionOp op;
      std::optional<int64_t> headTile;
      bool prompt;
    };
    SmallVector<MLAChoice> mlas;
    getOperation().walk([&](MLAAttentionOp op) {
      if (inGenericBranch<FlashMLADecodeOp>(op))
        return;
      StringRef why;
      FailureOr<int64_t> tile = FlashMLADecodeConfig::headTile(op, why);
      std::optional<StringRef> noPrompt = FlashAttentionConfig::refusal(op);
      if (explain && failed(tile))
        op.emitRemark("no flash MLA decoding: ") << why;
      if (explain && noPrompt)
        op.emitRemark("no flash attention: ") << *noPrompt;
      if (succeeded(tile) || !noPrompt)
        mlas.push_back(
            {op, succeeded(tile) ? std::optional<int64_t>(*tile) : std::nullopt,
             !noPrompt});
    });
    for (MLAChoice &choice : mlas)
      selectMLA(choice.op, choice.headTile, choice.prompt);

    // Experts before the projections: a norm that only they and
    // projections read becomes a prologue of both.
    struct ExpertsChoice {
      MoEExpertsOp op;
      bool streamed, grouped;
    };
    SmallVector<ExpertsChoice> expertOps;
    getOperation().walk([&](MoEExpertsOp op) {
      if (inGenericBranch<StreamedExpertsOp>(op))
        return;
      std::optional<StringRef> noStreamed = StreamedExpertsConfig::refusal(op);
      std::optional<StringRef> noGrouped = GroupedExpertsConfig::refusal(op);
      if (explain && noStreamed)
        op.emitRemark("no streamed experts: ") << *noStreamed;
      if (explain && noGrouped)
        op.emitRemark("no grouped experts: ") << *noGrouped;
      if (!noStreamed || !noGrouped)
        expertOps.push_back({op, !noStreamed, !noGrouped});
    });
    for (ExpertsChoice &choice : expertOps) {
      ExpertsUnit unit = matchExpertsUnit(choice.op);
      if (choice.streamed)
        selectStreamedExperts(unit, choice.grouped);
      else
        selectGroupedExperts(unit);
    }

    // Projections of a normalised input first (the norm becomes their
    // prologue), then the others, each with its epilogue.
    SmallVector<StreamedGroup> normGroups;
    llvm::SmallPtrSet<Operation *, 16> epilogues;
    getOperation().walk([&](RMSNormOp op) {
      if (inGenericBranch<StreamedLinearOp>(op))
        return;
      std::optional<StringRef> why;
      FailureOr<StreamedGroup> group = matchNormGroup(op, epilogues, why);
      if (succeeded(group))
        normGroups.push_back(std::move(*group));
      else if (why && explain)
        op.emitRemark("no streamed projections: ") << *why;
    });
    for (StreamedGroup &group : normGroups)
      selectStreamedGroup(group);

    SmallVector<LinearOp> linears;
    getOperation().walk([&](LinearOp op) {
      if (!inGenericBranch<StreamedLinearOp, TiledLinearOp>(op))
        linears.push_back(op);
    });
    for (StreamedGroup &group : matchProjectionGroups(linears, explain))
      selectStreamedGroup(group);

    SmallVector<RouterOp> routers;
    getOperation().walk([&](RouterOp op) {
      if (std::optional<StringRef> why = refuseRouter(op)) {
        if (explain)
          op.emitRemark("no warp router: ") << *why;
        return;
      }
      routers.push_back(op);
    });
    for (RouterOp op : routers)
      selectWarpRouter(op);
  }
};
} // namespace
} // namespace mlir::lm
