//===- StreamOrder.cpp - GPU work in one stream, waits only for host reads -===//
//
// The runtime runs all of a model's GPU work on one in-order stream
// (runtime/src/GpuLauncher.cpp: every `mgpuStreamCreate` returns it), so
// program order already is execution order. Upstream `gpu-async-region`
// assumes independent streams and makes the host wait at every block
// boundary and before every op with side effects: before and at the end of
// each `scf.if` that chooses a kernel (the bf16 tensor-core choices, two
// waits per projection). Each wait drains the GPU and exposes the next
// launch's latency.
//
// Here every GPU op is made asynchronous on one stream created at the
// function's entry, and the host waits only where it reads memory a GPU op
// wrote for it: after a `gpu.memcpy` into host memory. The function returns
// with work still queued; its caller synchronises the stream before it reads
// the outputs (the runtime does), and a stream capture (CUDA graphs) can
// record the whole call.
//
//===----------------------------------------------------------------------===//

#include "lmc/Codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::lm {
#define GEN_PASS_DEF_GPUSTREAMORDERPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {

/// `op` as an asynchronous op on `stream`: the same op with `stream` as its
/// dependency and a token result, which nothing needs (order is the
/// stream's).
void makeAsync(gpu::AsyncOpInterface asyncOp, Value stream) {
  Operation *op = asyncOp.getOperation();
  asyncOp.addAsyncDependency(stream);
  SmallVector<Type> types(op->getResultTypes());
  types.push_back(stream.getType()); // the token is every op's last result
  OperationState state(op->getLoc(), op->getName(), op->getOperands(), types,
                       op->getDiscardableAttrDictionary().getValue());
  state.propertiesAttr = op->getPropertiesAsAttribute();
  OpBuilder b(op);
  Operation *async = b.create(state);
  for (auto [from, to] : llvm::zip(op->getResults(), async->getResults()))
    from.replaceAllUsesWith(to);
  op->erase();
}

/// Whether `value` is host memory: a host allocation, or a view of one.
/// Everything else the host code handles (arguments, `gpu.alloc`) is device
/// memory.
bool isHostMemory(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (isa<memref::AllocaOp, memref::AllocOp>(def))
      return true;
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      return false;
    value = view.getViewSource();
  }
  return false;
}

struct GPUStreamOrderPass final
    : impl::GPUStreamOrderPassBase<GPUStreamOrderPass> {
  using Base::Base;
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<gpu::AsyncOpInterface> ops;
    bool alreadyAsync = false;
    func.walk([&](gpu::AsyncOpInterface op) {
      if (op->getParentOfType<gpu::GPUModuleOp>())
        return;
      if (isa<gpu::WaitOp>(op) || op.getAsyncToken() ||
          !op.getAsyncDependencies().empty())
        alreadyAsync = true;
      else
        ops.push_back(op);
    });
    if (alreadyAsync) {
      func.emitOpError("already has asynchronous GPU ops; lm-gpu-stream-order "
                       "orders synchronous ones");
      return signalPassFailure();
    }
    if (ops.empty())
      return;

    OpBuilder b = OpBuilder::atBlockBegin(&func.getBody().front());
    Location loc = func.getLoc();
    Type tokenType = b.getType<gpu::AsyncTokenType>();
    Value stream = gpu::WaitOp::create(b, loc, tokenType, ValueRange())
                       .getAsyncToken();
    for (gpu::AsyncOpInterface op : ops) {
      // The host reads what a copy into host memory brings back.
      if (auto copy = dyn_cast<gpu::MemcpyOp>(op.getOperation());
          copy && isHostMemory(copy.getDst())) {
        b.setInsertionPointAfter(copy);
        gpu::WaitOp::create(b, copy.getLoc(), Type(), ValueRange{stream});
      }
      makeAsync(op, stream);
    }
  }
};
} // namespace
} // namespace mlir::lm
