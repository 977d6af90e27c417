//===- ArtifactFuzzer.cpp - Any bytes as an .lmx artifact -----------------===//
//
// openArtifact decides whether an artifact's code may run. Any bytes must be
// opened or refused with a message. Mutations almost never survive the
// seal, so when the first byte is odd the target re-seals the rest after
// the FlatBuffers verifier accepts it, the way a deliberately forged file
// would be: that exercises the version check and what comes after it.
//
//===----------------------------------------------------------------------===//

#include "ArtifactSeal.h"
#include "FuzzCheck.h"

#include "lmx_generated.h"

#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  bool reseal = data[0] & 1;
  // FlatBuffers reads aligned scalars: give the buffer the alignment a file
  // mapping has.
  std::vector<uint64_t> storage((size - 1 + 7) / 8 + 1);
  uint8_t *buffer = reinterpret_cast<uint8_t *>(storage.data());
  std::copy(data + 1, data + size, buffer);
  size_t length = size - 1;
  std::string error;
  if (reseal && length >= 8 && lmc::lmx::ModelBufferHasIdentifier(buffer)) {
    flatbuffers::Verifier verifier(buffer, length);
    if (lmc::lmx::VerifyModelBuffer(verifier))
      lmc::rt::sealArtifact(buffer, length, error);
  }
  error.clear();
  const lmc::lmx::Model *model = lmc::rt::openArtifact(buffer, length, error);
  LMC_FUZZ_CHECK(model || !error.empty(), "a refusal says why");
  LMC_FUZZ_CHECK(!model || model->version() == lmc::rt::kArtifactVersion,
                 "only this build's version opens");
  return 0;
}
