//===- Safetensors.cpp - Checkpoint tensor index --------------------------===//

#include "lmc/Import/Safetensors.h"

#include "lmc/Import/Gguf.h"

#include "Safetensors.h" // the runtime's reader (lmc_rt_support)

using namespace mlir;
using namespace mlir::lm;

LogicalResult WeightIndex::load(StringRef dir, std::string &error) {
  if (dir.ends_with(".gguf"))
    return success(importGguf(dir, *this, error) != nullptr);
  // The headers are read through the runtime's reader, so the compiler and
  // the runtime accept exactly the same files. Only the headers are read:
  // the data stays in the page cache's hands.
  lmc::rt::SafetensorsCheckpoint checkpoint;
  if (!checkpoint.open(dir.str(), error))
    return failure();
  for (const auto &[name, t] : checkpoint.tensors()) {
    TensorInfo info;
    info.name = name;
    info.dtype = t.dtype;
    info.shape.assign(t.shape.begin(), t.shape.end());
    info.file = t.file;
    info.offset = t.offset;
    info.size = t.size;
    tensors[name] = std::move(info);
  }
  if (source.empty())
    source = checkpoint.source();
  return success();
}

const TensorInfo *WeightIndex::lookup(StringRef name) const {
  auto it = tensors.find(name);
  return it == tensors.end() ? nullptr : &it->second;
}
