//===- Normalizer.h - tokenizer.json normalizers ----------------*- C++ -*-===//
//
// The text transformations a tokenizer applies to each piece between added
// tokens before splitting it: Unicode forms, lowercase, strip, prepend and
// replace (as Llama 2 / Mistral / Gemma's SentencePiece-style tokenizers use
// them), in sequence. Any other normalizer is refused by name.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_TEXT_NORMALIZER_H
#define LMC_RT_TEXT_NORMALIZER_H

#include "Json.h"
#include "text/Regex.h"

#include <memory>
#include <string>
#include <vector>

namespace lmc::rt {

class Normalizer {
public:
  /// Builds from `config` (a normalizer object of tokenizer.json, or null
  /// for none); false with `error` naming `where` and the field.
  bool configure(const Json &config, const std::string &where,
                 std::string &error);
  bool empty() const { return steps.empty(); }
  std::string apply(std::string text) const;

private:
  enum class Kind { NFC, NFD, NFKC, NFKD, Lowercase, Strip, Prepend, Replace };
  struct Step {
    Kind kind;
    std::string text;             // prepend / replacement content
    std::string literal;          // replace: a string pattern
    std::shared_ptr<Regex> regex; // replace: a regex pattern
    bool left = false, right = false;
  };
  bool add(const Json &config, const std::string &where, std::string &error);

  std::vector<Step> steps;
};

/// Replaces every match of `regex` (or occurrence of `literal` when `regex`
/// is null) in `text` by `content`; shared by normalizers and decoders.
std::string replaceAll(const std::string &text, const Regex *regex,
                       const std::string &literal, const std::string &content);

/// Reads a {"String": s} or {"Regex": r} pattern object.
bool readPattern(const Json &pattern, const std::string &where,
                 std::string &literal, std::shared_ptr<Regex> &regex,
                 std::string &error);

} // namespace lmc::rt

#endif // LMC_RT_TEXT_NORMALIZER_H
