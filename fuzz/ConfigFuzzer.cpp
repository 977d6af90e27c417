//===- ConfigFuzzer.cpp - Any bytes as a config.json ----------------------===//
//
// The bytes as a model's config.json, imported graph-only (no weights) into
// lm IR: every family's importer must build a module that verifies, or
// refuse the config with one line naming the file. One MLIR context serves
// all runs, as it would a long-lived compiler.
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"

#include "lmc/Import/Importer.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static mlir::MLIRContext *context = [] {
    mlir::DialectRegistry registry;
    mlir::lm::registerImportDialects(registry);
    auto *c = new mlir::MLIRContext(registry);
    c->printOpOnDiagnostic(false);
    return c;
  }();
  std::string error;
  std::unique_ptr<mlir::lm::ModelConfig> config = mlir::lm::ModelConfig::parse(
      "config.json",
      llvm::StringRef(reinterpret_cast<const char *>(data), size), error);
  if (!config) {
    LMC_FUZZ_CHECK(!error.empty(), "a refusal says why");
    return 0;
  }
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::lm::importModel(
      context, *config, mlir::lm::WeightIndex(), error, nullptr);
  LMC_FUZZ_CHECK(module || !error.empty(), "a refusal says why");
  LMC_FUZZ_CHECK(error.find('\n') == std::string::npos, "an error is one line");
  return 0;
}
