//===- LowerStridedCopies.cpp - memref.copy of views -> linalg.copy -------===//

#include "lmc/Codegen/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "lm-lower-strided-copies"

namespace mlir::lm {
#define GEN_PASS_DEF_LOWERSTRIDEDCOPIESPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
// memref.copy %a, %b -> linalg.copy ins(%a) outs(%b) when either side is not
// contiguous.
struct LinalgCopyForStridedViews final : OpRewritePattern<memref::CopyOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(memref::CopyOp op,
                                PatternRewriter &rewriter) const override {
    auto source = cast<MemRefType>(op.getSource().getType());
    auto target = cast<MemRefType>(op.getTarget().getType());
    if (source.getLayout().isIdentity() && target.getLayout().isIdentity())
      return rewriter.notifyMatchFailure(op, "contiguous copy");
    rewriter.replaceOpWithNewOp<linalg::CopyOp>(op, op.getSource(),
                                                op.getTarget());
    return success();
  }
};

struct LowerStridedCopiesPass final
    : impl::LowerStridedCopiesPassBase<LowerStridedCopiesPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<LinalgCopyForStridedViews>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
} // namespace mlir::lm
