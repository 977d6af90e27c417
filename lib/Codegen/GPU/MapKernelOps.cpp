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
    SmallVector<Operation *> ops;
    WalkResult result = getOperation().walk([&](Operation *op) {
      if (!isa<FlashAttentionOp, FlashDecodeOp, FlashMLADecodeOp,
               GroupedExpertsOp, StreamedExpertsOp, StreamedLinearOp,
               TiledLinearOp, WarpRouterOp>(op))
        return WalkResult::advance();
      if (op->getNumResults() != 0) {
        op->emitOpError("expected a bufferized kernel op (memref operands)");
        return WalkResult::interrupt();
      }
      ops.push_back(op);
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    for (Operation *op : ops) {
      OpBuilder b(op);
      if (auto flash = dyn_cast<FlashAttentionOp>(op))
        gpu_mapping::buildFlashAttention(b, flash);
      else if (auto flash = dyn_cast<FlashDecodeOp>(op))
        gpu_mapping::buildFlashDecode(b, flash);
      else if (auto flash = dyn_cast<FlashMLADecodeOp>(op))
        gpu_mapping::buildFlashMLADecode(b, flash);
      else if (auto router = dyn_cast<WarpRouterOp>(op))
        gpu_mapping::buildWarpRouter(b, router);
      else if (auto experts = dyn_cast<StreamedExpertsOp>(op))
        gpu_mapping::buildStreamedExperts(b, experts);
      else if (auto experts = dyn_cast<GroupedExpertsOp>(op))
        gpu_mapping::buildGroupedExperts(b, experts);
      else if (auto tiled = dyn_cast<TiledLinearOp>(op))
        gpu_mapping::buildTiledLinear(b, tiled);
      else
        gpu_mapping::buildStreamedLinear(b, cast<StreamedLinearOp>(op));
      op->erase();
    }
  }
};
} // namespace
} // namespace mlir::lm
