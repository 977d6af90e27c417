//===- FuseElementwise.cpp - Elementwise fusion without recomputation -----===//

#include "lmc/Codegen/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "lm-fuse-elementwise"

namespace mlir::lm {
#define GEN_PASS_DEF_FUSEELEMENTWISEPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
/// Fuses only when every element of the producer is still computed once:
/// the consumer iterates exactly the producer's loops (possibly permuted or
/// with some as reductions), never extra ones, and is the producer's only
/// user. (A producer with several users stays and is recomputed inside the
/// fused consumer: along a residual stream, where every sum feeds the next
/// norm and the next sum, each layer's norm re-added every earlier layer's
/// output, quadratic in the depth; DeepSeek-V3's 61 layers gave a kernel
/// with more parameters than PTX allows.)
bool fusesWithoutRecomputation(OpOperand *fusedOperand) {
  auto producer = fusedOperand->get().getDefiningOp<linalg::LinalgOp>();
  auto consumer = dyn_cast<linalg::LinalgOp>(fusedOperand->getOwner());
  return producer && consumer && fusedOperand->get().hasOneUse() &&
         producer.getNumLoops() == consumer.getNumLoops();
}

struct FuseElementwisePass final
    : impl::FuseElementwisePassBase<FuseElementwisePass> {
  using Base::Base;
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    linalg::populateElementwiseOpsFusionPatterns(patterns,
                                                 fusesWithoutRecomputation);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, context);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
} // namespace mlir::lm
