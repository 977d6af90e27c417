//===- Checkpoint.cpp - Memory-mapped safetensors checkpoints -------------===//

#include "Checkpoint.h"

#include "Gguf.h"
#include "Json.h"

#include <cstring>
#include <fcntl.h>
#include <set>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lmc::rt {

MappedFile::~MappedFile() {
  if (bytes)
    munmap(const_cast<uint8_t *>(bytes), length);
}

std::unique_ptr<MappedFile> MappedFile::open(const std::string &path,
                                             std::string &error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": cannot open: " + std::strerror(errno);
    return nullptr;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    error = path + ": not a regular file";
    return nullptr;
  }
  std::unique_ptr<MappedFile> file(new MappedFile());
  file->length = static_cast<size_t>(st.st_size);
  if (file->length > 0) {
    void *p = mmap(nullptr, file->length, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      error = path + ": cannot map: " + std::strerror(errno);
      return nullptr;
    }
    file->bytes = static_cast<const uint8_t *>(p);
  }
  ::close(fd);
  return file;
}

unsigned dtypeBytes(const std::string &dtype) {
  static const std::map<std::string, unsigned> sizes = {
      {"F64", 8}, {"I64", 8}, {"U64", 8}, {"F32", 4}, {"I32", 4},
      {"U32", 4}, {"F16", 2}, {"BF16", 2}, {"I16", 2}, {"U16", 2},
      {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"I8", 1}, {"U8", 1}, {"BOOL", 1}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

static bool isDirectory(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exists(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

bool Checkpoint::openFile(const std::string &path, std::string &error) {
  std::unique_ptr<MappedFile> file = MappedFile::open(path, error);
  if (!file)
    return false;
  const uint8_t *data = file->data();
  size_t size = file->size();
  if (size < 8) {
    error = path + ": truncated: too short for a safetensors header";
    return false;
  }
  uint64_t headerSize = 0;
  std::memcpy(&headerSize, data, 8);
  if (headerSize > size - 8 || headerSize > (100u << 20)) {
    error = path + ": header size " + std::to_string(headerSize) +
            " exceeds the file";
    return false;
  }
  Json header;
  std::string why;
  if (!parseJson(std::string(reinterpret_cast<const char *>(data + 8),
                             headerSize),
                 header, why) ||
      header.kind != Json::Kind::Object) {
    error = path + ": malformed header: " + why;
    return false;
  }
  const uint64_t dataStart = 8 + headerSize, dataSize = size - dataStart;
  for (const auto &[name, entry] : header.object) {
    if (name == "__metadata__")
      continue;
    auto bad = [&](const std::string &what) {
      error = path + ": tensor '" + name + "': " + what;
      return false;
    };
    const Json *dtype = entry.get("dtype");
    const Json *shape = entry.get("shape");
    const Json *offsets = entry.get("data_offsets");
    if (!dtype || dtype->kind != Json::Kind::String || !shape ||
        shape->kind != Json::Kind::Array || !offsets ||
        offsets->kind != Json::Kind::Array || offsets->array.size() != 2)
      return bad("malformed entry");
    CheckpointTensor t;
    t.dtype = dtype->string;
    t.file = path;
    unsigned bytes = dtypeBytes(t.dtype);
    if (!bytes)
      return bad("unsupported dtype '" + t.dtype + "'");
    uint64_t elements = 1;
    for (const Json &d : shape->array) {
      if (d.kind != Json::Kind::Number || d.number < 0 || d.number > 1e12)
        return bad("malformed shape");
      t.shape.push_back(static_cast<int64_t>(d.number));
      elements *= static_cast<uint64_t>(d.number);
    }
    double begin = offsets->array[0].number, end = offsets->array[1].number;
    if (begin < 0 || end < begin || end > double(dataSize))
      return bad("data lies past the end of the file (truncated?)");
    t.size = static_cast<uint64_t>(end - begin);
    if (t.size != elements * bytes)
      return bad("byte size does not match its shape and dtype");
    t.data = data + dataStart + static_cast<uint64_t>(begin);
    tensors[name] = std::move(t);
  }
  files.push_back(std::move(file));
  return true;
}

bool Checkpoint::openGguf(const std::string &path, std::string &error) {
  std::unique_ptr<MappedFile> file = MappedFile::open(path, error);
  if (!file)
    return false;
  GgufFile gguf;
  if (!gguf.parse(path, file->data(), file->size(), error))
    return false;
  for (const GgufTensor &t : gguf.tensors())
    tensors[t.name] = CheckpointTensor{t.dtype, t.shape, file->data() + t.offset,
                                       t.size, path};
  files.push_back(std::move(file));
  return true;
}

bool Checkpoint::open(const std::string &path, std::string &error) {
  if (path.size() > 5 && path.compare(path.size() - 5, 5, ".gguf") == 0)
    return openGguf(path, error);
  if (!isDirectory(path))
    return openFile(path, error);
  std::string index = path + "/model.safetensors.index.json";
  if (!exists(index))
    return openFile(path + "/model.safetensors", error);
  std::unique_ptr<MappedFile> file = MappedFile::open(index, error);
  if (!file)
    return false;
  Json json;
  std::string why;
  if (!parseJson(std::string(reinterpret_cast<const char *>(file->data()),
                             file->size()),
                 json, why)) {
    error = index + ": malformed JSON: " + why;
    return false;
  }
  const Json *map = json.get("weight_map");
  if (!map || map->kind != Json::Kind::Object) {
    error = index + ": field 'weight_map': missing";
    return false;
  }
  std::set<std::string> shards;
  for (const auto &[name, shard] : map->object) {
    if (shard.kind != Json::Kind::String ||
        shard.string.find('/') != std::string::npos) {
      error = index + ": tensor '" + name + "': expected a shard file name";
      return false;
    }
    shards.insert(shard.string);
  }
  for (const std::string &shard : shards)
    if (!openFile(path + "/" + shard, error))
      return false;
  return true;
}

const CheckpointTensor *Checkpoint::find(const std::string &name) const {
  auto it = tensors.find(name);
  return it == tensors.end() ? nullptr : &it->second;
}

} // namespace lmc::rt
