//===- Unicode.cpp - Normalization and character properties ---------------===//

#include "text/Unicode.h"

#include <cstdlib>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>

namespace lmc::rt::unicode {

namespace {
std::string take(uint8_t *result, size_t length, const std::string &fallback) {
  // libunistring fails only on allocation failure or invalid input; the text
  // was repaired before, so keep it unchanged rather than lose it.
  if (!result)
    return fallback;
  std::string out(reinterpret_cast<char *>(result), length);
  std::free(result);
  return out;
}
} // namespace

std::string normalize(const std::string &text, Form form) {
  uninorm_t nf = form == Form::NFC    ? UNINORM_NFC
                 : form == Form::NFD  ? UNINORM_NFD
                 : form == Form::NFKC ? UNINORM_NFKC
                                      : UNINORM_NFKD;
  size_t length = 0;
  uint8_t *result =
      u8_normalize(nf, reinterpret_cast<const uint8_t *>(text.data()),
                   text.size(), nullptr, &length);
  return take(result, length, text);
}

std::string lowercase(const std::string &text) {
  size_t length = 0;
  uint8_t *result = u8_tolower(reinterpret_cast<const uint8_t *>(text.data()),
                               text.size(), nullptr, nullptr, nullptr, &length);
  return take(result, length, text);
}

bool isWhitespace(uint32_t cp) { return uc_is_property_white_space(cp); }

bool isAlphanumeric(uint32_t cp) {
  return uc_is_property_alphabetic(cp) ||
         uc_is_general_category(cp, UC_CATEGORY_N);
}

} // namespace lmc::rt::unicode
