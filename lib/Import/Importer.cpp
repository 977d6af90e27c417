//===- Importer.cpp - Hugging Face model -> lm IR -------------------------===//

#include "lmc/Import/Importer.h"

#include "Decoder.h"

#include "lmc/Import/Gguf.h"

#include "Printable.h"

#include "lmc/Dialect/LM/LMDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::lm;

void mlir::lm::registerImportDialects(DialectRegistry &registry) {
  registry.insert<LMDialect, func::FuncDialect, arith::ArithDialect>();
}

static std::string unsupportedType(const ModelConfig &config) {
  return (config.getPath() + ": field 'model_type': unsupported model type '" +
          lmc::rt::printable(config.getModelType().str()) +
          "' (supported: " + listFamilies() + ")")
      .str();
}

OwningOpRef<ModuleOp>
mlir::lm::importModel(MLIRContext *context, ModelConfig &config,
                      const WeightIndex &weights, std::string &error,
                      std::vector<std::string> *warnings) {
  context->loadDialect<LMDialect, func::FuncDialect, arith::ArithDialect>();
  FamilyBuilder build = lookupFamily(config.getModelType());
  if (!build) {
    error = unsupportedType(config);
    return nullptr;
  }
  ModelBuilder builder(context, config, weights);
  Value logits = build(builder);
  if (!logits) {
    // A family that gave up early reports why through the config or the
    // builder.
    error = config.failed() ? config.getError()
                            : (config.getPath() + ": import failed").str();
    return nullptr;
  }
  OwningOpRef<ModuleOp> module = builder.finish(logits, error);
  if (module && warnings)
    *warnings = builder.getWarnings();
  return module;
}

OwningOpRef<ModuleOp> mlir::lm::importHuggingFace(
    MLIRContext *context, StringRef path, std::string &error,
    std::vector<std::string> *warnings) {
  if (path.ends_with(".gguf")) {
    // The artifact records where its weights came from: keep that absolute.
    llvm::SmallString<256> file(path);
    llvm::sys::fs::make_absolute(file);
    llvm::sys::path::remove_dots(file, /*remove_dot_dot=*/true);
    WeightIndex weights;
    std::unique_ptr<ModelConfig> config = importGguf(file, weights, error);
    if (!config)
      return nullptr;
    return importModel(context, *config, weights, error, warnings);
  }
  llvm::SmallString<256> dir(path), configPath(path);
  // The artifact records where its weights came from: keep that absolute.
  llvm::sys::fs::make_absolute(dir);
  llvm::sys::fs::make_absolute(configPath);
  llvm::sys::path::remove_dots(dir, /*remove_dot_dot=*/true);
  llvm::sys::path::remove_dots(configPath, /*remove_dot_dot=*/true);
  if (llvm::sys::fs::is_directory(path)) {
    llvm::sys::path::append(configPath, "config.json");
  } else {
    dir = llvm::sys::path::parent_path(configPath);
  }
  if (!llvm::sys::fs::exists(configPath)) {
    error = (configPath + ": not found").str();
    return nullptr;
  }
  std::unique_ptr<ModelConfig> config = ModelConfig::load(configPath, error);
  if (!config)
    return nullptr;
  // An unsupported family is named before the weights are read.
  if (!lookupFamily(config->getModelType())) {
    error = unsupportedType(*config);
    return nullptr;
  }
  WeightIndex weights;
  if (failed(weights.load(dir, error)))
    return nullptr;
  return importModel(context, *config, weights, error, warnings);
}
