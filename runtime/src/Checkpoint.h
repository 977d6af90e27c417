//===- Checkpoint.h - Memory-mapped safetensors checkpoints -----*- C++ -*-===//

#ifndef LMC_RT_CHECKPOINT_H
#define LMC_RT_CHECKPOINT_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace lmc::rt {

/// A read-only memory map of a whole file.
class MappedFile {
public:
  ~MappedFile();
  /// Maps `path`; returns null and sets `error` on failure.
  static std::unique_ptr<MappedFile> open(const std::string &path,
                                          std::string &error);
  const uint8_t *data() const { return bytes; }
  size_t size() const { return length; }

private:
  MappedFile() = default;
  const uint8_t *bytes = nullptr;
  size_t length = 0;
};

struct CheckpointTensor {
  std::string dtype;
  std::vector<int64_t> shape;
  const uint8_t *data = nullptr;
  uint64_t size = 0;
  std::string file;
};

/// The tensors of a checkpoint: `model.safetensors`, the shards of
/// `model.safetensors.index.json`, or one .safetensors file, mapped (never
/// copied) and validated like the compiler does.
class Checkpoint {
public:
  bool open(const std::string &path, std::string &error);
  const CheckpointTensor *find(const std::string &name) const;

private:
  bool openFile(const std::string &path, std::string &error);
  bool openGguf(const std::string &path, std::string &error);

  std::vector<std::unique_ptr<MappedFile>> files;
  std::map<std::string, CheckpointTensor> tensors;
};

/// Bytes per element of a safetensors dtype, 0 when unknown.
unsigned dtypeBytes(const std::string &dtype);

} // namespace lmc::rt

#endif // LMC_RT_CHECKPOINT_H
