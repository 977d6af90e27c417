//===- Safetensors.cpp - Checkpoint tensor index --------------------------===//

#include "lmc/Import/Safetensors.h"

#include "lmc/Import/Gguf.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::lm;
namespace json = llvm::json;
namespace fs = llvm::sys::fs;

/// Headers above this size are rejected before being read (the format's
/// reference implementation uses the same bound).
static constexpr uint64_t kMaxHeaderBytes = 100 * 1024 * 1024;

unsigned mlir::lm::getDTypeBytes(StringRef dtype) {
  return llvm::StringSwitch<unsigned>(dtype)
      .Cases({"F64", "I64", "U64"}, 8)
      .Cases({"F32", "I32", "U32"}, 4)
      .Cases({"F16", "BF16", "I16", "U16"}, 2)
      .Cases({"F8_E4M3", "F8_E5M2", "F8_E8M0", "I8", "U8", "BOOL"}, 1)
      .Default(0);
}

static LogicalResult fail(std::string &error, const Twine &message) {
  error = message.str();
  return failure();
}

LogicalResult WeightIndex::loadFile(StringRef path, std::string &error) {
  uint64_t fileSize = 0;
  if (std::error_code ec = fs::file_size(path, fileSize))
    return fail(error, path + ": cannot read: " + ec.message());
  if (fileSize < 8)
    return fail(error, path + ": truncated: " + Twine(fileSize) +
                           " bytes, too short for a safetensors header");
  auto file = llvm::MemoryBuffer::getFileSlice(path, 8, 0);
  if (!file)
    return fail(error, path + ": cannot read: " + file.getError().message());
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = (headerSize << 8) |
                 static_cast<unsigned char>((*file)->getBufferStart()[i]);
  if (headerSize > kMaxHeaderBytes || headerSize > fileSize - 8)
    return fail(error, path + ": header size " + Twine(headerSize) +
                           " exceeds the file (" + Twine(fileSize) +
                           " bytes) or the 100 MiB limit");
  auto header = llvm::MemoryBuffer::getFileSlice(path, headerSize, 8);
  if (!header)
    return fail(error, path + ": cannot read: " + header.getError().message());
  llvm::Expected<json::Value> parsed = json::parse((*header)->getBuffer());
  if (!parsed)
    return fail(error, path + ": malformed header: " +
                           llvm::toString(parsed.takeError()));
  json::Object *object = parsed->getAsObject();
  if (!object)
    return fail(error, path + ": malformed header: expected a JSON object");

  const uint64_t dataStart = 8 + headerSize;
  const uint64_t dataSize = fileSize - dataStart;
  for (auto &[key, value] : *object) {
    StringRef name = key;
    if (name == "__metadata__")
      continue;
    auto bad = [&](const Twine &why) {
      return fail(error, path + ": tensor '" + name + "': " + why);
    };
    json::Object *entry = value.getAsObject();
    if (!entry)
      return bad("expected an object");
    TensorInfo info;
    info.name = name.str();
    info.file = path.str();
    std::optional<StringRef> dtype = entry->getString("dtype");
    if (!dtype)
      return bad("missing 'dtype'");
    info.dtype = dtype->str();
    unsigned bytes = getDTypeBytes(*dtype);
    if (bytes == 0)
      return bad("unsupported dtype '" + *dtype + "'");
    json::Array *shape = entry->getArray("shape");
    json::Array *offsets = entry->getArray("data_offsets");
    if (!shape || !offsets || offsets->size() != 2)
      return bad("expected 'shape' and two 'data_offsets'");
    uint64_t elements = 1;
    for (json::Value &d : *shape) {
      std::optional<int64_t> dim = d.getAsInteger();
      if (!dim || *dim < 0 || *dim > (int64_t(1) << 40))
        return bad("malformed shape");
      info.shape.push_back(*dim);
      elements *= static_cast<uint64_t>(*dim);
      if (elements > (uint64_t(1) << 48))
        return bad("shape too large");
    }
    std::optional<int64_t> begin = (*offsets)[0].getAsInteger();
    std::optional<int64_t> end = (*offsets)[1].getAsInteger();
    if (!begin || !end || *begin < 0 || *end < *begin)
      return bad("malformed 'data_offsets'");
    if (static_cast<uint64_t>(*end) > dataSize)
      return bad("data [" + Twine(*begin) + ", " + Twine(*end) +
                 ") lies past the end of the file (truncated?)");
    info.size = static_cast<uint64_t>(*end - *begin);
    if (info.size != elements * bytes)
      return bad("holds " + Twine(info.size) + " bytes but its shape and " +
                 info.dtype + " need " + Twine(elements * bytes));
    info.offset = dataStart + static_cast<uint64_t>(*begin);
    tensors[info.name] = std::move(info);
  }
  if (source.empty())
    source = path.str();
  return success();
}

LogicalResult WeightIndex::load(StringRef dir, std::string &error) {
  if (dir.ends_with(".gguf"))
    return success(importGguf(dir, *this, error) != nullptr);
  llvm::SmallString<256> single(dir), index(dir);
  llvm::sys::path::append(single, "model.safetensors");
  llvm::sys::path::append(index, "model.safetensors.index.json");
  if (fs::exists(index)) {
    source = index.str().str();
    auto buffer = llvm::MemoryBuffer::getFile(index, /*IsText=*/true);
    if (!buffer)
      return fail(error, index + ": cannot read: " + buffer.getError().message());
    llvm::Expected<json::Value> parsed = json::parse((*buffer)->getBuffer());
    if (!parsed)
      return fail(error, index + ": malformed JSON: " +
                             llvm::toString(parsed.takeError()));
    json::Object *map =
        parsed->getAsObject() ? parsed->getAsObject()->getObject("weight_map")
                              : nullptr;
    if (!map)
      return fail(error, index + ": field 'weight_map': missing");
    llvm::StringSet<> shards;
    for (auto &[name, shard] : *map) {
      std::optional<StringRef> file = shard.getAsString();
      if (!file || file->contains('/') || file->contains('\\'))
        return fail(error, index + ": tensor '" + StringRef(name) +
                               "': expected a shard file name");
      shards.insert(*file);
    }
    for (const auto &shard : shards) {
      llvm::SmallString<256> path(dir);
      llvm::sys::path::append(path, shard.getKey());
      if (!fs::exists(path))
        return fail(error, index + ": shard '" + shard.getKey() +
                               "' not found in " + dir);
      if (failed(loadFile(path, error)))
        return failure();
    }
    for (auto &[name, shard] : *map) {
      const TensorInfo *info = lookup(StringRef(name));
      if (!info || llvm::sys::path::filename(info->file) != *shard.getAsString())
        return fail(error, index + ": tensor '" + StringRef(name) +
                               "' is not in shard '" + *shard.getAsString() +
                               "'");
    }
    return success();
  }
  if (fs::exists(single))
    return loadFile(single, error);
  return success(); // graph only
}

const TensorInfo *WeightIndex::lookup(StringRef name) const {
  auto it = tensors.find(name);
  return it == tensors.end() ? nullptr : &it->second;
}
