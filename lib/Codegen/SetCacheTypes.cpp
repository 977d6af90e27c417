//===- SetCacheTypes.cpp - The element type each cache stores -------------===//

#include "lmc/Codegen/Passes.h"
#include "lmc/Dialect/LM/LMOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::lm {
#define GEN_PASS_DEF_SETCACHETYPESPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
/// `type` storing `kv` if it is a KV, latent or key cache, f32 if it is a
/// compressed cache; any other type as it is.
Type storedType(Type type, Type kv) {
  Type f32 = Float32Type::get(type.getContext());
  return llvm::TypeSwitch<Type, Type>(type)
      .Case([&](KVCacheType t) {
        return KVCacheType::get(t.getContext(), t.getNumHeads(), t.getKeyDim(),
                                t.getValueDim(), t.getWindow(), kv);
      })
      .Case([&](LatentCacheType t) {
        return LatentCacheType::get(t.getContext(), t.getLatentDim(),
                                    t.getRopeDim(), kv);
      })
      .Case([&](KeyCacheType t) {
        return KeyCacheType::get(t.getContext(), t.getDim(), t.getWindow(), kv);
      })
      .Case([&](CompressedCacheType t) {
        return CompressedCacheType::get(t.getContext(), t.getDim(),
                                        t.getRatio(), t.getOverlap(), f32);
      })
      .Default([](Type t) { return t; });
}

void retype(Value value, Type kv) {
  value.setType(storedType(value.getType(), kv));
}

struct SetCacheTypesPass final
    : impl::SetCacheTypesPassBase<SetCacheTypesPass> {
  using Base::Base;
  void runOnOperation() override {
    Builder b(&getContext());
    Type kv;
    if (kvDtype == "f32")
      kv = b.getF32Type();
    else if (kvDtype == "bf16")
      kv = b.getBF16Type();
    else {
      getOperation().emitError("unsupported kv-dtype '")
          << kvDtype << "' (supported: f32, bf16)";
      return signalPassFailure();
    }
    getOperation().walk([&](func::FuncOp func) {
      if (func.isExternal())
        return;
      for (BlockArgument arg : func.getArguments())
        retype(arg, kv);
      func.walk([&](Operation *op) {
        for (Value result : op->getResults())
          retype(result, kv);
      });
      // What a cache update reads back has the stored type where only
      // attention ops read it (they widen what they read): no widened copy.
      func.walk([&](Operation *op) {
        if (!isa<KVCacheUpdateOp, LatentCacheUpdateOp, KeyCacheUpdateOp>(op))
          return;
        for (Value read : op->getResults().drop_front())
          if (llvm::all_of(read.getUsers(), [](Operation *user) {
                return isa<AttentionOp, MLAAttentionOp, LightningIndexerOp>(
                    user);
              }))
            read.setType(cast<RankedTensorType>(read.getType()).clone(kv));
      });
      auto returnOp =
          cast<func::ReturnOp>(func.getBody().front().getTerminator());
      func.setFunctionType(FunctionType::get(
          &getContext(), func.getBody().front().getArgumentTypes(),
          returnOp.getOperandTypes()));
    });
  }
};
} // namespace
} // namespace mlir::lm
