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
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

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

struct SelectGPUKernelsPass final
    : impl::SelectGPUKernelsPassBase<SelectGPUKernelsPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<AttentionOp> claimed;
    getOperation().walk([&](AttentionOp op) {
      // Already the prompt branch of an earlier selection.
      if (auto parent = dyn_cast<scf::IfOp>(op->getParentOp()))
        if (parent.getElseRegion().isAncestor(op->getParentRegion()) &&
            llvm::any_of(parent.getThenRegion().getOps(),
                         [](Operation &o) { return isa<FlashDecodeOp>(o); }))
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
  }
};
} // namespace
} // namespace mlir::lm
