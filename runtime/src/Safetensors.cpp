//===- Safetensors.cpp - The safetensors checkpoint reader ----------------===//

#include "Safetensors.h"

#include "Json.h"
#include "Printable.h"

#include <cmath>
#include <cstring>
#include <set>
#include <sys/stat.h>

namespace lmc::rt {

namespace {
/// Headers above this size are refused before being parsed (the format's
/// reference implementation uses the same bound).
constexpr uint64_t kMaxHeaderBytes = 100 * 1024 * 1024;
/// Bounds on a dimension and on a tensor's elements: far above any model,
/// far below where products of them could overflow.
constexpr uint64_t kMaxDimension = uint64_t(1) << 40;
constexpr uint64_t kMaxElements = uint64_t(1) << 48;

bool isDirectory(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool exists(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

/// `v` as a non-negative integer no larger than `limit`.
bool unsignedOf(const Json &v, uint64_t limit, uint64_t &out) {
  if (v.kind != Json::Kind::Number || !(v.number >= 0) ||
      v.number != std::floor(v.number) || v.number > double(limit))
    return false;
  out = static_cast<uint64_t>(v.number);
  return true;
}

std::string baseName(const std::string &path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}
} // namespace

unsigned safetensorsDTypeBytes(const std::string &dtype) {
  static const std::map<std::string, unsigned> sizes = {
      {"F64", 8},     {"I64", 8}, {"U64", 8},     {"F32", 4},
      {"I32", 4},     {"U32", 4}, {"F16", 2},     {"BF16", 2},
      {"I16", 2},     {"U16", 2}, {"F8_E4M3", 1}, {"F8_E5M2", 1},
      {"F8_E8M0", 1}, {"I8", 1},  {"U8", 1},      {"BOOL", 1}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

bool parseSafetensors(const std::string &path, const uint8_t *data, size_t size,
                      std::map<std::string, SafetensorsTensor> &tensors,
                      std::string &error) {
  if (size < 8) {
    error = path + ": truncated: " + std::to_string(size) +
            " bytes, too short for a safetensors header";
    return false;
  }
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = headerSize << 8 | data[i];
  if (headerSize > kMaxHeaderBytes || headerSize > size - 8) {
    error = path + ": header size " + std::to_string(headerSize) +
            " exceeds the file (" + std::to_string(size) +
            " bytes) or the 100 MiB limit";
    return false;
  }
  Json header;
  std::string why;
  if (!parseJson(
          std::string(reinterpret_cast<const char *>(data + 8), headerSize),
          header, why)) {
    error = path + ": malformed header: " + why;
    return false;
  }
  if (header.kind != Json::Kind::Object) {
    error = path + ": malformed header: expected a JSON object";
    return false;
  }
  const uint64_t dataStart = 8 + headerSize, dataSize = size - dataStart;
  for (const auto &[key, entry] : header.object) {
    if (key == "__metadata__")
      continue;
    const std::string &name = key; // a lambda cannot capture a binding in C++17
    auto bad = [&](const std::string &why) {
      error = path + ": tensor '" + printable(name) + "': " + why;
      return false;
    };
    if (entry.kind != Json::Kind::Object)
      return bad("expected an object");
    const Json *dtype = entry.get("dtype");
    if (!dtype || dtype->kind != Json::Kind::String)
      return bad("missing 'dtype'");
    SafetensorsTensor t;
    t.dtype = dtype->string;
    t.file = path;
    unsigned bytes = safetensorsDTypeBytes(t.dtype);
    if (!bytes)
      return bad("unsupported dtype '" + printable(t.dtype) + "'");
    const Json *shape = entry.get("shape");
    const Json *offsets = entry.get("data_offsets");
    if (!shape || shape->kind != Json::Kind::Array || !offsets ||
        offsets->kind != Json::Kind::Array || offsets->array.size() != 2)
      return bad("expected 'shape' and two 'data_offsets'");
    uint64_t elements = 1;
    for (const Json &d : shape->array) {
      uint64_t dim;
      if (!unsignedOf(d, kMaxDimension, dim))
        return bad("malformed shape");
      t.shape.push_back(static_cast<int64_t>(dim));
      if (__builtin_mul_overflow(elements, dim, &elements) ||
          elements > kMaxElements)
        return bad("shape too large");
    }
    uint64_t begin, end;
    if (!unsignedOf(offsets->array[0], UINT64_MAX >> 12, begin) ||
        !unsignedOf(offsets->array[1], UINT64_MAX >> 12, end) || end < begin)
      return bad("malformed 'data_offsets'");
    if (end > dataSize)
      return bad("data [" + std::to_string(begin) + ", " + std::to_string(end) +
                 ") lies past the end of the file (truncated?)");
    t.size = end - begin;
    if (t.size != elements * bytes)
      return bad("holds " + std::to_string(t.size) +
                 " bytes but its shape and " + t.dtype + " need " +
                 std::to_string(elements * bytes));
    t.offset = dataStart + begin;
    t.data = data + t.offset;
    tensors[name] = std::move(t);
  }
  return true;
}

bool SafetensorsCheckpoint::openFile(const std::string &path,
                                     std::string &error) {
  std::unique_ptr<MappedFile> file = MappedFile::open(path, error);
  if (!file ||
      !parseSafetensors(path, file->data(), file->size(), entries, error))
    return false;
  files.push_back(std::move(file));
  return true;
}

bool SafetensorsCheckpoint::open(const std::string &path, std::string &error) {
  if (!isDirectory(path)) {
    origin = path;
    return openFile(path, error);
  }
  std::string single = path + "/model.safetensors";
  std::string index = path + "/model.safetensors.index.json";
  if (!exists(index)) {
    if (!exists(single))
      return true; // a folder without weights
    origin = single;
    return openFile(single, error);
  }
  origin = index;
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
    if (shard.kind != Json::Kind::String || shard.string.empty() ||
        shard.string.find_first_of("/\\") != std::string::npos ||
        shard.string == "." || shard.string == "..") {
      error = index + ": tensor '" + printable(name) +
              "': expected a shard file name";
      return false;
    }
    shards.insert(shard.string);
  }
  for (const std::string &shard : shards) {
    std::string shardPath = path + "/" + shard;
    if (!exists(shardPath)) {
      error = index + ": shard '" + printable(shard) + "' not found in " + path;
      return false;
    }
    if (!openFile(shardPath, error))
      return false;
  }
  for (const auto &[name, shard] : map->object) {
    auto it = entries.find(name);
    if (it == entries.end() || baseName(it->second.file) != shard.string) {
      error = index + ": tensor '" + printable(name) + "' is not in shard '" +
              printable(shard.string) + "'";
      return false;
    }
  }
  return true;
}

} // namespace lmc::rt
