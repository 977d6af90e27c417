//===- ArtifactSeal.h - Opening and sealing an artifact ---------*- C++ -*-===//
//
// An artifact carries native code, so a corrupted or truncated one must be
// refused before anything in it runs. `lmc compile` seals it: each code
// object carries the SHA-256 of its bytes, and the model the SHA-256 of the
// rest of the buffer (the metadata: tables, names, shapes, the code objects'
// digests). The runtime and `lmc inspect` open an artifact through
// openArtifact, which checks the identifier, the FlatBuffers structure, the
// version and then the seal, so a mismatch names the section that changed.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_ARTIFACTSEAL_H
#define LMC_RT_ARTIFACTSEAL_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace lmc::lmx {
struct Model;
} // namespace lmc::lmx

namespace lmc::rt {

/// The artifact version this build writes and reads.
constexpr uint32_t kArtifactVersion = 5;

/// The model of an artifact buffer once it has the identifier, passes the
/// FlatBuffers verifier, has this build's version and matches its seal;
/// null with `error` (one line, without the file name) otherwise.
const lmx::Model *openArtifact(const uint8_t *buffer, size_t size,
                               std::string &error);

/// Writes the digests into a finished artifact buffer whose digest fields
/// hold 32 placeholder bytes each. False with `error` if one is missing.
bool sealArtifact(uint8_t *buffer, size_t size, std::string &error);

} // namespace lmc::rt

#endif // LMC_RT_ARTIFACTSEAL_H
