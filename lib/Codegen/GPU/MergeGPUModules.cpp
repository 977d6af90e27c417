//===- MergeGPUModules.cpp - One gpu.module for all kernels ---------------===//

#include "lmc/Codegen/GPU/TargetInfo.h"
#include "lmc/Codegen/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::lm {
#define GEN_PASS_DEF_MERGEGPUMODULESPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
struct MergeGPUModulesPass final
    : impl::MergeGPUModulesPassBase<MergeGPUModulesPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> kernels(module.getOps<gpu::GPUModuleOp>());
    if (kernels.empty())
      return;
    OpBuilder b(kernels.front());
    auto merged = gpu::GPUModuleOp::create(b, module.getLoc(), "lmc_kernels");
    SymbolTable mergedSymbols(merged);
    // Each outlined module holds one kernel named after the function plus
    // the globals it uses; the kernel takes the module's (unique) name, so a
    // launch of @m::@f becomes a launch of @lmc_kernels::@m.
    for (gpu::GPUModuleOp kernel : kernels) {
      for (Operation &op : llvm::make_early_inc_range(kernel.getBody()->getOperations())) {
        if (auto func = dyn_cast<gpu::GPUFuncOp>(op)) {
          func.setName(kernel.getName());
          // The templates read shared memory with 16-byte vector loads;
          // NVVM would align a buffer to its element type only.
          for (unsigned i = 0; i < func.getNumWorkgroupAttributions(); ++i)
            func.setWorkgroupAttributionAttr(
                i, LLVM::LLVMDialect::getAlignAttrName(),
                b.getI64IntegerAttr(gpu_target::kSharedAlignment));
          op.moveBefore(merged.getBody(), merged.getBody()->end());
          continue;
        }
        auto symbol = dyn_cast<SymbolOpInterface>(op);
        if (symbol && mergedSymbols.lookup(symbol.getNameAttr()))
          continue; // the same global, already moved with another kernel
        op.moveBefore(merged.getBody(), merged.getBody()->end());
        if (symbol)
          mergedSymbols.insert(&op);
      }
      kernel.erase();
    }
    module.walk([&](gpu::LaunchFuncOp launch) {
      launch.setKernelAttr(SymbolRefAttr::get(
          merged.getNameAttr(),
          {FlatSymbolRefAttr::get(launch.getKernelModuleName())}));
    });
  }
};
} // namespace
} // namespace mlir::lm
