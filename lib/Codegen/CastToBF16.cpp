//===- CastToBF16.cpp - bf16 weights and projection inputs ----------------===//

#include "lmc/Codegen/Passes.h"
#include "lmc/Dialect/LM/LMDialect.h"
#include "lmc/Dialect/LM/LMOps.h"

namespace mlir::lm {
#define GEN_PASS_DEF_CASTTOBF16PASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
bool hasElementType(Value value, function_ref<bool(Type)> pred) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && pred(type.getElementType());
}

/// Retypes `value` to bf16, and the layout ops that only move its elements
/// (a fused expert tensor's transpose or slices) with it.
void retype(Value value) {
  if (!hasElementType(value, [](Type t) { return t.isF32(); }))
    return;
  auto type = cast<RankedTensorType>(value.getType());
  value.setType(type.clone(BFloat16Type::get(type.getContext())));
  for (Operation *user : value.getUsers())
    if (isa<TransposeOp, SliceOp>(user))
      retype(user->getResult(0));
}

/// `value` rounded to bf16, computed once right after `value`.
Value roundedToBF16(Value value, DenseMap<Value, Value> &rounded) {
  Value &result = rounded[value];
  if (result)
    return result;
  OpBuilder b(value.getContext());
  b.setInsertionPointAfterValue(value);
  auto type = cast<RankedTensorType>(value.getType());
  result = arith::TruncFOp::create(b, value.getLoc(),
                                   type.clone(b.getBF16Type()), value);
  return result;
}

struct CastToBF16Pass final : impl::CastToBF16PassBase<CastToBF16Pass> {
  using Base::Base;
  void runOnOperation() override {
    getOperation().walk([](Operation *op) {
      if (isa<WeightOp, StackedWeightOp>(op))
        retype(op->getResult(0));
    });
    auto isBF16 = [](Type t) { return t.isBF16(); };
    auto isF32 = [](Type t) { return t.isF32(); };
    DenseMap<Value, Value> rounded;
    getOperation().walk([&](LinearOp op) {
      if (hasElementType(op.getWeight(), isBF16) &&
          hasElementType(op.getInput(), isF32))
        op.getInputMutable().assign(roundedToBF16(op.getInput(), rounded));
    });
    // Attention's products on tensor cores, as the projections'.
    getOperation().walk([](AttentionOp op) { op.setBf16Products(true); });
    getOperation().walk([](MLAAttentionOp op) { op.setBf16Products(true); });
    // What a latent or key cache stores is rounded as it is written, so a
    // bf16 cache (lm-set-cache-types) holds it exactly. A KV cache needs no
    // rounding: attention's bf16 products round k and v where they read them
    // (rounded here, the v of a Qwen3 decode step took a kernel of its own).
    getOperation().walk([&](Operation *op) {
      if (!isa<LatentCacheUpdateOp, KeyCacheUpdateOp>(op))
        return;
      // Operands after the cache, before the positions, are written.
      for (OpOperand &written : op->getOpOperands().drop_front().drop_back())
        if (hasElementType(written.get(), isF32))
          written.set(roundedToBF16(written.get(), rounded));
    });
  }
};
} // namespace
} // namespace mlir::lm
