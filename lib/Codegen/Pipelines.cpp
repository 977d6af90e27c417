//===- Pipelines.cpp - Pass pipelines of lmc ------------------------------===//
//
// The one place that decides pass order.
//
//===----------------------------------------------------------------------===//

#include "lmc/Codegen/Pipelines.h"

#include "lmc/Codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;
using namespace mlir::lm;

void mlir::lm::buildLMToHostPipeline(OpPassManager &pm) {
  buildHostInterfacePipeline(pm);
  buildHostLoweringPipeline(pm);
}

void mlir::lm::buildHostInterfacePipeline(OpPassManager &pm) {
  pm.addPass(createWeightsToArgumentsPass());
  pm.addPass(createLowerStatePass());
}

void mlir::lm::buildHostLoweringPipeline(OpPassManager &pm) {
  pm.addPass(createLowerToLinalgPass());
  // Upstream from here: elementwise tensors -> linalg, fusion, bufferization
  // with runtime-provided outputs, loops, LLVM.
  auto add = [&](const char *pipeline) {
    if (failed(parsePassPipeline(pipeline, pm)))
      llvm::report_fatal_error("lmc: the host pipeline does not parse");
  };
  add("func.func(convert-elementwise-to-linalg, canonicalize, cse)");
  pm.addNestedPass<func::FuncOp>(createFuseElementwisePass());
  add("func.func(canonicalize),"
      "one-shot-bufferize{bufferize-function-boundaries "
      "  function-boundary-type-conversion=identity-layout-map},"
      "buffer-results-to-out-params{modify-public-functions},"
      "func.func(ownership-based-buffer-deallocation,"
      "          buffer-deallocation-simplification,"
      "          bufferization-lower-deallocations)");
  pm.addNestedPass<func::FuncOp>(createLowerStridedCopiesPass());
  add("func.func(convert-linalg-to-loops, canonicalize),"
      "expand-strided-metadata, lower-affine, convert-scf-to-cf,"
      "func.func(llvm-request-c-wrappers),"
      "convert-math-to-llvm, convert-math-to-libm,"
      "finalize-memref-to-llvm, convert-arith-to-llvm, convert-index-to-llvm,"
      "convert-cf-to-llvm, convert-func-to-llvm, reconcile-unrealized-casts");
}

void mlir::lm::registerLMPipelines() {
  PassPipelineRegistration<>(
      "lm-to-host",
      "Lower an imported lm model to the LLVM dialect for the host",
      buildLMToHostPipeline);
}
