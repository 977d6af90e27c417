//===- Regex.cpp - Unicode regular expressions (PCRE2) --------------------===//

#include "text/Regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace lmc::rt {

struct Regex::Impl {
  pcre2_code *code = nullptr;
  ~Impl() { pcre2_code_free(code); }
};

Regex::~Regex() = default;

std::unique_ptr<Regex> Regex::compile(const std::string &pattern,
                                      std::string &error) {
  int status = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code *code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()),
                                   pattern.size(), PCRE2_UTF | PCRE2_UCP,
                                   &status, &offset, nullptr);
  if (!code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(status, message, sizeof(message));
    error = "regex '" + pattern + "' at offset " + std::to_string(offset) +
            ": " + reinterpret_cast<const char *>(message);
    return nullptr;
  }
  // The JIT makes splitting several times faster; without it (an
  // unsupported CPU), matching is interpreted with the same results.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  std::unique_ptr<Regex> regex(new Regex);
  regex->impl = std::make_unique<Impl>();
  regex->impl->code = code;
  return regex;
}

std::string Regex::escape(const std::string &literal) {
  return "\\Q" + literal + "\\E";
}

std::vector<std::pair<size_t, size_t>>
Regex::findAll(const std::string &text) const {
  std::vector<std::pair<size_t, size_t>> matches;
  pcre2_match_data *data =
      pcre2_match_data_create_from_pattern(impl->code, nullptr);
  auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t start = 0;
  while (start <= text.size()) {
    // The text was repaired to valid UTF-8 before it got here.
    int rc = pcre2_match(impl->code, subject, text.size(), start,
                         PCRE2_NO_UTF_CHECK, data, nullptr);
    if (rc < 0)
      break;
    PCRE2_SIZE *ovector = pcre2_get_ovector_pointer(data);
    size_t begin = ovector[0], end = ovector[1];
    if (end > begin) {
      matches.emplace_back(begin, end);
      start = end;
      continue;
    }
    // An empty match: step over one code point.
    if (begin >= text.size())
      break;
    start = begin + 1;
    while (start < text.size() &&
           (static_cast<unsigned char>(text[start]) & 0xc0) == 0x80)
      ++start;
  }
  pcre2_match_data_free(data);
  return matches;
}

} // namespace lmc::rt
