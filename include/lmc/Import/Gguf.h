//===- Gguf.h - Importing GGUF models ---------------------------*- C++ -*-===//
//
// A GGUF file carries what a Hugging Face folder does, in its own names:
// its metadata becomes a config (the same families then build the graph)
// and its tensors are bound under the Hugging Face names the families use.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_IMPORT_GGUF_H
#define LMC_IMPORT_GGUF_H

#include "lmc/Import/Config.h"
#include "lmc/Import/Safetensors.h"

#include <memory>

namespace mlir::lm {

/// Reads `path`: fills `weights` with its tensors under Hugging Face names
/// and returns the config its metadata describes; null with `error` set on
/// failure (malformed file, unsupported architecture or tensor type).
std::unique_ptr<ModelConfig> importGguf(StringRef path, WeightIndex &weights,
                                        std::string &error);

} // namespace mlir::lm

#endif // LMC_IMPORT_GGUF_H
