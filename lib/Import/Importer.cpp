//===- Importer.cpp - Hugging Face model -> lm IR -------------------------===//

#include "lmc/Import/Importer.h"

#include "Decoder.h"

#include "lmc/Import/Gguf.h"

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

OwningOpRef<ModuleOp> mlir::lm::importHuggingFace(
    MLIRContext *context, StringRef path, std::string &error,
    std::vector<std::string> *warnings) {
  context->loadDialect<LMDialect, func::FuncDialect, arith::ArithDialect>();
  if (path.ends_with(".gguf")) {
    // The artifact records where its weights came from: keep that absolute.
    llvm::SmallString<256> file(path);
    llvm::sys::fs::make_absolute(file);
    llvm::sys::path::remove_dots(file, /*remove_dot_dot=*/true);
    WeightIndex weights;
    std::unique_ptr<ModelConfig> config = importGguf(file, weights, error);
    if (!config)
      return nullptr;
    ModelBuilder builder(context, *config, weights);
    Value logits = lookupFamily(config->getModelType())(builder);
    if (!logits) {
      error = config->failed() ? config->getError() : "import failed";
      return nullptr;
    }
    OwningOpRef<ModuleOp> module = builder.finish(logits, error);
    if (module && warnings)
      *warnings = builder.getWarnings();
    return module;
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
  FamilyBuilder build = lookupFamily(config->getModelType());
  if (!build) {
    error = (configPath + ": field 'model_type': unsupported model type '" +
             config->getModelType() + "' (supported: " + listFamilies() + ")")
                .str();
    return nullptr;
  }
  WeightIndex weights;
  if (failed(weights.load(dir, error)))
    return nullptr;

  ModelBuilder builder(context, *config, weights);
  Value logits = build(builder);
  if (!logits || builder.failed()) {
    // A family that gave up early still reports why through the config or
    // the builder; finish() picks the first message.
    if (!logits) {
      error = config->failed() ? config->getError()
                               : configPath.str().str() + ": import failed";
      return nullptr;
    }
  }
  OwningOpRef<ModuleOp> module = builder.finish(logits, error);
  if (module && warnings)
    *warnings = builder.getWarnings();
  return module;
}
