//===- TokenizerFuzzer.cpp - Any bytes as a tokenizer.json ----------------===//
//
// Tokenizer::load must build a tokenizer that encodes and decodes any text,
// or refuse the file with a message. The bytes go through a file, the way
// users' downloads reach lmc.
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"
#include "text/Tokenizer.h"

#include <cstdio>
#include <string>
#include <unistd.h>

/// A tokenizer.json in a folder of this process's own.
static const std::string &scratchFile() {
  static const std::string path = [] {
    char folder[] = "/tmp/lmc-fuzz-tokenizer-XXXXXX";
    if (!mkdtemp(folder))
      std::abort();
    return std::string(folder) + "/tokenizer.json";
  }();
  return path;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string &path = scratchFile();
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0)
    std::abort();
  std::string error;
  std::unique_ptr<lmc::rt::Tokenizer> tokenizer =
      lmc::rt::Tokenizer::load(path, error);
  if (!tokenizer) {
    LMC_FUZZ_CHECK(!error.empty(), "a refusal says why");
    return 0;
  }
  for (bool special : {false, true}) {
    std::vector<int64_t> ids = tokenizer->encode(
        "Hello w\xc3\xb6rld 123 \xe6\x97\xa5\xe6\x9c\xac \t\n \xf0\x9f\x98\x80"
        " \xff\xfe <s></s><|endoftext|>",
        special);
    for (int64_t id : ids)
      LMC_FUZZ_CHECK(id >= 0 && id < tokenizer->vocabSize(),
                     "encoded ids lie in the vocabulary");
    ids.insert(ids.end(), {0, 1, 2, 100, 1000, -1, int64_t(1) << 40});
    tokenizer->decode(ids, special);
  }
  return 0;
}
