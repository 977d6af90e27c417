//===- ArtifactSeal.cpp - Opening and sealing an artifact -----------------===//

#include "ArtifactSeal.h"
#include "Sha256.h"

#include "lmx_generated.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace lmc::rt {

namespace {
using Digest = Sha256::Digest;

/// A byte range of the buffer the metadata digest leaves out.
struct Range {
  size_t offset, size;
};

const flatbuffers::Vector<uint8_t> *
digestField(const flatbuffers::Vector<uint8_t> *field) {
  return field && field->size() == sizeof(Digest) ? field : nullptr;
}

std::string describe(const lmx::CodeObject *code, size_t index) {
  return "code object " + std::to_string(index) + " (" + code->target()->str() +
         " " + code->format()->str() + ")";
}

/// The ranges the metadata digest leaves out: each code object's bytes
/// (they have their own digest) and every digest field. Empty if a digest
/// field is missing, with `error` set.
bool excludedRanges(const uint8_t *buffer, const lmx::Model *model,
                    std::vector<Range> &ranges, std::string &error) {
  auto add = [&](const flatbuffers::Vector<uint8_t> *v) {
    ranges.push_back({size_t(v->data() - buffer), v->size()});
  };
  const flatbuffers::Vector<uint8_t> *modelDigest =
      digestField(model->sha256());
  if (!modelDigest) {
    error = "the metadata has no digest";
    return false;
  }
  add(modelDigest);
  if (const auto *code = model->code()) {
    for (size_t i = 0; i < code->size(); ++i) {
      const lmx::CodeObject *c = code->Get(i);
      const flatbuffers::Vector<uint8_t> *digest = digestField(c->sha256());
      if (!digest) {
        error = describe(c, i) + " has no digest";
        return false;
      }
      add(digest);
      if (c->data())
        add(c->data());
    }
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const Range &a, const Range &b) { return a.offset < b.offset; });
  return true;
}

/// SHA-256 of the buffer without `ranges`; each left-out range's place and
/// size are hashed instead, so moving bytes across a boundary shows.
Digest metadataDigest(const uint8_t *buffer, size_t size,
                      const std::vector<Range> &ranges) {
  Sha256 hash;
  size_t at = 0;
  for (const Range &r : ranges) {
    if (r.offset < at)
      continue; // vectors of a verified buffer do not overlap
    hash.update(buffer + at, r.offset - at);
    uint64_t place[2] = {r.offset, r.size};
    hash.update(place, sizeof(place));
    at = r.offset + r.size;
  }
  hash.update(buffer + at, size - at);
  return hash.finish();
}

Digest codeDigest(const lmx::CodeObject *code) {
  return code->data() ? Sha256::of(code->data()->data(), code->data()->size())
                      : Sha256::of(nullptr, 0);
}
} // namespace

bool sealArtifact(uint8_t *buffer, size_t size, std::string &error) {
  const lmx::Model *model = lmx::GetModel(buffer);
  std::vector<Range> ranges;
  if (!excludedRanges(buffer, model, ranges, error))
    return false;
  auto write = [&](const flatbuffers::Vector<uint8_t> *field,
                   const Digest &digest) {
    std::memcpy(buffer + (field->data() - buffer), digest.data(),
                digest.size());
  };
  if (const auto *code = model->code())
    for (const lmx::CodeObject *c : *code)
      write(c->sha256(), codeDigest(c));
  write(model->sha256(), metadataDigest(buffer, size, ranges));
  return true;
}

namespace {
/// False with `error` = what does not match ("code object 0 (x86_64-host
/// elf-shared-object) does not match its digest", ...).
bool checkSeal(const uint8_t *buffer, size_t size, const lmx::Model *model,
               std::string &error) {
  std::vector<Range> ranges;
  if (!excludedRanges(buffer, model, ranges, error))
    return false;
  auto matches = [](const flatbuffers::Vector<uint8_t> *field,
                    const Digest &digest) {
    return std::memcmp(field->data(), digest.data(), digest.size()) == 0;
  };
  // The metadata first: it holds the code objects' digests and names.
  if (!matches(model->sha256(), metadataDigest(buffer, size, ranges))) {
    error = "the metadata does not match its digest";
    return false;
  }
  if (const auto *code = model->code()) {
    for (size_t i = 0; i < code->size(); ++i) {
      const lmx::CodeObject *c = code->Get(i);
      if (!matches(c->sha256(), codeDigest(c))) {
        error = describe(c, i) + " does not match its digest";
        return false;
      }
    }
  }
  return true;
}
} // namespace

const lmx::Model *openArtifact(const uint8_t *buffer, size_t size,
                               std::string &error) {
  if (size < 8 || !lmx::ModelBufferHasIdentifier(buffer)) {
    error = "not an lmc artifact (bad identifier)";
    return nullptr;
  }
  flatbuffers::Verifier verifier(buffer, size);
  if (!lmx::VerifyModelBuffer(verifier)) {
    error = "corrupt artifact (verification failed)";
    return nullptr;
  }
  const lmx::Model *model = lmx::GetModel(buffer);
  if (model->version() != kArtifactVersion) {
    error = "unsupported artifact version " + std::to_string(model->version()) +
            " (this build reads version " + std::to_string(kArtifactVersion) +
            ": compile the model again)";
    return nullptr;
  }
  if (!checkSeal(buffer, size, model, error)) {
    error = "corrupt artifact: " + error;
    return nullptr;
  }
  return model;
}

} // namespace lmc::rt
