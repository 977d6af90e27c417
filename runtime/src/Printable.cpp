//===- Printable.cpp - File contents inside one-line messages -------------===//

#include "Printable.h"

namespace lmc::rt {

std::string printable(std::string_view text, size_t limit) {
  std::string out;
  for (size_t i = 0; i < text.size() && i < limit; ++i) {
    unsigned char c = text[i];
    if (c < 0x20 || c == 0x7f) {
      static const char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += char(c);
    }
  }
  if (text.size() > limit)
    out += "...";
  return out;
}

} // namespace lmc::rt
