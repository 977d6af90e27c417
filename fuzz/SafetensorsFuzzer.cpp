//===- SafetensorsFuzzer.cpp - Any bytes as a .safetensors file -----------===//
//
// parseSafetensors must accept the bytes, with every tensor's data inside
// them and of the size its shape and dtype need, or refuse them with a
// message.
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"
#include "Safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::map<std::string, lmc::rt::SafetensorsTensor> tensors;
  std::string error;
  if (!lmc::rt::parseSafetensors("fuzz.safetensors", data, size, tensors,
                                 error)) {
    LMC_FUZZ_CHECK(!error.empty(), "a refusal says why");
    return 0;
  }
  for (const auto &[name, t] : tensors) {
    LMC_FUZZ_CHECK(t.data >= data && t.size <= size &&
                       size_t(t.data - data) <= size - t.size,
                   "tensor data lies inside the file");
    uint64_t elements = 1;
    for (int64_t d : t.shape) {
      LMC_FUZZ_CHECK(d >= 0, "dimensions are not negative");
      elements *= uint64_t(d);
    }
    LMC_FUZZ_CHECK(elements * lmc::rt::safetensorsDTypeBytes(t.dtype) == t.size,
                   "the size is what shape and dtype need");
  }
  return 0;
}
