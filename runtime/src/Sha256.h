//===- Sha256.h - SHA-256 (FIPS 180-4) --------------------------*- C++ -*-===//
//
// The digest that seals an artifact's sections (ArtifactDigest.h). Plain
// C++, so the compiler and the runtime compute it the same way without a
// crypto library.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_SHA256_H
#define LMC_RT_SHA256_H

#include <array>
#include <cstddef>
#include <cstdint>

namespace lmc::rt {

class Sha256 {
public:
  using Digest = std::array<uint8_t, 32>;

  Sha256();
  void update(const void *data, size_t size);
  /// The digest of everything given to update(); the object is spent.
  Digest finish();

  static Digest of(const void *data, size_t size) {
    Sha256 h;
    h.update(data, size);
    return h.finish();
  }

private:
  void compress(const uint8_t *block);

  uint32_t state[8];
  uint8_t pending[64];
  size_t pendingSize = 0;
  uint64_t totalBytes = 0;
};

} // namespace lmc::rt

#endif // LMC_RT_SHA256_H
