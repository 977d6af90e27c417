//===- Utf8.cpp - UTF-8 code points, repair and boundaries ----------------===//

#include "Utf8.h"

#include <algorithm>

namespace lmc::rt::utf8 {

void append(uint32_t cp, std::string &out) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xc0 | cp >> 6);
    out += char(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += char(0xe0 | cp >> 12);
    out += char(0x80 | (cp >> 6 & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  } else {
    out += char(0xf0 | cp >> 18);
    out += char(0x80 | (cp >> 12 & 0x3f));
    out += char(0x80 | (cp >> 6 & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  }
}

namespace {
/// How many bytes of a sequence starting at `s[i]` are well formed (Unicode
/// table 3-7), and how many it needs; `have == need` is a valid sequence.
void wellFormed(const std::string &s, size_t i, size_t &have, size_t &need) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  have = 1;
  if (c < 0x80) {
    need = 1;
    return;
  }
  unsigned char lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    need = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    need = 3;
    lo = c == 0xe0 ? 0xa0 : 0x80;
    hi = c == 0xed ? 0x9f : 0xbf;
  } else if (c >= 0xf0 && c <= 0xf4) {
    need = 4;
    lo = c == 0xf0 ? 0x90 : 0x80;
    hi = c == 0xf4 ? 0x8f : 0xbf;
  } else {
    need = 0; // never a lead byte
    return;
  }
  for (size_t k = 1; k < need && i + k < s.size(); ++k) {
    unsigned char b = byte(i + k);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf))
      return;
    ++have;
  }
}
} // namespace

size_t validLength(const std::string &s, size_t i) {
  size_t have, need;
  wellFormed(s, i, have, need);
  return have == need ? need : 0;
}

uint32_t next(const std::string &s, size_t &i) {
  unsigned char c = s[i];
  size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
  uint32_t cp = n == 1   ? c
                : n == 2 ? (c & 0x1f)
                : n == 3 ? (c & 0x0f)
                         : (c & 0x07);
  for (size_t k = 1; k < n && i + k < s.size(); ++k)
    cp = cp << 6 | (static_cast<unsigned char>(s[i + k]) & 0x3f);
  // A sequence cut short by the end of `s` ends there.
  i = std::min(i + n, s.size());
  return cp;
}

std::string repair(const std::string &s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t have, need;
    wellFormed(s, i, have, need);
    if (have == need) {
      out.append(s, i, need);
    } else {
      append(kReplacement, out);
    }
    i += have;
  }
  return out;
}

size_t stablePrefix(const std::string &s, bool holdReplacement) {
  size_t end = 0;
  for (size_t i = 0; i < s.size();) {
    size_t have, need;
    wellFormed(s, i, have, need);
    if (have != need)
      break;
    i += need;
    end = i;
  }
  // A trailing U+FFFD may be the start of a character split over tokens.
  while (holdReplacement && end >= 3 &&
         s.compare(end - 3, 3, "\xef\xbf\xbd") == 0)
    end -= 3;
  return end;
}

} // namespace lmc::rt::utf8
