//===- BufferRoots.cpp - Which buffer a view is of ------------------------===//

#include "BufferRoots.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;

Value lm::rootOf(Value value) {
  while (!value.getDefiningOp<memref::ViewOp>()) {
    auto view = value.getDefiningOp<ViewLikeOpInterface>();
    if (!view)
      break;
    value = view.getViewSource();
  }
  return value;
}

bool lm::touches(Operation *op, Value root) {
  return op
      ->walk([&](Operation *inner) {
        return llvm::any_of(inner->getOperands(),
                            [&](Value v) {
                              return isa<BaseMemRefType>(v.getType()) &&
                                     rootOf(v) == root;
                            })
                   ? WalkResult::interrupt()
                   : WalkResult::advance();
      })
      .wasInterrupted();
}
