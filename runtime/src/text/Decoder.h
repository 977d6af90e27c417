//===- Decoder.h - tokenizer.json decoders ----------------------*- C++ -*-===//
//
// Turns tokens back into text: byte-level (GPT-2 symbols to bytes),
// SentencePiece style (replace "▁", byte fallback, fuse, strip, Metaspace),
// in sequence, with tokenizers' semantics. Any other decoder is refused by
// name.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_TEXT_DECODER_H
#define LMC_RT_TEXT_DECODER_H

#include "Json.h"
#include "text/Regex.h"

#include <memory>
#include <string>
#include <vector>

namespace lmc::rt {

class Decoder {
public:
  bool configure(const Json &config, const std::string &where,
                 std::string &error);
  void addByteLevel();
  bool empty() const { return steps.empty(); }

  /// The text of `tokens` (valid UTF-8: bytes that do not form characters
  /// become U+FFFD, as tokenizers does).
  std::string apply(std::vector<std::string> tokens) const;

private:
  enum class Kind { ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace };
  struct Step {
    Kind kind;
    std::string literal, content;
    std::shared_ptr<Regex> regex;
    size_t start = 0, stop = 0; // Strip
    bool prependFirst = true;   // Metaspace: drop the first token's prefix
  };
  bool add(const Json &config, const std::string &where, std::string &error);

  std::vector<Step> steps;
};

} // namespace lmc::rt

#endif // LMC_RT_TEXT_DECODER_H
