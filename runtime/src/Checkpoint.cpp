//===- Checkpoint.cpp - The weights a model runs with ---------------------===//

#include "Checkpoint.h"

#include "Gguf.h"

namespace lmc::rt {

bool Checkpoint::openGguf(const std::string &path, std::string &error) {
  std::unique_ptr<MappedFile> file = MappedFile::open(path, error);
  if (!file)
    return false;
  GgufFile parsed;
  if (!parsed.parse(path, file->data(), file->size(), error))
    return false;
  for (const GgufTensor &t : parsed.tensors())
    tensors[t.name] = CheckpointTensor{t.dtype, t.shape,
                                       file->data() + t.offset, t.size, path};
  gguf = std::move(file);
  return true;
}

bool Checkpoint::open(const std::string &path, std::string &error) {
  if (path.size() > 5 && path.compare(path.size() - 5, 5, ".gguf") == 0)
    return openGguf(path, error);
  if (!safetensors.open(path, error))
    return false;
  if (safetensors.source().empty()) {
    error = path + "/model.safetensors: cannot open: No such file or directory";
    return false;
  }
  for (const auto &[name, t] : safetensors.tensors())
    tensors[name] = CheckpointTensor{t.dtype, t.shape, t.data, t.size, t.file};
  return true;
}

const CheckpointTensor *Checkpoint::find(const std::string &name) const {
  auto it = tensors.find(name);
  return it == tensors.end() ? nullptr : &it->second;
}

} // namespace lmc::rt
