//===- FoldAddIntoReduction.cpp - x + sum(...) as a sum that starts at x --===//
//
// A residual add after a projection, `x + (0 + sum_k a*w)`, is the same sum
// started from x instead of 0: the reduction takes x as its init and the
// add (a kernel of its own on the GPU, a pass over memory on the host) goes.
//
//===----------------------------------------------------------------------===//

#include "Combiner.h"
#include "lmc/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::lm {
#define GEN_PASS_DEF_FOLDADDINTOREDUCTIONPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
/// Whether `op` is `yield(addf(a, b))` over two inputs, all loops parallel
/// and all maps identities.
bool isElementwiseAdd(linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op.getNumResults() != 1 || op.getNumReductionLoops() != 0 ||
      !llvm::all_of(op.getIndexingMapsArray(),
                    [](AffineMap m) { return m.isIdentity(); }))
    return false;
  Block &body = op.getRegion().front();
  auto add = dyn_cast_or_null<arith::AddFOp>(
      body.getTerminator()->getOperand(0).getDefiningOp());
  return add && body.getOperations().size() == 2 &&
         llvm::is_contained(add->getOperands(), body.getArgument(0)) &&
         llvm::is_contained(add->getOperands(), body.getArgument(1)) &&
         body.getArgument(0) != body.getArgument(1);
}

/// Whether `op` is a sum (`yield(addf(out, v))`) into one output that a zero
/// fill initialises (CSE may have shared the fill with other reductions),
/// with every parallel loop indexing the output once.
bool isSumFromZero(linalg::GenericOp op) {
  if (op.getNumDpsInits() != 1 || op.getNumResults() != 1 ||
      op.getNumReductionLoops() == 0 ||
      !op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isProjectedPermutation() ||
      !isa_and_nonnull<arith::AddFOp>(matchCombiner(op)))
    return false;
  auto fill = op.getDpsInitOperand(0)->get().getDefiningOp<linalg::FillOp>();
  return fill && matchPattern(fill.getInputs()[0], m_AnyZeroFloat());
}

struct FoldAddIntoReduction final : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::GenericOp add,
                                PatternRewriter &rewriter) const override {
    if (!add.hasPureTensorSemantics() || !isElementwiseAdd(add))
      return failure();
    for (unsigned i = 0; i < 2; ++i) {
      Value sum = add.getDpsInputs()[i], addend = add.getDpsInputs()[1 - i];
      auto reduction = sum.getDefiningOp<linalg::GenericOp>();
      if (!reduction || !sum.hasOneUse() || !isSumFromZero(reduction) ||
          addend.getType() != sum.getType() ||
          add.getResult(0).getType() != sum.getType())
        continue;
      // The same sum, started from the addend.
      Operation *fill = reduction.getDpsInitOperand(0)->get().getDefiningOp();
      rewriter.modifyOpInPlace(reduction, [&] {
        reduction.getDpsInitOperand(0)->set(addend);
      });
      // The addend must be computed before the reduction it now starts.
      if (Operation *def = addend.getDefiningOp();
          def && def->getBlock() == reduction->getBlock() &&
          reduction->isBeforeInBlock(def))
        rewriter.moveOpAfter(reduction, add);
      rewriter.replaceOp(add, reduction.getResult(0));
      if (fill->use_empty())
        rewriter.eraseOp(fill);
      return success();
    }
    return failure();
  }
};

struct FoldAddIntoReductionPass final
    : impl::FoldAddIntoReductionPassBase<FoldAddIntoReductionPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldAddIntoReduction>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
} // namespace mlir::lm
