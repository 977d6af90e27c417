//===- SelectKernels.cpp - GPU kernel templates chosen at the lm level ----===//
//
// The one home of the decision which lm op runs as which kernel template.
// It is made here, before lm-lower-to-linalg, because after it an attention
// is five generics that no longer say they are one. The phase is a host
// decision (the token count is only known per call), so a claimed op
// becomes a branch: the phase the template serves gets the kernel op, the
// other keeps the op for the generic path.
//
//===----------------------------------------------------------------------===//

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
    gpu_mapping::FlashDecodeFootprint footprint{kWarps, heads / kvHeads,
                                                keyDim, valueDim};
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

/// decode ? lm.flash_decode : lm.attention, in place of `op`.
void selectFlashDecode(AttentionOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value q = op.getQuery();
  auto resultType = cast<RankedTensorType>(op.getType());
  int64_t heads = resultType.getDimSize(2), valueDim = resultType.getDimSize(3);
  int64_t kvHeads = cast<RankedTensorType>(op.getKey().getType()).getDimSize(2);
  Value tokens = tensor::DimOp::create(b, loc, q, 1);
  Value decode =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tokens,
                            arith::ConstantIndexOp::create(b, loc, 1));
  auto choice = scf::IfOp::create(b, loc, resultType, decode,
                                  /*withElseRegion=*/true);

  b.setInsertionPointToStart(&choice.getThenRegion().front());
  Value batch = tensor::DimOp::create(b, loc, q, 0);
  Value keys = tensor::DimOp::create(b, loc, op.getKey(), 1);
  Value splits = FlashDecodeConfig::splits(b, loc, batch, keys, kvHeads);
  Value partials = tensor::EmptyOp::create(
      b, loc, {ShapedType::kDynamic, heads, ShapedType::kDynamic, valueDim + 2},
      b.getF32Type(), ValueRange{batch, splits});
  Value init = tensor::EmptyOp::create(
      b, loc, {ShapedType::kDynamic, ShapedType::kDynamic, heads, valueDim},
      b.getF32Type(), ValueRange{batch, tokens});
  SmallVector<Value> operands = {q, op.getKey(), op.getValue(),
                                 op.getPositions()};
  if (Value sinks = op.getSinks())
    operands.push_back(sinks);
  operands.append({partials, init});
  auto kernel = FlashDecodeOp::create(
      b, loc, TypeRange{partials.getType(), init.getType()}, operands,
      op->getAttrs());
  kernel.setWarps(FlashDecodeConfig::kWarps);
  Value result = kernel.getResult(1);
  if (result.getType() != resultType)
    result = tensor::CastOp::create(b, loc, resultType, result);
  scf::YieldOp::create(b, loc, result);

  b.setInsertionPointToStart(&choice.getElseRegion().front());
  Operation *prompt = b.clone(*op);
  scf::YieldOp::create(b, loc, prompt->getResult(0));
  op.replaceAllUsesWith(choice.getResult(0));
  op.erase();
}

/// lm.streamed_linear's configuration for the projections of a normalised
/// input, reasoned, not timed: 8 warps as every other template, and the
/// projection generic's rows per pass over the weight.
struct StreamedLinearConfig {
  static constexpr int64_t kWarps = kWarpsPerBlock;
  static constexpr int64_t kRowGroup = gpu_mapping::kStreamingRowGroup;
};

/// An lm.rms_norm whose result only the linears read, directly or rounded
/// to their weights' bf16.
struct NormedLinears {
  RMSNormOp norm;
  arith::TruncFOp rounding; ///< Null in f32.
  SmallVector<LinearOp> linears;
};

/// Whether `value` is an argument of the function (as weights are after
/// lm-weights-to-arguments): available anywhere in it.
bool isFunctionArgument(Value value) {
  auto arg = dyn_cast<BlockArgument>(value);
  return arg && isa<func::FuncOp>(arg.getOwner()->getParentOp());
}

/// The linears reading `norm`'s result, or why the template cannot serve
/// them; nothing (no remark) when no linear reads it.
FailureOr<NormedLinears> matchNormedLinears(RMSNormOp norm,
                                            std::optional<StringRef> &why) {
  NormedLinears match{norm, nullptr, {}};
  Value normalised = norm.getResult();
  if (normalised.hasOneUse())
    if (auto rounding =
            dyn_cast<arith::TruncFOp>(*normalised.getUsers().begin()))
      if (getElementTypeOrSelf(rounding.getType()).isBF16()) {
        match.rounding = rounding;
        normalised = rounding.getResult();
      }
  bool others = false;
  for (OpOperand &use : normalised.getUses()) {
    auto linear = dyn_cast<LinearOp>(use.getOwner());
    if (linear && use.getOperandNumber() == 0)
      match.linears.push_back(linear);
    else
      others = true;
  }
  if (match.linears.empty())
    return failure();
  llvm::sort(match.linears, [](LinearOp a, LinearOp b) {
    return a->getBlock() == b->getBlock() && a->isBeforeInBlock(b);
  });
  auto refuse = [&](StringRef reason) {
    why = reason;
    return failure();
  };
  if (others)
    return refuse("the normalised value has users other than projections");
  if (!norm.getWeight())
    return refuse("a weightless norm");
  auto inputType = cast<RankedTensorType>(norm.getInput().getType());
  int64_t k = inputType.getDimSize(inputType.getRank() - 1);
  if (ShapedType::isDynamic(k))
    return refuse("dynamic in features");
  Type operandType = getElementTypeOrSelf(normalised.getType());
  for (LinearOp linear : match.linears) {
    auto weightType = cast<RankedTensorType>(linear.getWeight().getType());
    if (!weightType.hasStaticShape())
      return refuse("a dynamic weight");
    if (weightType.getElementType() != operandType ||
        !(operandType.isF32() || operandType.isBF16()))
      return refuse("weight and input types differ, or are neither f32 nor "
                    "bf16");
    if (!getElementTypeOrSelf(linear.getType()).isF32())
      return refuse("not an f32 result");
    // The linears move to where the norm was.
    if (linear->getBlock() != norm->getBlock())
      return refuse("a projection in another block than the norm");
    for (Value param : {linear.getWeight(), linear.getBias()})
      if (param && !isFunctionArgument(param))
        return refuse("a weight or bias that is not a function argument "
                      "(a transposed or sliced view)");
  }
  gpu_mapping::StreamedLinearFootprint footprint{
      StreamedLinearConfig::kRowGroup, k, operandType, /*norm=*/true};
  if (footprint.sharedBytes() > kStaticSharedBytes)
    return refuse("normalised rows exceed static shared memory");
  return match;
}

/// rows < kStreamingRows ? lm.streamed_linear each : norm and linears, in
/// place of `match`'s ops.
void selectStreamedLinears(NormedLinears &match) {
  RMSNormOp norm = match.norm;
  OpBuilder b(norm);
  Location loc = norm.getLoc();
  Value input = norm.getInput();
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
  // The outputs are allocated before the choice and both branches write
  // them (the generic branch's own become them: eliminate-empty-tensors),
  // so that they bufferize to one buffer of the identity layout, an arena
  // slot. (Allocations, not tensor.empty: CSE would make the k and v
  // projections' outputs one.)
  SmallVector<Type> resultTypes;
  SmallVector<Value> inits;
  for (LinearOp linear : match.linears) {
    auto type = cast<RankedTensorType>(linear.getType());
    SmallVector<Value> dynamicSizes;
    for (int64_t dim = 0; dim + 1 < type.getRank(); ++dim)
      if (type.isDynamicDim(dim))
        dynamicSizes.push_back(leading[dim]);
    resultTypes.push_back(type);
    inits.push_back(
        bufferization::AllocTensorOp::create(b, loc, type, dynamicSizes));
  }
  auto choice = scf::IfOp::create(b, loc, resultTypes, few,
                                  /*withElseRegion=*/true);

  b.setInsertionPointToStart(&choice.getThenRegion().front());
  SmallVector<Value> streamed;
  for (auto [linear, init] : llvm::zip(match.linears, inits)) {
    auto type = cast<RankedTensorType>(linear.getType());
    auto kernel = StreamedLinearOp::create(
        b, loc, TypeRange{type}, input, linear.getWeight(), linear.getBias(),
        norm.getWeight(), init, norm.getEpsilonAttr(),
        norm.getWeightOffsetAttr(),
        b.getI64IntegerAttr(StreamedLinearConfig::kWarps),
        b.getI64IntegerAttr(StreamedLinearConfig::kRowGroup));
    streamed.push_back(kernel.getResult(0));
  }
  scf::YieldOp::create(b, loc, streamed);

  b.setInsertionPointToStart(&choice.getElseRegion().front());
  IRMapping mapping;
  b.clone(*norm, mapping);
  if (match.rounding)
    b.clone(*match.rounding, mapping);
  SmallVector<Value> generic;
  for (auto [linear, init] : llvm::zip(match.linears, inits))
    generic.push_back(bufferization::MaterializeInDestinationOp::create(
                          b, loc, b.clone(*linear, mapping)->getResult(0), init)
                          .getResult());
  scf::YieldOp::create(b, loc, generic);

  for (auto [linear, result] : llvm::zip(match.linears, choice.getResults())) {
    linear.replaceAllUsesWith(result);
    linear.erase();
  }
  if (match.rounding)
    match.rounding.erase();
  norm.erase();
}

/// Whether `op` is in the generic branch of an earlier selection (whose
/// other branch holds a `KernelOp`).
template <typename KernelOp> bool inGenericBranch(Operation *op) {
  auto parent = dyn_cast<scf::IfOp>(op->getParentOp());
  return parent && parent.getElseRegion().isAncestor(op->getParentRegion()) &&
         llvm::any_of(parent.getThenRegion().getOps(),
                      [](Operation &o) { return isa<KernelOp>(o); });
}

struct SelectGPUKernelsPass final
    : impl::SelectGPUKernelsPassBase<SelectGPUKernelsPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<AttentionOp> claimed;
    getOperation().walk([&](AttentionOp op) {
      if (inGenericBranch<FlashDecodeOp>(op))
        return;
      if (std::optional<StringRef> why = FlashDecodeConfig::refusal(op)) {
        if (explain)
          op.emitRemark("no flash decoding: ") << *why;
        return;
      }
      claimed.push_back(op);
    });
    for (AttentionOp op : claimed)
      selectFlashDecode(op);

    SmallVector<NormedLinears> normed;
    getOperation().walk([&](RMSNormOp op) {
      if (inGenericBranch<StreamedLinearOp>(op))
        return;
      std::optional<StringRef> why;
      FailureOr<NormedLinears> match = matchNormedLinears(op, why);
      if (succeeded(match))
        normed.push_back(*match);
      else if (why && explain)
        op.emitRemark("no streamed projections: ") << *why;
    });
    for (NormedLinears &match : normed)
      selectStreamedLinears(match);
  }
};
} // namespace
} // namespace mlir::lm
