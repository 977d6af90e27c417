//===- Utf8.h - UTF-8 code points, repair and boundaries --------*- C++ -*-===//
//
// Tokenizers see text as Unicode scalar values. Input bytes that are not
// UTF-8 are repaired the way Python's `bytes.decode(errors="replace")` and
// Rust's `from_utf8_lossy` do (one U+FFFD per maximal invalid subpart), so
// the ids equal what the reference tokenizer gives for the repaired text.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_UTF8_H
#define LMC_RT_UTF8_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace lmc::rt::utf8 {

constexpr uint32_t kReplacement = 0xfffd;

/// Appends the UTF-8 encoding of `cp`.
void append(uint32_t cp, std::string &out);
inline std::string encode(uint32_t cp) {
  std::string s;
  append(cp, s);
  return s;
}

/// The length of the valid sequence at `s[i]`, 0 when none starts there.
size_t validLength(const std::string &s, size_t i);

/// Decodes the scalar at `s[i]` of valid UTF-8 and advances `i`; never past
/// the end of `s` (text that is not valid UTF-8 may end in a lead byte).
uint32_t next(const std::string &s, size_t &i);

/// `s` with every maximal invalid subpart replaced by U+FFFD.
std::string repair(const std::string &s);

/// The longest valid prefix of `s` without, when `holdReplacement`, the
/// U+FFFD at its end (bytes a later token may still complete): what a text
/// stream may print now.
size_t stablePrefix(const std::string &s, bool holdReplacement = true);

} // namespace lmc::rt::utf8

#endif // LMC_RT_UTF8_H
