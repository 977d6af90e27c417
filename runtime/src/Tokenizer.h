//===- Tokenizer.h - Byte-level BPE from GGUF metadata ----------*- C++ -*-===//
//
// GPT-2 style byte-level BPE (tokenizer.ggml.model = "gpt2"): special tokens
// are matched first, the rest is split by the pre-tokenizer (digits one by
// one, then GPT-2's pattern), mapped to byte-level symbols and merged by
// rank. Decoding maps symbols back to bytes.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_TOKENIZER_H
#define LMC_RT_TOKENIZER_H

#include "Gguf.h"

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace lmc::rt {

class Tokenizer {
public:
  /// Reads the vocabulary from GGUF metadata; false with `error` when it is
  /// missing or not a byte-level BPE.
  bool load(const std::map<std::string, GgufValue> &metadata,
            std::string &error);

  std::vector<int64_t> encode(const std::string &text) const;
  /// The text of `id` (special tokens as written).
  std::string decode(int64_t id) const;
  std::string decode(const std::vector<int64_t> &ids) const;

  int64_t bos() const { return bosId; }
  int64_t eos() const { return eosId; }
  /// The prompt for one user message in the model's chat format (ChatML
  /// for the templates that use <|im_start|>), with the default system
  /// message the template adds.
  bool chatPrompt(std::string user, std::string &prompt,
                  std::string &error) const;

private:
  void encodeWord(const std::string &word, std::vector<int64_t> &out) const;

  std::vector<std::string> tokens;
  std::unordered_map<std::string, int64_t> ids;
  std::unordered_map<std::string, int> ranks; // "left right" -> rank
  std::vector<std::string> specials;          // longest first
  std::string byteToSymbol[256];
  std::unordered_map<std::string, unsigned char> symbolToByte;
  std::string chatTemplate;
  int64_t bosId = -1, eosId = -1;
};

} // namespace lmc::rt

#endif // LMC_RT_TOKENIZER_H
