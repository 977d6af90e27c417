//===- SetCacheTypes.cpp - The element type each cache stores -------------===//

#include "lmc/Codegen/Passes.h"
#include "lmc/Dialect/LM/LMOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::lm {
#define GEN_PASS_DEF_SETCACHETYPESPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
/// `type` storing `kv` if it is a KV cache, f32 if it is another cache;
/// any other type as it is.
Type storedType(Type type, Type kv) {
  Type f32 = Float32Type::get(type.getContext());
  return llvm::TypeSwitch<Type, Type>(type)
      .Case([&](KVCacheType t) {
        return KVCacheType::get(t.getContext(), t.getNumHeads(), t.getKeyDim(),
                                t.getValueDim(), t.getWindow(), kv);
      })
      .Case([&](LatentCacheType t) {
        return LatentCacheType::get(t.getContext(), t.getLatentDim(),
                                    t.getRopeDim(), f32);
      })
      .Case([&](KeyCacheType t) {
        return KeyCacheType::get(t.getContext(), t.getDim(), t.getWindow(),
                                 f32);
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
      // The stored keys and values, read where they are; only attention
      // reads them, and it widens what it reads.
      func.walk([&](KVCacheUpdateOp update) {
        for (Value read : {update.getKeys(), update.getValues()}) {
          auto type = cast<RankedTensorType>(read.getType());
          if (llvm::all_of(read.getUsers(), [](Operation *user) {
                return isa<AttentionOp>(user);
              }))
            read.setType(type.clone(kv));
        }
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
