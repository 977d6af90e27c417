//===- TakeWorkspace.cpp - The arena as memory the caller reserves --------===//
//
// lm-plan-arena puts a forward pass's temporaries in one arena allocated at
// its start. On the GPU that would be a device allocation inside every
// step. Here the arena becomes the function's last argument, the
// workspace, which the runtime allocates once per session, and its size
// (computed from the call's shapes: batch, tokens, context) becomes a
// function of its own with the same arguments, which the runtime calls at
// session creation for the largest call it will make, and before each call
// to check it. The size must not shrink as tokens or context grow (checked
// here), so the largest call's bounds every other's.
//
//===----------------------------------------------------------------------===//

#include "lmc/Codegen/Passes.h"
#include "lmc/Dialect/LM/ForwardAbi.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
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

/// Whether `value` grows with the call: the context, or the tokens (the
/// second dimension of the per-call arguments: ids, positions, logits).
/// The batch (every first dimension), weights and states are the
/// session's, fixed.
bool growsWithCall(Value value, func::FuncOp forward,
                   const DenseSet<Value> &growing) {
  if (growing.contains(value))
    return true;
  auto argument = dyn_cast<BlockArgument>(value);
  if (argument && argument.getOwner() == &forward.getBody().front()) {
    auto name = forward.getArgAttrOfType<StringAttr>(argument.getArgNumber(),
                                                     abi::kName);
    return name && name.getValue() == abi::kContext;
  }
  auto dim = value.getDefiningOp<memref::DimOp>();
  if (!dim)
    return false;
  auto source = dyn_cast<BlockArgument>(dim.getSource());
  if (!source)
    return false;
  std::optional<int64_t> index = dim.getConstantIndex();
  unsigned number = source.getArgNumber();
  return (!index || *index != 0) && !forward.getArgAttr(number, abi::kWeight) &&
         !forward.getArgAttr(number, abi::kStackedWeight) &&
         !forward.getArgAttr(number, abi::kState);
}

/// Whether `e` never decreases as its dimensions and symbols (sizes, never
/// negative) grow: sums, products by non-negative constants or of such
/// expressions, and floor or ceiling divisions by positive constants.
bool nonDecreasing(AffineExpr e) {
  if (isa<AffineDimExpr, AffineSymbolExpr, AffineConstantExpr>(e))
    return true;
  auto binary = cast<AffineBinaryOpExpr>(e);
  AffineExpr lhs = binary.getLHS(), rhs = binary.getRHS();
  auto constant = dyn_cast<AffineConstantExpr>(rhs);
  switch (e.getKind()) {
  case AffineExprKind::Add:
    return nonDecreasing(lhs) && nonDecreasing(rhs);
  case AffineExprKind::Mul:
    return nonDecreasing(lhs) && nonDecreasing(rhs) &&
           (!constant || constant.getValue() >= 0);
  case AffineExprKind::FloorDiv:
  case AffineExprKind::CeilDiv:
    return nonDecreasing(lhs) && constant && constant.getValue() > 0;
  default: // a remainder wraps
    return false;
  }
}

/// Checks that the size computed by `slice` (in program order) never
/// shrinks as the call's tokens or context grow, so that the size at a
/// session's largest step bounds every step's: sums, products, maxima and
/// minima of non-negative values, divisions by what does not grow, and
/// affine maps of those (nonDecreasing).
LogicalResult checkMonotone(ArrayRef<Operation *> slice, func::FuncOp forward) {
  DenseSet<Value> growing;
  for (Operation *op : slice) {
    bool grows = false;
    for (Value operand : op->getOperands())
      grows |= growsWithCall(operand, forward, growing);
    if (auto dim = dyn_cast<memref::DimOp>(op))
      grows = growsWithCall(dim.getResult(), forward, growing);
    if (!grows)
      continue;
    auto apply = dyn_cast<affine::AffineApplyOp>(op);
    bool monotone = isa<memref::DimOp, arith::AddIOp, arith::MulIOp,
                        arith::MaxUIOp, arith::MinUIOp>(op) ||
                    (isa<arith::DivUIOp, arith::CeilDivUIOp>(op) &&
                     !growsWithCall(op->getOperand(1), forward, growing)) ||
                    (apply && nonDecreasing(apply.getAffineMap().getResult(0)));
    if (!monotone)
      return op->emitOpError(
          "makes the arena's size shrink as the call's tokens or context "
          "grow; a session's workspace, sized for its largest step, must "
          "bound every step's");
    growing.insert(op->getResult(0));
  }
  return success();
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
      if (failed(checkMonotone(slice.getArrayRef(), forward)))
        return signalPassFailure();
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
