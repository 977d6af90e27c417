//===- Safetensors.h - The safetensors checkpoint reader --------*- C++ -*-===//
//
// The one reader of Hugging Face checkpoints, for the importer (which binds
// weights by name and checks them against the config) and the runtime
// (which maps their data): one `model.safetensors`, or the shards listed by
// `model.safetensors.index.json`. Every header field is validated (header
// size, JSON, known dtypes, shapes, byte ranges inside the file and
// consistent with the shapes) with overflow-safe arithmetic, and a failure
// is one line naming the file and the tensor or field.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_SAFETENSORS_H
#define LMC_RT_SAFETENSORS_H

#include "MappedFile.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace lmc::rt {

struct SafetensorsTensor {
  std::string dtype; ///< F32, BF16, F8_E4M3, I64, ...
  std::vector<int64_t> shape;
  std::string file;              ///< the file holding the data
  uint64_t offset = 0;           ///< absolute byte offset of the data in `file`
  uint64_t size = 0;             ///< bytes
  const uint8_t *data = nullptr; ///< the data, in the mapped file
};

/// Bytes per element of a safetensors dtype, 0 when unknown.
unsigned safetensorsDTypeBytes(const std::string &dtype);

/// Adds the tensors of the safetensors file `path`, whose `size` bytes are
/// `data`, to `tensors`. False with `error` on a malformed file.
bool parseSafetensors(const std::string &path, const uint8_t *data, size_t size,
                      std::map<std::string, SafetensorsTensor> &tensors,
                      std::string &error);

class SafetensorsCheckpoint {
public:
  /// Opens a .safetensors file, or a folder with model.safetensors or
  /// model.safetensors.index.json and its shards (every shard present and
  /// holding the tensors the index puts there). A folder with neither
  /// opens empty. The files stay mapped while this object lives.
  bool open(const std::string &path, std::string &error);

  const std::map<std::string, SafetensorsTensor> &tensors() const {
    return entries;
  }
  /// The file that names the checkpoint in messages (the index or the
  /// single file); empty when the folder has no weights.
  const std::string &source() const { return origin; }

private:
  bool openFile(const std::string &path, std::string &error);

  std::vector<std::unique_ptr<MappedFile>> files;
  std::map<std::string, SafetensorsTensor> entries;
  std::string origin;
};

} // namespace lmc::rt

#endif // LMC_RT_SAFETENSORS_H
