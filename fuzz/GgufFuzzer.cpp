//===- GgufFuzzer.cpp - Any bytes as a GGUF file --------------------------===//
//
// GgufFile::parse must accept the bytes, with every tensor inside them, or
// refuse them with a message; an accepted file's tokenizer metadata must in
// turn load into a tokenizer that encodes and decodes, or be refused.
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"
#include "Gguf.h"
#include "text/Tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lmc::rt::GgufFile file;
  std::string error;
  if (!file.parse("fuzz.gguf", data, size, error)) {
    LMC_FUZZ_CHECK(!error.empty(), "a refusal says why");
    return 0;
  }
  for (const lmc::rt::GgufTensor &t : file.tensors())
    LMC_FUZZ_CHECK(t.size <= size && t.offset <= size - t.size,
                   "tensor data lies inside the file");

  std::unique_ptr<lmc::rt::Tokenizer> tokenizer =
      lmc::rt::Tokenizer::fromGguf("fuzz.gguf", file.metadata(), error);
  if (!tokenizer) {
    LMC_FUZZ_CHECK(!error.empty(), "a refusal says why");
    return 0;
  }
  std::vector<int64_t> ids =
      tokenizer->encode("Hello w\xc3\xb6rld 123 \xe6\x97\xa5 <|x|>", true);
  for (int64_t id : ids)
    LMC_FUZZ_CHECK(id >= 0 && id < tokenizer->vocabSize(),
                   "encoded ids lie in the vocabulary");
  ids.insert(ids.end(), {0, 1, 2, -1, 1 << 30});
  tokenizer->decode(ids);
  tokenizer->decode(ids, /*skipSpecialTokens=*/true);
  return 0;
}
