//===- Safetensors.h - Checkpoint tensor index ------------------*- C++ -*-===//
//
// The tensors of a Hugging Face checkpoint (one `model.safetensors`, or the
// shards listed by `model.safetensors.index.json`) or a GGUF file, by name.
// The headers are read and validated by the runtime's reader
// (runtime/src/Safetensors.h), the one parser of the format; tensor data is
// never read here.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_IMPORT_SAFETENSORS_H
#define LMC_IMPORT_SAFETENSORS_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"

#include <string>

namespace mlir::lm {

struct TensorInfo {
  std::string name;
  std::string dtype; ///< safetensors spelling: F32, BF16, F8_E4M3, I64, ...
  SmallVector<int64_t> shape;
  std::string file;  ///< the file holding the data
  uint64_t offset = 0; ///< absolute byte offset of the data in `file`
  uint64_t size = 0;   ///< bytes
};

class WeightIndex {
public:
  /// Indexes the checkpoint in `dir` (or the GGUF file `dir`). A folder
  /// without weight files yields an empty index (graph-only import). Sets
  /// `error` and fails on bad files.
  LogicalResult load(StringRef dir, std::string &error);

  const TensorInfo *lookup(StringRef name) const;
  /// Binds `name` to a tensor found elsewhere (GGUF, under another name).
  void add(StringRef name, TensorInfo info) { tensors[name] = std::move(info); }
  void setSource(StringRef path) { source = path.str(); }
  bool empty() const { return tensors.empty(); }
  const llvm::StringMap<TensorInfo> &getTensors() const { return tensors; }
  /// The file that names the checkpoint in messages.
  StringRef getSource() const { return source; }

private:
  llvm::StringMap<TensorInfo> tensors;
  std::string source;
};

} // namespace mlir::lm

#endif // LMC_IMPORT_SAFETENSORS_H
