//===- Pipelines.cpp - Pass pipelines of lmc ------------------------------===//
//
// The one place that decides pass order.
//
//===----------------------------------------------------------------------===//

#include "lmc/Codegen/Pipelines.h"

#include "lmc/Codegen/GPU/TargetInfo.h"
#include "lmc/Codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;
using namespace mlir::lm;

LogicalResult mlir::lm::parseArithmeticType(StringRef dtype,
                                            ArithmeticType &type,
                                            std::string &error) {
  if (dtype == "f32" || dtype == "bf16") {
    type = dtype == "bf16" ? ArithmeticType::BF16 : ArithmeticType::F32;
    return success();
  }
  error = "unsupported dtype '" + dtype.str() + "' (supported: f32, bf16)";
  return failure();
}

void mlir::lm::buildLMToHostPipeline(OpPassManager &pm,
                                     const PipelineOptions &options) {
  buildHostInterfacePipeline(pm, options);
  buildHostLoweringPipeline(pm);
}

void mlir::lm::buildHostInterfacePipeline(OpPassManager &pm,
                                          const PipelineOptions &options) {
  if (options.dtype == ArithmeticType::BF16)
    pm.addPass(createCastToBF16Pass());
  SetCacheTypesPassOptions caches;
  caches.kvDtype = options.kvDtype == ArithmeticType::BF16 ? "bf16" : "f32";
  pm.addPass(createSetCacheTypesPass(caches));
  pm.addPass(createWeightsToArgumentsPass());
  pm.addPass(createLowerStatePass());
}

namespace {
/// Appends a textual pipeline; the pipelines are fixed strings, so a parse
/// failure is a bug in lmc.
void addPipeline(OpPassManager &pm, const char *pipeline) {
  if (failed(parsePassPipeline(pipeline, pm)))
    llvm::report_fatal_error(llvm::Twine("lmc: pipeline does not parse: ") +
                             pipeline);
}

/// lm -> linalg -> fused -> bufferized, with runtime-provided outputs.
void buildBufferizedPipeline(OpPassManager &pm) {
  pm.addPass(createLowerToLinalgPass());
  addPipeline(pm, "func.func(convert-elementwise-to-linalg, canonicalize, cse)");
  pm.addNestedPass<func::FuncOp>(createFuseElementwisePass());
  pm.addNestedPass<func::FuncOp>(createFoldAddIntoReductionPass());
  addPipeline(pm, "func.func(canonicalize)");
  pm.addNestedPass<func::FuncOp>(createPrivatizeFillsPass());
  // A kernel choice's generic branch computes into the output both
  // branches share (bufferization.materialize_in_destination), not into a
  // buffer of its own copied there.
  addPipeline(pm, "eliminate-empty-tensors,"
                  "one-shot-bufferize{bufferize-function-boundaries "
                  "  function-boundary-type-conversion=identity-layout-map},"
                  "buffer-results-to-out-params{modify-public-functions},"
                  "func.func(ownership-based-buffer-deallocation,"
                  // As upstream's buffer-deallocation-pipeline: folds the
                  // ownership a branch yields when both sides yield the same
                  // (a kernel choice's scf.if), so no dealloc is left needing
                  // a run-time aliasing check (a library call).
                  "          canonicalize,"
                  "          buffer-deallocation-simplification,"
                  "          bufferization-lower-deallocations)");
  pm.addNestedPass<func::FuncOp>(createLowerStridedCopiesPass());
  // Deallocation frees at the end of the function; canonicalize drops its
  // `scf.if %true` guards so the targets' lm-plan-arena can move them.
  addPipeline(pm, "func.func(canonicalize)");
  // Cache updates and the logits written in place, not copied.
  pm.addNestedPass<func::FuncOp>(createElideCopiesPass());
}
} // namespace

void mlir::lm::buildHostLoweringPipeline(OpPassManager &pm) {
  buildBufferizedPipeline(pm);
  // Temporaries freed after their last use, not in an arena: LLVM knows
  // that distinct mallocs do not alias, views of one buffer at run-time
  // offsets it must assume do (Qwen3-0.6B prefill ran 4.4x slower).
  PlanArenaPassOptions separateAllocations;
  separateAllocations.useArena = false;
  pm.addNestedPass<func::FuncOp>(createPlanArenaPass(separateAllocations));
  // bf16 rounding as integer arithmetic: the libcall LLVM would emit
  // (__truncsfbf2) is missing from Debian 12's libgcc.
  addPipeline(pm, "func.func(convert-linalg-to-loops, canonicalize)");
  // Cache updates written by the loops that compute the new tokens;
  // canonicalize then drops the roundings that undo a widening there (a
  // bf16 value widened, then rounded for a bf16 cache), which LLVM would
  // otherwise turn back into a call of __truncsfbf2.
  pm.addNestedPass<func::FuncOp>(createFoldScatterCopiesPass());
  addPipeline(pm, "func.func(canonicalize, arith-expand{include-bf16}),"
                  "expand-strided-metadata, lower-affine, convert-scf-to-cf,"
                  "func.func(llvm-request-c-wrappers),"
                  "convert-math-to-llvm, convert-math-to-libm,"
                  "finalize-memref-to-llvm, convert-arith-to-llvm, "
                  "convert-index-to-llvm, convert-cf-to-llvm, "
                  "convert-func-to-llvm, reconcile-unrealized-casts");
}

void mlir::lm::buildGPULoweringPipeline(OpPassManager &pm,
                                        StringRef cudaToolkit,
                                        const PipelineOptions &options) {
  // Kernel templates are chosen while the ops still say what they compute.
  if (options.kernelSelection)
    pm.addPass(createSelectGPUKernelsPass());
  buildBufferizedPipeline(pm);
  // Activations in one arena, by liveness: one allocation per forward pass.
  pm.addNestedPass<func::FuncOp>(createPlanArenaPass());
  // The chosen templates' launches, their scratch in the arena.
  pm.addNestedPass<func::FuncOp>(createMapKernelOpsToGPUPass());
  // Parallel loops become kernels; the host keeps the control flow, which
  // calls the runtime's mgpu* launcher (runtime/src/GpuLauncher.cpp).
  // Projections first, with the kernel template for their row count (the
  // f32 prompt branch is left to the reduction mapping).
  pm.addNestedPass<func::FuncOp>(createMapProjectionsToGPUPass());
  pm.addNestedPass<func::FuncOp>(createMapReductionsToGPUPass());
  addPipeline(pm, "func.func(convert-linalg-to-parallel-loops, canonicalize)");
  // Cache updates written by the kernels that compute the new tokens, not
  // by a kernel of their own.
  pm.addNestedPass<func::FuncOp>(createFoldScatterCopiesPass());
  pm.addNestedPass<func::FuncOp>(createMapToGPUPass());
  // CSE gives the tensor-core choices of projections of the same rows one
  // condition, canonicalize then makes them one branch, whose kernels (as
  // any other neighbours that are independent) merge into one launch.
  addPipeline(pm, "func.func(canonicalize, cse, canonicalize)");
  pm.addNestedPass<func::FuncOp>(createMergeLaunchesPass());
  // The Hopper templates' TMA, mbarrier and descriptor ops (on the host:
  // the tensor maps, calls of the runtime's mgpuTensorMapEncodeTiledMemref)
  // to NVVM before outlining, as upstream's gpu-lower-to-nvvm-pipeline
  // does: a tensor map then crosses into its kernel as a pointer.
  addPipeline(pm, "func.func(canonicalize), convert-nvgpu-to-nvvm,"
                  "gpu-launch-sink-index-computations, gpu-kernel-outlining");
  pm.addPass(createMergeGPUModulesPass());
  // The arena becomes memory the runtime reserves per session.
  pm.addPass(createTakeWorkspacePass());
  // One in-order stream; the host waits only to read a scalar back.
  pm.addNestedPass<func::FuncOp>(createGPUStreamOrderPass());
  std::string lowering =
      "expand-strided-metadata, lower-affine, convert-scf-to-cf,"
      "nvvm-attach-target{chip=" + gpu_target::kChip.str() +
      " features=" + gpu_target::kPtxFeatures.str() + " O=3},"
      "gpu.module(convert-gpu-to-nvvm, canonicalize, cse,"
      "           reconcile-unrealized-casts),"
      "func.func(llvm-request-c-wrappers),"
      "convert-math-to-llvm, convert-math-to-libm,"
      "finalize-memref-to-llvm, convert-arith-to-llvm, convert-index-to-llvm,"
      "convert-cf-to-llvm, gpu-to-llvm, convert-func-to-llvm,"
      "reconcile-unrealized-casts,"
      "gpu-module-to-binary{format=isa toolkit=" +
      cudaToolkit.str() + "}";
  addPipeline(pm, lowering.c_str());
}

void mlir::lm::registerLMPipelines() {
  PassPipelineRegistration<PipelineOptions>(
      "lm-to-host",
      "Lower an imported lm model to the LLVM dialect for the host",
      [](OpPassManager &pm, const PipelineOptions &options) {
        buildLMToHostPipeline(pm, options);
      });
  PassPipelineRegistration<PipelineOptions>(
      "lm-to-gpu",
      "Lower an imported lm model to host LLVM dialect and sm_90a PTX",
      [](OpPassManager &pm, const PipelineOptions &options) {
        buildHostInterfacePipeline(pm, options);
        buildGPULoweringPipeline(pm, findCudaToolkit().value_or(""), options);
      });
}
