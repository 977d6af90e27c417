//===- Regex.h - Unicode regular expressions (PCRE2) ------------*- C++ -*-===//
//
// The split patterns of tokenizer.json are Oniguruma regexes written for
// Unicode text (\p{L}, \p{N}, (?i:...), lookahead). PCRE2 in UTF + UCP mode
// reads them with the same meaning; a pattern it cannot compile is an error
// naming the pattern, never a silent fallback.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_TEXT_REGEX_H
#define LMC_RT_TEXT_REGEX_H

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace lmc::rt {

class Regex {
public:
  /// Compiles `pattern`; null with `error` when PCRE2 rejects it.
  static std::unique_ptr<Regex> compile(const std::string &pattern,
                                        std::string &error);
  /// A literal string as a pattern.
  static std::string escape(const std::string &literal);
  ~Regex();

  /// The [begin, end) byte ranges of the successive non-overlapping matches
  /// in `text` (valid UTF-8); empty matches are skipped.
  std::vector<std::pair<size_t, size_t>> findAll(const std::string &text) const;

private:
  Regex() = default;
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace lmc::rt

#endif // LMC_RT_TEXT_REGEX_H
