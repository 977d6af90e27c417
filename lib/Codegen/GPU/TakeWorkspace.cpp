//===- TakeWorkspace.cpp - The arena as memory the caller reserves --------===//
//
// lm-plan-arena puts a forward pass's temporaries in one arena allocated at
// its start. On the GPU that would be a device allocation inside every
// step. Here the arena becomes the function's last argument, the
// workspace, which the runtime allocates once per session, and its size
// (computed from the call's shapes: batch, tokens, context) becomes a
// function of its own with the same arguments, which the runtime calls at
// session creation for the largest call it will make, and before each call
// to check it.
//
//===----------------------------------------------------------------------===//

#include "lmc/Codegen/Passes.h"
#include "lmc/Dialect/LM/ForwardAbi.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::lm {
#define GEN_PASS_DEF_TAKEWORKSPACEPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {

/// The arena lm-plan-arena allocated in `func`'s body (none if the
/// function has no temporaries); failure if there are several.
FailureOr<Operation *> findArena(func::FuncOp func) {
  Operation *arena = nullptr;
  for (Operation &op : func.getBody().front()) {
    if (!op.hasAttr(abi::kArena))
      continue;
    if (arena || !isa<gpu::AllocOp, memref::AllocOp>(op) ||
        op.getNumOperands() != 1)
      return op.emitOpError("is not the one arena lm-take-workspace expects"),
             failure();
    arena = &op;
  }
  return arena;
}

/// Whether `op` can be computed before the call from the call's shapes: a
/// pure, region-free op (unsigned divisions included: the arena's size is
/// computed unconditionally where it stands) or the size of an argument.
bool computableFromShapes(Operation *op, Block &entry) {
  if (auto dim = dyn_cast<memref::DimOp>(op))
    return isa<BlockArgument>(dim.getSource()) &&
           dim.getSource().getParentBlock() == &entry;
  return op->getNumRegions() == 0 && op->getNumResults() == 1 &&
         (isPure(op) ||
          isa<arith::DivUIOp, arith::CeilDivUIOp, arith::RemUIOp>(op));
}

struct TakeWorkspacePass final
    : impl::TakeWorkspacePassBase<TakeWorkspacePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>(abi::kForward);
    if (!forward || forward.isExternal())
      return;
    if (!forward.getBody().hasOneBlock()) {
      forward.emitOpError("has several blocks; lm-take-workspace expects one");
      return signalPassFailure();
    }
    Block &entry = forward.getBody().front();
    FailureOr<Operation *> arena = findArena(forward);
    if (failed(arena))
      return signalPassFailure();

    // The size's computation, in program order.
    SetVector<Operation *> slice;
    Value bytes = *arena ? (*arena)->getOperand(0) : Value();
    if (bytes) {
      BackwardSliceOptions options;
      options.omitBlockArguments = true;
      options.inclusive = true;
      if (failed(getBackwardSlice(bytes, &slice, options)))
        return signalPassFailure();
      for (Operation *op : slice)
        if (!computableFromShapes(op, entry)) {
          op->emitOpError("computes the arena's size from what the call "
                          "reads or writes; the workspace must be sized from "
                          "its shapes");
          return signalPassFailure();
        }
    }

    // The workspace: the last argument, in place of the arena.
    OpBuilder b(module.getContext());
    auto workspaceType =
        MemRefType::get({ShapedType::kDynamic}, b.getIntegerType(8));
    unsigned index = forward.getNumArguments();
    if (failed(forward.insertArgument(
            index, workspaceType,
            b.getDictionaryAttr(
                b.getNamedAttr(abi::kName, b.getStringAttr(abi::kWorkspace))),
            forward.getLoc())))
      return signalPassFailure();
    if (Operation *op = *arena) {
      Value workspace = entry.getArgument(index);
      Value buffer = op->getResult(0);
      for (Operation *user : llvm::make_early_inc_range(buffer.getUsers()))
        if (isa<gpu::DeallocOp, memref::DeallocOp>(user))
          user->erase();
      buffer.replaceAllUsesWith(workspace);
      op->erase();
    }

    // Its size, from the same arguments.
    b.setInsertionPointAfter(forward);
    auto sizeFunction = func::FuncOp::create(
        b, forward.getLoc(), abi::kWorkspaceBytes,
        b.getFunctionType(forward.getArgumentTypes(), {b.getIndexType()}));
    Block *body = sizeFunction.addEntryBlock();
    b.setInsertionPointToStart(body);
    IRMapping mapping;
    mapping.map(entry.getArguments(), body->getArguments());
    for (Operation *op : slice)
      b.clone(*op, mapping);
    Value result = bytes
                       ? mapping.lookup(bytes)
                       : arith::ConstantIndexOp::create(b, forward.getLoc(), 0)
                             .getResult();
    func::ReturnOp::create(b, forward.getLoc(), result);
  }
};
} // namespace
} // namespace mlir::lm
