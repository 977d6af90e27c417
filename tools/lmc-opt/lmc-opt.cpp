//===- lmc-opt.cpp - mlir-opt with the lm dialect and passes --------------===//
//
// Every upstream dialect, pass and extension is registered, as in mlir-opt,
// plus the lm dialect, its passes and pipelines.
//
//===----------------------------------------------------------------------===//

#include "lmc/Codegen/Passes.h"
#include "lmc/Codegen/Pipelines.h"
#include "lmc/Dialect/LM/LMDialect.h"
#include "lmc/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary translates kernels to LLVM IR.
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::registerAllPasses();
  registry.insert<mlir::lm::LMDialect>();
  mlir::lm::registerLMTransformsPasses();
  mlir::lm::registerLMCodegenPasses();
  mlir::lm::registerLMPipelines();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "lmc optimizer driver\n", registry));
}
