//===- WeightsToArguments.cpp - Weights become @forward arguments ---------===//

#include "lmc/Codegen/Passes.h"
#include "lmc/Dialect/LM/ForwardAbi.h"
#include "lmc/Dialect/LM/LMOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#define DEBUG_TYPE "lm-weights-to-arguments"

namespace mlir::lm {
#define GEN_PASS_DEF_WEIGHTSTOARGUMENTSPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
/// The identity of a weight: its name, or its stacked patterns and count.
std::pair<StringRef, Attribute> weightKey(Operation *op) {
  if (auto w = dyn_cast<WeightOp>(op))
    return {abi::kWeight, w.getNameAttr()};
  auto s = cast<StackedWeightOp>(op);
  return {abi::kStackedWeight, s.getPatternsAttr()};
}

struct WeightsToArgumentsPass final
    : impl::WeightsToArgumentsPassBase<WeightsToArgumentsPass> {
  using Base::Base;
  void runOnOperation() override {
    auto forward = getOperation().lookupSymbol<func::FuncOp>(abi::kForward);
    if (!forward) {
      getOperation().emitError("expected a 'forward' function");
      return signalPassFailure();
    }
    Block &entry = forward.getBody().front();
    llvm::DenseMap<Attribute, BlockArgument> arguments;
    SmallVector<Operation *> weights;
    forward.walk([&](Operation *op) {
      if (isa<WeightOp, StackedWeightOp>(op))
        weights.push_back(op);
    });
    for (Operation *op : weights) {
      auto [attrName, key] = weightKey(op);
      BlockArgument &arg = arguments[key];
      if (!arg) {
        NamedAttrList attrs;
        attrs.set(attrName, key);
        if (auto s = dyn_cast<StackedWeightOp>(op))
          attrs.set(abi::kStackedCount, s.getCountAttr());
        unsigned index = forward.getNumArguments();
        if (failed(forward.insertArgument(index, op->getResult(0).getType(),
                                          attrs.getDictionary(&getContext()),
                                          op->getLoc())))
          return signalPassFailure();
        arg = entry.getArgument(index);
      }
      op->getResult(0).replaceAllUsesWith(arg);
      op->erase();
    }
  }
};
} // namespace
} // namespace mlir::lm
