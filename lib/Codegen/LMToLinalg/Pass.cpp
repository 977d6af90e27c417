//===- Pass.cpp - The lm-lower-to-linalg pass -----------------------------===//

#include "Common.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "lm-lower-to-linalg"

namespace mlir::lm {
#define GEN_PASS_DEF_LOWERTOLINALGPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
struct LowerToLinalgPass final
    : impl::LowerToLinalgPassBase<LowerToLinalgPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    lowering::populatePointwisePatterns(patterns);
    lowering::populateNormPatterns(patterns);
    lowering::populateProjectionPatterns(patterns);
    lowering::populateRopePatterns(patterns);
    lowering::populateAttentionPatterns(patterns);
    lowering::populateMoEPatterns(patterns);
    lowering::populateRecurrentPatterns(patterns);
    lowering::populateHyperConnectionPatterns(patterns);
    GreedyRewriteConfig config;
    config.setUseTopDownTraversal(true);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                     config)))
      return signalPassFailure();
    // Whatever lm op is left has no lowering here (weights and state ops are
    // the business of earlier passes): say which.
    // Kernel ops (destination style) are a target's, built after
    // bufferization.
    WalkResult result = getOperation().walk([](Operation *op) {
      if (isa<LMDialect>(op->getDialect()) &&
          !isa<DestinationStyleOpInterface>(op)) {
        op->emitError("cannot lower '")
            << op->getName() << "' for the host (weights and state must be "
            << "arguments first: lm-weights-to-arguments, lm-lower-state)";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
  }
};
} // namespace
} // namespace mlir::lm
