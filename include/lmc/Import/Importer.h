//===- Importer.h - Hugging Face model -> lm IR -----------------*- C++ -*-===//

#ifndef LMC_IMPORT_IMPORTER_H
#define LMC_IMPORT_IMPORTER_H

#include "lmc/Import/Config.h"
#include "lmc/Import/Safetensors.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>
#include <vector>

namespace mlir::lm {

/// Imports the Hugging Face model at `path` (a folder with config.json and
/// optionally safetensors weights, or a config.json file) as an lm module
/// with a `@forward` function. On failure returns null and sets `error` to a
/// one-line message naming the file and the field or tensor at fault.
OwningOpRef<ModuleOp> importHuggingFace(MLIRContext *context, StringRef path,
                                        std::string &error,
                                        std::vector<std::string> *warnings);

/// Builds the lm module `config` describes, binding `weights` (empty: a
/// graph-only import). On failure returns null and sets `error` like
/// importHuggingFace.
OwningOpRef<ModuleOp> importModel(MLIRContext *context, ModelConfig &config,
                                  const WeightIndex &weights,
                                  std::string &error,
                                  std::vector<std::string> *warnings);

/// Registers the dialects imported modules use.
void registerImportDialects(DialectRegistry &registry);

} // namespace mlir::lm

#endif // LMC_IMPORT_IMPORTER_H
