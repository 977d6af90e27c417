//===- Unicode.h - Normalization and character properties -------*- C++ -*-===//
//
// What tokenizer normalizers and added-token matching need from the Unicode
// database, through libunistring (Debian's, small; the runtime needs no ICU).
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_TEXT_UNICODE_H
#define LMC_RT_TEXT_UNICODE_H

#include <cstdint>
#include <string>

namespace lmc::rt::unicode {

enum class Form { NFC, NFD, NFKC, NFKD };

/// `text` (valid UTF-8) in normalization form `form`.
std::string normalize(const std::string &text, Form form);
/// Full Unicode lowercase mapping (as Rust's str::to_lowercase).
std::string lowercase(const std::string &text);

/// Rust's char::is_whitespace (the White_Space property).
bool isWhitespace(uint32_t cp);
/// Rust's char::is_alphanumeric (Alphabetic or a number).
bool isAlphanumeric(uint32_t cp);

} // namespace lmc::rt::unicode

#endif // LMC_RT_TEXT_UNICODE_H
