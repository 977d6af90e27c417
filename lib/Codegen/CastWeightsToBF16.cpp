//===- CastWeightsToBF16.cpp - f32 weights become bf16 --------------------===//

#include "lmc/Codegen/Passes.h"
#include "lmc/Dialect/LM/LMDialect.h"
#include "lmc/Dialect/LM/LMOps.h"

namespace mlir::lm {
#define GEN_PASS_DEF_CASTWEIGHTSTOBF16PASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
/// Retypes `value` to bf16, and the layout ops that only move its elements
/// (a fused expert tensor's transpose or slices) with it.
void retype(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  if (!type.getElementType().isF32())
    return;
  value.setType(type.clone(BFloat16Type::get(type.getContext())));
  for (Operation *user : value.getUsers())
    if (isa<TransposeOp, SliceOp>(user))
      retype(user->getResult(0));
}

struct CastWeightsToBF16Pass final
    : impl::CastWeightsToBF16PassBase<CastWeightsToBF16Pass> {
  using Base::Base;
  void runOnOperation() override {
    getOperation().walk([](Operation *op) {
      if (isa<WeightOp, StackedWeightOp>(op))
        retype(op->getResult(0));
    });
  }
};
} // namespace
} // namespace mlir::lm
