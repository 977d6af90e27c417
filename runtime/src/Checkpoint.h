//===- Checkpoint.h - The weights a model runs with -------------*- C++ -*-===//

#ifndef LMC_RT_CHECKPOINT_H
#define LMC_RT_CHECKPOINT_H

#include "MappedFile.h"
#include "Safetensors.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace lmc::rt {

struct CheckpointTensor {
  std::string dtype;
  std::vector<int64_t> shape;
  const uint8_t *data = nullptr;
  uint64_t size = 0;
  std::string file;
};

/// The tensors of a checkpoint: a safetensors checkpoint (Safetensors.h: a
/// folder or one file) or a GGUF file, mapped (never copied) and validated
/// by the same readers the importer uses.
class Checkpoint {
public:
  bool open(const std::string &path, std::string &error);
  const CheckpointTensor *find(const std::string &name) const;

private:
  bool openGguf(const std::string &path, std::string &error);

  SafetensorsCheckpoint safetensors;
  std::unique_ptr<MappedFile> gguf;
  std::map<std::string, CheckpointTensor> tensors;
};

} // namespace lmc::rt

#endif // LMC_RT_CHECKPOINT_H
