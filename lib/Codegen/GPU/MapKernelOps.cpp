//===- MapKernelOps.cpp - Kernel ops -> their templates' launches ---------===//
//
// lm-select-gpu-kernels chose the template; this builds it, once the
// operands are buffers (arena slots for the scratch a template needs).
//
//===----------------------------------------------------------------------===//

#include "Kernels/Kernels.h"
#include "lmc/Codegen/Passes.h"
#include "lmc/Dialect/LM/LMOps.h"

namespace mlir::lm {
#define GEN_PASS_DEF_MAPKERNELOPSTOGPUPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
struct MapKernelOpsToGPUPass final
    : impl::MapKernelOpsToGPUPassBase<MapKernelOpsToGPUPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<FlashDecodeOp> ops;
    WalkResult result = getOperation().walk([&](FlashDecodeOp op) {
      if (op->getNumResults() != 0) {
        op.emitOpError("expected a bufferized kernel op (memref operands)");
        return WalkResult::interrupt();
      }
      ops.push_back(op);
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    for (FlashDecodeOp op : ops) {
      OpBuilder b(op);
      gpu_mapping::buildFlashDecode(b, op);
      op.erase();
    }
  }
};
} // namespace
} // namespace mlir::lm
