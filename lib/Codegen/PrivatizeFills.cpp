//===- PrivatizeFills.cpp - One fill per user of a filled tensor ----------===//

#include "lmc/Codegen/Passes.h"

namespace mlir::lm {
#define GEN_PASS_DEF_PRIVATIZEFILLSPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
struct PrivatizeFillsPass final
    : impl::PrivatizeFillsPassBase<PrivatizeFillsPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<linalg::FillOp> shared;
    getOperation().walk([&](linalg::FillOp fill) {
      if (fill.hasPureTensorSemantics() && !fill->getResult(0).hasOneUse())
        shared.push_back(fill);
    });
    for (linalg::FillOp fill : shared) {
      auto empty = fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>();
      // The first use in program order keeps the fill; every other use
      // gets one of its own, right before it.
      SmallVector<OpOperand *> uses;
      for (OpOperand &use : fill->getResult(0).getUses())
        uses.push_back(&use);
      Block *block = fill->getBlock();
      auto position = [&](OpOperand *use) {
        return block->findAncestorOpInBlock(*use->getOwner());
      };
      if (!llvm::all_of(uses, position))
        continue; // a use outside the fill's block: leave it to bufferization
      llvm::sort(uses, [&](OpOperand *a, OpOperand *b) {
        return position(a)->isBeforeInBlock(position(b));
      });
      for (OpOperand *use : llvm::drop_begin(uses)) {
        OpBuilder b(use->getOwner());
        IRMapping mapping;
        if (empty)
          mapping.map(empty.getResult(), b.clone(*empty)->getResult(0));
        use->set(b.clone(*fill, mapping)->getResult(0));
      }
    }
  }
};
} // namespace
} // namespace mlir::lm
