//===- Combiner.cpp - Reductions that fold one value into the output ------===//

#include "Combiner.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;

Operation *lm::matchCombiner(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  BlockArgument out = body.getArgument(op.getNumDpsInputs());
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  Operation *combiner = yield.getValues()[0].getDefiningOp();
  if (!combiner || combiner->getBlock() != &body || !out.hasOneUse() ||
      combiner->getNumOperands() != 2 ||
      !llvm::is_contained(combiner->getOperands(), Value(out)) ||
      combiner->getOperand(0) == combiner->getOperand(1))
    return nullptr;
  if (!isa<arith::AddFOp, arith::MaximumFOp, arith::MinimumFOp,
           arith::MaxNumFOp, arith::MinNumFOp>(combiner))
    return nullptr;
  return combiner;
}

Value lm::combinedValue(linalg::GenericOp op, Operation *combiner) {
  Value out = op.getRegion().front().getArgument(op.getNumDpsInputs());
  return combiner->getOperand(0) == out ? combiner->getOperand(1)
                                        : combiner->getOperand(0);
}
