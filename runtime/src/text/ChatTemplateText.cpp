//===- ChatTemplateText.cpp - Python text semantics for templates ---------===//
//
// Python's str behaviour that chat templates rely on: UTF-8 code points,
// whitespace and case, float repr, int()/float() parsing, `%` and
// str.format formatting and the str methods.
//
//===----------------------------------------------------------------------===//

#include "ChatTemplateImpl.h"
#include "Utf8.h"

#include <unicase.h>
#include <unictype.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace lmc::rt::ct {

//===----------------------------------------------------------------------===//
// UTF-8 and code point classes
//===----------------------------------------------------------------------===//

uint32_t decodeAt(const std::string &s, size_t pos, size_t &len) {
  unsigned char c = s[pos];
  len = 1;
  if (c < 0x80)
    return c;
  int extra = (c & 0xe0) == 0xc0   ? 1
              : (c & 0xf0) == 0xe0 ? 2
              : (c & 0xf8) == 0xf0 ? 3
                                   : -1;
  if (extra < 0 || pos + extra >= s.size())
    return 0xdc00 + c;
  uint32_t cp = c & (0x3f >> extra);
  for (int k = 1; k <= extra; ++k) {
    unsigned char d = s[pos + k];
    if ((d & 0xc0) != 0x80)
      return 0xdc00 + c;
    cp = cp << 6 | (d & 0x3f);
  }
  static const uint32_t minimum[] = {0, 0x80, 0x800, 0x10000};
  if (cp < minimum[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
    return 0xdc00 + c;
  len = extra + 1;
  return cp;
}

std::vector<uint32_t> decodeUtf8(const std::string &s) {
  std::vector<uint32_t> cps;
  cps.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t len;
    cps.push_back(decodeAt(s, i, len));
    i += len;
  }
  return cps;
}

void appendUtf8(uint32_t cp, std::string &out) {
  if (cp >= 0xdc80 && cp <= 0xdcff) // an invalid byte, kept as it was
    out += char(cp - 0xdc00);
  else
    utf8::append(cp, out);
}

std::string encodeUtf8(const std::vector<uint32_t> &cps, size_t begin,
                       size_t end) {
  std::string out;
  for (size_t i = begin; i < end && i < cps.size(); ++i)
    appendUtf8(cps[i], out);
  return out;
}

size_t codepointCount(const std::string &s) {
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++count) {
    size_t len;
    decodeAt(s, i, len);
    i += len;
  }
  return count;
}

bool isIdentifierCp(uint32_t c, bool start) {
  if (c == '_')
    return true;
  return start ? uc_is_property_id_start(c) : uc_is_property_id_continue(c);
}

bool isPySpace(uint32_t c) {
  return (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x20) || c == 0x85 ||
         c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
         c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
         c == 0x3000;
}

// Python's character classes, from the Unicode database as CPython's
// makeunicodedata.py derives them (libunistring's copy of it).
bool isLowerCp(uint32_t c) { return uc_is_property_lowercase(c); }
bool isUpperCp(uint32_t c) { return uc_is_property_uppercase(c); }
bool isTitleCp(uint32_t c) { return uc_is_general_category(c, UC_CATEGORY_Lt); }
bool isCased(uint32_t c) { return uc_is_property_cased(c); }
bool isDecimalCp(uint32_t c) { return uc_decimal_value(c) >= 0; }
bool isDigitCp(uint32_t c) { return uc_digit_value(c) >= 0; }
bool isNumericCp(uint32_t c) { return uc_numeric_value(c).denominator != 0; }
bool isAlphaCp(uint32_t c) { return uc_is_general_category(c, UC_CATEGORY_L); }
bool isWordCp(uint32_t c) { return isAlphaCp(c) || isNumericCp(c) || c == '_'; }
bool isPrintableCp(uint32_t c) {
  if (c == ' ')
    return true;
  return !uc_is_general_category_withtable(
      c, UC_CATEGORY_MASK_Cc | UC_CATEGORY_MASK_Cf | UC_CATEGORY_MASK_Cs |
             UC_CATEGORY_MASK_Co | UC_CATEGORY_MASK_Cn | UC_CATEGORY_MASK_Zl |
             UC_CATEGORY_MASK_Zp | UC_CATEGORY_MASK_Zs);
}

namespace {
using CaseMapping = uint8_t *(*)(const uint8_t *, size_t, const char *,
                                 uninorm_t, uint8_t *, size_t *);

/// Applies a full case mapping (one character may become several, and
/// lowercasing sees a final sigma's context) to the valid UTF-8 runs of `s`;
/// invalid bytes pass through as Python's surrogateescape keeps them.
std::string mapCase(const std::string &s, CaseMapping mapping) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    size_t end = i;
    while (end < s.size() && utf8::validLength(s, end))
      end += utf8::validLength(s, end);
    if (end > i) {
      size_t length = 0;
      uint8_t *mapped = mapping(reinterpret_cast<const uint8_t *>(s.data() + i),
                                end - i, nullptr, nullptr, nullptr, &length);
      if (!mapped)
        throw std::bad_alloc();
      out.append(reinterpret_cast<const char *>(mapped), length);
      std::free(mapped);
    }
    for (; end < s.size() && !utf8::validLength(s, end); ++end)
      out += s[end];
    i = end;
  }
  return out;
}

std::string mapCase(uint32_t c, CaseMapping mapping) {
  std::string one;
  appendUtf8(c, one);
  return mapCase(one, mapping);
}
} // namespace

std::string upperStr(const std::string &s) { return mapCase(s, u8_toupper); }
std::string lowerStr(const std::string &s) { return mapCase(s, u8_tolower); }
std::string casefoldStr(const std::string &s) {
  return mapCase(s, u8_casefold);
}

namespace {
/// The lowercase of `cps[i]`. Capital sigma becomes final sigma after a cased
/// letter and not before one (case-ignorable characters skipped), the
/// context CPython looks at.
std::string lowerAt(const std::vector<uint32_t> &cps, size_t i) {
  if (cps[i] != 0x3a3)
    return mapCase(cps[i], u8_tolower);
  auto cased = [&](size_t j, int step) {
    for (; j < cps.size(); j += step)
      if (!uc_is_property_case_ignorable(cps[j]))
        return isCased(cps[j]);
    return false;
  };
  bool final = i > 0 && cased(i - 1, -1) && !cased(i + 1, 1);
  return utf8::encode(final ? 0x3c2 : 0x3c3);
}
} // namespace

std::string titleStr(const std::string &s) {
  std::vector<uint32_t> cps = decodeUtf8(s);
  std::string out;
  bool previousCased = false;
  for (size_t i = 0; i < cps.size(); ++i) {
    out += previousCased ? lowerAt(cps, i) : mapCase(cps[i], u8_totitle);
    previousCased = isCased(cps[i]);
  }
  return out;
}

std::string capitalizeStr(const std::string &s) {
  std::vector<uint32_t> cps = decodeUtf8(s);
  std::string out;
  for (size_t i = 0; i < cps.size(); ++i)
    out += i ? lowerAt(cps, i) : mapCase(cps[i], u8_totitle);
  return out;
}

std::string swapcaseStr(const std::string &s) {
  std::vector<uint32_t> cps = decodeUtf8(s);
  std::string out;
  for (size_t i = 0; i < cps.size(); ++i) {
    if (isUpperCp(cps[i]))
      out += lowerAt(cps, i);
    else if (isLowerCp(cps[i]))
      out += mapCase(cps[i], u8_toupper);
    else
      appendUtf8(cps[i], out);
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Numbers
//===----------------------------------------------------------------------===//

std::string formatFloat(double d) {
  if (std::isnan(d))
    return "nan";
  if (std::isinf(d))
    return d < 0 ? "-inf" : "inf";
  if (d == 0)
    return std::signbit(d) ? "-0.0" : "0.0";
  // The shortest digits that read back as `d` (what repr picks).
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    snprintf(buf, sizeof buf, "%.*e", precision - 1, d);
    if (std::strtod(buf, nullptr) == d)
      break;
  }
  std::string text = buf;
  bool negative = text[0] == '-';
  if (negative)
    text.erase(0, 1);
  size_t ePos = text.find('e');
  int exponent = std::atoi(text.c_str() + ePos + 1);
  std::string digits;
  for (size_t i = 0; i < ePos; ++i)
    if (text[i] != '.')
      digits += text[i];
  while (digits.size() > 1 && digits.back() == '0')
    digits.pop_back();
  std::string out = negative ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    out += digits[0];
    if (digits.size() > 1)
      out += "." + digits.substr(1);
    char exp[16];
    snprintf(exp, sizeof exp, "e%c%02d", exponent < 0 ? '-' : '+',
             std::abs(exponent));
    return out + exp;
  }
  if (exponent < 0)
    return out + "0." + std::string(-exponent - 1, '0') + digits;
  if (int(digits.size()) <= exponent + 1)
    return out + digits + std::string(exponent + 1 - digits.size(), '0') + ".0";
  return out + digits.substr(0, exponent + 1) + "." +
         digits.substr(exponent + 1);
}

/// snprintf into a string of the size the result needs.
template <typename T> static std::string cformat(const char *fmt, T value) {
  int n = snprintf(nullptr, 0, fmt, value);
  if (n <= 0)
    return "";
  std::string out(size_t(n) + 1, '\0');
  snprintf(&out[0], out.size(), fmt, value);
  out.resize(size_t(n));
  return out;
}

/// Python's float floor division and modulo.
void floatDivMod(double vx, double wx, double &div, double &mod) {
  mod = std::fmod(vx, wx);
  div = (vx - mod) / wx;
  if (mod != 0) {
    if ((wx < 0) != (mod < 0)) {
      mod += wx;
      div -= 1.0;
    }
  } else {
    mod = std::copysign(0.0, wx);
  }
  if (div != 0) {
    double floordiv = std::floor(div);
    if (div - floordiv > 0.5)
      floordiv += 1.0;
    div = floordiv;
  } else {
    div = std::copysign(0.0, vx / wx);
  }
}

/// Parses Python's int(str, base); false if it is not an integer literal.
bool parsePyInt(const std::string &text, int base, int64_t &out) {
  std::vector<uint32_t> cps = decodeUtf8(text);
  size_t b = 0, e = cps.size();
  while (b < e && isPySpace(cps[b]))
    ++b;
  while (e > b && isPySpace(cps[e - 1]))
    --e;
  bool negative = false;
  if (b < e && (cps[b] == '+' || cps[b] == '-'))
    negative = cps[b++] == '-';
  if (b + 1 < e && cps[b] == '0') {
    uint32_t k = cps[b + 1] | 0x20;
    int prefixBase = k == 'x' ? 16 : k == 'o' ? 8 : k == 'b' ? 2 : 0;
    if (prefixBase && (base == prefixBase || base == 0)) {
      base = prefixBase;
      b += 2;
      if (b < e && cps[b] == '_')
        ++b;
    }
  }
  if (base == 0)
    base = 10;
  if (b >= e)
    return false;
  uint64_t value = 0;
  bool lastUnderscore = true;
  for (size_t i = b; i < e; ++i) {
    uint32_t c = cps[i];
    if (c == '_') {
      if (lastUnderscore)
        return false;
      lastUnderscore = true;
      continue;
    }
    int d = c >= '0' && c <= '9' ? int(c - '0')
            : (c | 0x20) >= 'a' && (c | 0x20) <= 'z'
                ? int((c | 0x20) - 'a' + 10)
            : c >= 0xff10 && c <= 0xff19 ? int(c - 0xff10)
                                         : 99;
    if (d >= base)
      return false;
    if (value > (uint64_t(1) << 63) / base)
      return false;
    value = value * base + d;
    lastUnderscore = false;
  }
  if (lastUnderscore || value > (uint64_t(1) << 63) ||
      (!negative && value == (uint64_t(1) << 63)))
    return false;
  out = negative ? int64_t(0 - value) : int64_t(value);
  return true;
}

/// Parses Python's float(str); false if it is not a float literal.
bool parsePyFloat(const std::string &text, double &out) {
  std::vector<uint32_t> cps = decodeUtf8(text);
  size_t b = 0, e = cps.size();
  while (b < e && isPySpace(cps[b]))
    ++b;
  while (e > b && isPySpace(cps[e - 1]))
    --e;
  std::string ascii;
  for (size_t i = b; i < e; ++i) {
    if (cps[i] >= 0x80)
      return false;
    ascii += char(cps[i]);
  }
  std::string lower = lowerStr(ascii);
  std::string body = lower;
  if (!body.empty() && (body[0] == '+' || body[0] == '-'))
    body.erase(0, 1);
  if (body == "inf" || body == "infinity" || body == "nan") {
    out = body == "nan" ? NAN : INFINITY;
    if (lower[0] == '-')
      out = -out;
    return true;
  }
  // Underscores only between digits.
  std::string cleaned;
  for (size_t i = 0; i < ascii.size(); ++i) {
    if (ascii[i] == '_') {
      if (i == 0 || i + 1 >= ascii.size() ||
          !std::isdigit((unsigned char)ascii[i - 1]) ||
          !std::isdigit((unsigned char)ascii[i + 1]))
        return false;
      continue;
    }
    char c = ascii[i];
    if (!(std::isdigit((unsigned char)c) || c == '.' || c == 'e' || c == 'E' ||
          c == '+' || c == '-'))
      return false;
    cleaned += c;
  }
  if (cleaned.empty())
    return false;
  char *end = nullptr;
  out = std::strtod(cleaned.c_str(), &end);
  return end && *end == 0 && end != cleaned.c_str();
}

//===----------------------------------------------------------------------===//
// Arithmetic and string formatting
//===----------------------------------------------------------------------===//

namespace {

struct Spec {
  char fill = ' ';
  std::string fillUtf8 = " ";
  char align = 0;
  char sign = '-';
  bool alt = false;
  bool zero = false;
  int width = -1;
  char grouping = 0;
  int precision = -1;
  char type = 0;
};

std::string pad(const std::string &body, const Spec &spec, char defaultAlign) {
  int len = int(codepointCount(body));
  if (spec.width <= len)
    return body;
  int padding = spec.width - len;
  char align = spec.align ? spec.align : defaultAlign;
  auto fill = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i)
      s += spec.fillUtf8;
    return s;
  };
  if (align == '<')
    return body + fill(padding);
  if (align == '^')
    return fill(padding / 2) + body + fill(padding - padding / 2);
  if (align == '=') {
    size_t signLen =
        !body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ')
            ? 1
            : 0;
    return body.substr(0, signLen) + fill(padding) + body.substr(signLen);
  }
  return fill(padding) + body;
}

std::string groupDigits(const std::string &digits, char sep) {
  std::string out;
  int n = int(digits.size());
  for (int i = 0; i < n; ++i) {
    if (i && (n - i) % 3 == 0)
      out += sep;
    out += digits[i];
  }
  return out;
}

bool parseSpec(const std::string &text, Spec &spec) {
  std::vector<uint32_t> cps = decodeUtf8(text);
  size_t i = 0;
  auto isAlign = [](uint32_t c) {
    return c == '<' || c == '>' || c == '^' || c == '=';
  };
  if (cps.size() >= 2 && isAlign(cps[1])) {
    spec.fillUtf8.clear();
    appendUtf8(cps[0], spec.fillUtf8);
    spec.align = char(cps[1]);
    i = 2;
  } else if (!cps.empty() && isAlign(cps[0])) {
    spec.align = char(cps[0]);
    i = 1;
  }
  if (i < cps.size() && (cps[i] == '+' || cps[i] == '-' || cps[i] == ' '))
    spec.sign = char(cps[i++]);
  if (i < cps.size() && cps[i] == '#') {
    spec.alt = true;
    ++i;
  }
  if (i < cps.size() && cps[i] == '0') {
    spec.zero = true;
    ++i;
  }
  if (i < cps.size() && cps[i] >= '0' && cps[i] <= '9') {
    spec.width = 0;
    while (i < cps.size() && cps[i] >= '0' && cps[i] <= '9' &&
           spec.width < 100000)
      spec.width = spec.width * 10 + int(cps[i++] - '0');
  }
  if (i < cps.size() && (cps[i] == ',' || cps[i] == '_'))
    spec.grouping = char(cps[i++]);
  if (i < cps.size() && cps[i] == '.') {
    ++i;
    if (i >= cps.size() || cps[i] < '0' || cps[i] > '9')
      return false;
    spec.precision = 0;
    while (i < cps.size() && cps[i] >= '0' && cps[i] <= '9' &&
           spec.precision < 1000)
      spec.precision = spec.precision * 10 + int(cps[i++] - '0');
  }
  if (i < cps.size())
    spec.type = char(cps[i++]);
  if (spec.zero && !spec.align) {
    spec.fillUtf8 = "0";
    spec.align = '=';
  }
  return i == cps.size();
}

std::string signed_(bool negative, const std::string &body, char sign) {
  if (negative)
    return "-" + body;
  if (sign == '+')
    return "+" + body;
  if (sign == ' ')
    return " " + body;
  return body;
}

} // namespace

/// format(value, spec), for str.format.
static bool formatWithSpec(Interp &in, const Value &v, const std::string &text,
                           std::string &out) {
  if (text.empty())
    return in.toStr(v, out);
  Spec spec;
  if (!parseSpec(text, spec))
    return in.fail("Invalid format specifier '" + text + "'");
  if (v.kind == Kind::Str) {
    if (spec.type && spec.type != 's')
      return in.fail(std::string("Unknown format code '") + spec.type +
                     "' for object of type 'str'");
    std::string body = v.s;
    if (spec.precision >= 0) {
      std::vector<uint32_t> cps = decodeUtf8(body);
      body = encodeUtf8(cps, 0, size_t(spec.precision));
    }
    out = pad(body, spec, '<');
    return true;
  }
  if (v.isIntLike() && (!spec.type || std::strchr("dbcoxXn", spec.type))) {
    int64_t i = v.asInt();
    uint64_t mag = i < 0 ? 0 - uint64_t(i) : uint64_t(i);
    std::string digits;
    char type = spec.type ? spec.type : 'd';
    if (type == 'c') {
      appendUtf8(uint32_t(i), digits);
      out = pad(digits, spec, '<');
      return true;
    }
    int base = type == 'b'                    ? 2
               : type == 'o'                  ? 8
               : (type == 'x' || type == 'X') ? 16
                                              : 10;
    if (!mag)
      digits = "0";
    while (mag) {
      int d = int(mag % base);
      digits.insert(
          digits.begin(),
          char(d < 10 ? '0' + d : (type == 'X' ? 'A' : 'a') + d - 10));
      mag /= base;
    }
    if (spec.grouping)
      digits = groupDigits(digits, spec.grouping);
    if (spec.alt && base != 10)
      digits = std::string("0") +
               (type == 'b'   ? "b"
                : type == 'o' ? "o"
                : type == 'X' ? "X"
                              : "x") +
               digits;
    out = pad(signed_(i < 0, digits, spec.sign), spec, '>');
    return true;
  }
  if (v.isNumber()) {
    double d = v.asDouble();
    char type = spec.type;
    if (type && !std::strchr("eEfFgG%", type))
      return in.fail(std::string("Unknown format code '") + type +
                     "' for object of type '" + Interp::typeName(v) + "'");
    bool negative = std::signbit(d) && !std::isnan(d);
    double mag = std::fabs(d);
    std::string body;
    if (!type && spec.precision < 0) {
      body = formatFloat(mag);
    } else {
      if (type == '%')
        mag *= 100;
      char fmt[16];
      char conv = type == '%' ? 'f' : type ? type : 'g';
      int precision = spec.precision < 0 ? 6 : spec.precision;
      snprintf(fmt, sizeof fmt, "%%%s.%d%c", spec.alt ? "#" : "", precision,
               conv);
      body = cformat(fmt, mag);
      if (!type && body.find_first_of(".en") == std::string::npos)
        body += ".0";
      if (type == '%')
        body += "%";
    }
    if (spec.grouping) {
      size_t end = body.find_first_not_of("0123456789");
      if (end == std::string::npos)
        end = body.size();
      body = groupDigits(body.substr(0, end), spec.grouping) + body.substr(end);
    }
    out = pad(signed_(negative, body, spec.sign), spec, '>');
    return true;
  }
  return in.fail(std::string("unsupported format string passed to ") +
                 Interp::typeName(v) + ".__format__");
}

/// printf-style `str % args`.
bool percentFormat(Interp &in, const std::string &fmt, const Value &args,
                   std::string &out) {
  std::vector<Value> items;
  const DictObj *mapping = nullptr;
  if (args.kind == Kind::List && listOf(args).seq == Seq::Tuple)
    items = listOf(args).items;
  else if (args.kind == Kind::Dict)
    mapping = &dictOf(args);
  else
    items.push_back(args);
  size_t next = 0;
  out.clear();
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (++i >= fmt.size())
      return in.fail("incomplete format");
    const Value *arg = nullptr;
    Value keyed;
    if (fmt[i] == '(') {
      size_t close = fmt.find(')', i);
      if (close == std::string::npos || !mapping)
        return in.fail("format requires a mapping");
      std::string key = fmt.substr(i + 1, close - i - 1);
      bool found = false;
      for (const auto &kv : mapping->items)
        if (kv.first.kind == Kind::Str && kv.first.s == key) {
          keyed = kv.second;
          found = true;
        }
      if (!found)
        return in.fail("'" + key + "'");
      arg = &keyed;
      i = close + 1;
    }
    std::string flags;
    while (i < fmt.size() && std::strchr("-+ #0", fmt[i]) && fmt[i])
      flags += fmt[i++];
    std::string width, precision;
    while (i < fmt.size() && std::isdigit((unsigned char)fmt[i]))
      width += fmt[i++];
    if (i < fmt.size() && fmt[i] == '.') {
      precision = ".";
      ++i;
      while (i < fmt.size() && std::isdigit((unsigned char)fmt[i]))
        precision += fmt[i++];
    }
    while (i < fmt.size() && std::strchr("hlL", fmt[i]) && fmt[i])
      ++i;
    if (i >= fmt.size())
      return in.fail("incomplete format");
    char conv = fmt[i];
    if (conv == '%') {
      out += '%';
      continue;
    }
    if (width.size() > 5 || precision.size() > 5)
      return in.fail("format width too large");
    if (!arg) {
      if (mapping && items.empty()) {
        keyed = args;
        arg = &keyed;
      } else if (next >= items.size()) {
        return in.fail("not enough arguments for format string");
      } else {
        arg = &items[next++];
      }
    }
    std::string piece;
    if (conv == 's' || conv == 'r' || conv == 'a') {
      if (conv == 's' ? !in.toStr(*arg, piece) : !in.toRepr(*arg, piece))
        return false;
      if (precision.size() > 1) {
        std::vector<uint32_t> cps = decodeUtf8(piece);
        piece = encodeUtf8(cps, 0, size_t(std::atoi(precision.c_str() + 1)));
      }
      int w = std::atoi(width.c_str());
      int len = int(codepointCount(piece));
      if (w > len)
        piece = flags.find('-') != std::string::npos
                    ? piece + std::string(w - len, ' ')
                    : std::string(w - len, ' ') + piece;
    } else if (std::strchr("diuoxXc", conv)) {
      if (!arg->isNumber())
        return in.fail(std::string("%") + conv +
                       " format: a real number is required, not " +
                       Interp::typeName(*arg));
      if (arg->kind == Kind::Float && !(std::fabs(arg->f) < 9.2e18))
        return in.fail("cannot convert float to integer");
      long long value = arg->kind == Kind::Float ? (long long)std::trunc(arg->f)
                                                 : (long long)arg->asInt();
      std::string spec = "%" + flags + width + precision + "ll" +
                         (conv == 'i' || conv == 'u' ? 'd' : conv);
      if (conv == 'c') {
        appendUtf8(uint32_t(value), piece);
      } else {
        piece = cformat(spec.c_str(), value);
      }
    } else if (std::strchr("eEfFgG", conv)) {
      if (!arg->isNumber())
        return in.fail(std::string("must be real number, not ") +
                       Interp::typeName(*arg));
      std::string spec = "%" + flags + width + precision + conv;
      piece = cformat(spec.c_str(), arg->asDouble());
    } else {
      return in.fail(std::string("unsupported format character '") + conv +
                     "'");
    }
    out += piece;
    if (!in.checkSize(out.size()))
      return false;
  }
  // CPython skips this check when the argument is a mapping, and a list
  // counts as one (it has __getitem__).
  bool mappingLike =
      mapping || (args.kind == Kind::List && listOf(args).seq != Seq::Tuple);
  if (!mappingLike && next < items.size())
    return in.fail("not all arguments converted during string formatting");
  return true;
}

/// str.format(*args, **kwargs).
static bool strFormat(Interp &in, const std::string &fmt, const Args &args,
                      std::string &out) {
  out.clear();
  int autoIndex = 0;
  bool manual = false, automatic = false;
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
        out += '}';
        ++i;
        continue;
      }
      return in.fail("Single '}' encountered in format string");
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    size_t close = fmt.find('}', i);
    if (close == std::string::npos)
      return in.fail("expected '}' before end of string");
    std::string field = fmt.substr(i + 1, close - i - 1);
    i = close;
    std::string spec, conversion;
    size_t colon = field.find(':');
    if (colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field.resize(colon);
    }
    size_t bang = field.find('!');
    if (bang != std::string::npos) {
      conversion = field.substr(bang + 1);
      field.resize(bang);
    }
    size_t nameEnd = field.find_first_of(".[");
    std::string head = field.substr(0, nameEnd);
    Value value;
    if (head.empty() || std::isdigit((unsigned char)head[0])) {
      size_t index;
      if (head.empty()) {
        if (manual)
          return in.fail("cannot switch from manual field specification to "
                         "automatic field numbering");
        automatic = true;
        index = size_t(autoIndex++);
      } else {
        if (automatic)
          return in.fail("cannot switch from automatic field numbering to "
                         "manual field specification");
        manual = true;
        index = head.size() > 9
                    ? args.pos.size()
                    : size_t(std::strtoul(head.c_str(), nullptr, 10));
      }
      if (index >= args.pos.size())
        return in.fail("Replacement index " + std::to_string(index) +
                       " out of range for positional args tuple");
      value = args.pos[index];
    } else {
      bool found = false;
      for (const Kwarg &kw : args.kw)
        if (kw.name == head) {
          value = kw.value;
          found = true;
        }
      if (!found)
        return in.fail("'" + head + "'");
    }
    // .attr and [key] accessors.
    size_t p = nameEnd;
    while (p != std::string::npos && p < field.size()) {
      if (field[p] == '.') {
        size_t e = field.find_first_of(".[", p + 1);
        std::string attr = field.substr(
            p + 1, e == std::string::npos ? std::string::npos : e - p - 1);
        Value next;
        if (!in.getAttr(value, attr, next))
          return false;
        value = next;
        p = e;
      } else {
        size_t e = field.find(']', p);
        if (e == std::string::npos)
          return in.fail("Missing ']' in format string");
        std::string key = field.substr(p + 1, e - p - 1);
        Value k =
            !key.empty() &&
                    std::all_of(
                        key.begin(), key.end(),
                        [](char ch) { return std::isdigit((unsigned char)ch); })
                ? Value::integer(key.size() > 18 ? 0 : std::atoll(key.c_str()))
                : Value::str(key);
        Value next;
        if (!in.getItem(value, k, next))
          return false;
        value = next;
        p = e + 1;
      }
    }
    if (conversion == "r" || conversion == "a") {
      std::string r;
      if (!in.toRepr(value, r))
        return false;
      value = Value::str(r);
    } else if (conversion == "s") {
      std::string s;
      if (!in.toStr(value, s))
        return false;
      value = Value::str(s);
    } else if (!conversion.empty()) {
      return in.fail("Unknown conversion specifier " + conversion);
    }
    std::string piece;
    if (!formatWithSpec(in, value, spec, piece))
      return false;
    out += piece;
    if (!in.checkSize(out.size()))
      return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// String methods
//===----------------------------------------------------------------------===//

std::vector<uint32_t> stripSet(Interp &in, const Value &chars, bool &ok) {
  ok = true;
  if (chars.kind == Kind::None || chars.kind == Kind::Undefined)
    return {};
  if (chars.kind != Kind::Str) {
    ok = in.fail("strip arg must be None or str");
    return {};
  }
  return decodeUtf8(chars.s);
}

std::string stripStr(const std::string &s, const std::vector<uint32_t> *set,
                     bool left, bool right) {
  std::vector<uint32_t> cps = decodeUtf8(s);
  auto drop = [&](uint32_t c) {
    return set ? std::find(set->begin(), set->end(), c) != set->end()
               : isPySpace(c);
  };
  size_t b = 0, e = cps.size();
  if (left)
    while (b < e && drop(cps[b]))
      ++b;
  if (right)
    while (e > b && drop(cps[e - 1]))
      --e;
  return encodeUtf8(cps, b, e);
}

std::vector<std::string> splitStr(const std::string &s, const Value *sep,
                                  int64_t maxsplit, bool fromRight) {
  std::vector<std::string> parts;
  if (!sep) {
    std::vector<uint32_t> cps = decodeUtf8(s);
    if (!fromRight) {
      size_t i = 0, n = cps.size();
      while (maxsplit-- != 0) {
        while (i < n && isPySpace(cps[i]))
          ++i;
        if (i >= n)
          break;
        size_t j = i;
        while (j < n && !isPySpace(cps[j]))
          ++j;
        parts.push_back(encodeUtf8(cps, i, j));
        i = j;
      }
      while (i < n && isPySpace(cps[i]))
        ++i;
      if (i < n)
        parts.push_back(encodeUtf8(cps, i, n));
    } else {
      size_t i = cps.size();
      while (maxsplit-- != 0) {
        while (i > 0 && isPySpace(cps[i - 1]))
          --i;
        if (i == 0)
          break;
        size_t j = i;
        while (j > 0 && !isPySpace(cps[j - 1]))
          --j;
        parts.insert(parts.begin(), encodeUtf8(cps, j, i));
        i = j;
      }
      while (i > 0 && isPySpace(cps[i - 1]))
        --i;
      if (i > 0)
        parts.insert(parts.begin(), encodeUtf8(cps, 0, i));
    }
    return parts;
  }
  const std::string &d = sep->s;
  if (!fromRight) {
    size_t start = 0;
    while (maxsplit-- != 0) {
      size_t p = s.find(d, start);
      if (p == std::string::npos)
        break;
      parts.push_back(s.substr(start, p - start));
      start = p + d.size();
    }
    parts.push_back(s.substr(start));
  } else {
    size_t end = s.size();
    while (maxsplit-- != 0 && end >= d.size()) {
      size_t p = s.rfind(d, end - d.size());
      if (p == std::string::npos)
        break;
      parts.insert(parts.begin(), s.substr(p + d.size(), end - p - d.size()));
      end = p;
    }
    parts.insert(parts.begin(), s.substr(0, end));
  }
  return parts;
}

std::vector<std::string> splitLines(const std::string &s, bool keepEnds) {
  std::vector<uint32_t> cps = decodeUtf8(s);
  std::vector<std::string> lines;
  size_t start = 0, i = 0, n = cps.size();
  while (i < n) {
    uint32_t c = cps[i];
    bool brk = c == '\n' || c == '\r' || c == 0x0b || c == 0x0c ||
               (c >= 0x1c && c <= 0x1e) || c == 0x85 || c == 0x2028 ||
               c == 0x2029;
    if (!brk) {
      ++i;
      continue;
    }
    size_t eol = i + 1;
    if (c == '\r' && eol < n && cps[eol] == '\n')
      ++eol;
    lines.push_back(encodeUtf8(cps, start, keepEnds ? eol : i));
    start = i = eol;
  }
  if (start < n)
    lines.push_back(encodeUtf8(cps, start, n));
  return lines;
}

std::string replaceStr(const std::string &s, const std::string &old,
                       const std::string &with, int64_t count) {
  std::string out;
  if (old.empty()) {
    std::vector<uint32_t> cps = decodeUtf8(s);
    for (size_t i = 0; i <= cps.size(); ++i) {
      if (count != 0) {
        out += with;
        --count;
      }
      if (i < cps.size())
        appendUtf8(cps[i], out);
    }
    return out;
  }
  size_t start = 0;
  while (count != 0) {
    size_t p = s.find(old, start);
    if (p == std::string::npos)
      break;
    out.append(s, start, p - start);
    out += with;
    start = p + old.size();
    if (count > 0)
      --count;
  }
  out.append(s, start, std::string::npos);
  return out;
}

/// Byte offset of code point index `i` (clamped) in `s`.
static size_t byteOffset(const std::string &s, int64_t i) {
  size_t pos = 0;
  for (int64_t k = 0; k < i && pos < s.size(); ++k) {
    size_t len;
    decodeAt(s, pos, len);
    pos += len;
  }
  return pos;
}

/// Resolves Python's optional start/end arguments to a byte range.
static void strRange(const std::string &s, const Value &start, const Value &end,
                     size_t &b, size_t &e) {
  int64_t n = int64_t(codepointCount(s));
  auto norm = [&](const Value &v, int64_t dflt) {
    if (!v.isIntLike())
      return dflt;
    int64_t x = v.asInt();
    if (x < 0)
      x = std::max<int64_t>(0, x + n);
    return std::min(x, n);
  };
  int64_t bi = norm(start, 0), ei = norm(end, n);
  b = byteOffset(s, bi);
  e = ei < bi ? b : byteOffset(s, ei);
}

std::string justify(const std::string &s, int64_t width,
                    const std::string &fill, char how) {
  int64_t len = int64_t(codepointCount(s));
  if (width <= len)
    return s;
  int64_t padding = std::min<int64_t>(width - len, int64_t(kMaxOutput));
  auto rep = [&](int64_t n) {
    std::string r;
    for (int64_t i = 0; i < n; ++i)
      r += fill;
    return r;
  };
  if (how == '<')
    return s + rep(padding);
  if (how == '>')
    return rep(padding) + s;
  // str.center puts the odd pad on the right unless both are odd.
  int64_t left = padding / 2 + (padding & width & 1);
  return rep(left) + s + rep(padding - left);
}

bool strMethod(Interp &in, const std::string &name, const std::string &self,
               Args args, Value &out) {
  std::vector<Value> a;
  std::vector<bool> given;
  auto boolOf = [&](auto pred) {
    std::vector<uint32_t> cps = decodeUtf8(self);
    bool r = !cps.empty();
    for (uint32_t c : cps)
      r = r && pred(c);
    out = Value::boolean(r);
    return true;
  };
  if (name == "upper" || name == "lower" || name == "title" ||
      name == "capitalize" || name == "casefold" || name == "swapcase") {
    if (!in.bind(name.c_str(), args, {}, 0, a, given))
      return false;
    if (name == "upper")
      out = Value::str(upperStr(self));
    else if (name == "lower")
      out = Value::str(lowerStr(self));
    else if (name == "casefold")
      out = Value::str(casefoldStr(self));
    else if (name == "title")
      out = Value::str(titleStr(self));
    else if (name == "capitalize")
      out = Value::str(capitalizeStr(self));
    else
      out = Value::str(swapcaseStr(self));
    return true;
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    if (!in.bind(name.c_str(), args, {"chars"}, 0, a, given))
      return false;
    bool ok;
    std::vector<uint32_t> set = stripSet(in, a[0], ok);
    if (!ok)
      return false;
    bool custom = a[0].kind == Kind::Str;
    out = Value::str(stripStr(self, custom ? &set : nullptr, name != "rstrip",
                              name != "lstrip"));
    return true;
  }
  if (name == "split" || name == "rsplit") {
    if (!in.bind(name.c_str(), args, {"sep", "maxsplit"}, 0, a, given))
      return false;
    const Value *sep = nullptr;
    if (a[0].kind == Kind::Str) {
      if (a[0].s.empty())
        return in.fail("empty separator");
      sep = &a[0];
    } else if (given[0] && a[0].kind != Kind::None) {
      return in.fail(std::string("must be str or None, not ") +
                     Interp::typeName(a[0]));
    }
    int64_t maxsplit = given[1] && a[1].isIntLike() ? a[1].asInt() : -1;
    std::vector<Value> parts;
    for (std::string &p : splitStr(self, sep, maxsplit, name == "rsplit"))
      parts.push_back(Value::str(std::move(p)));
    out = Value::list(std::move(parts));
    return true;
  }
  if (name == "splitlines") {
    if (!in.bind(name.c_str(), args, {"keepends"}, 0, a, given))
      return false;
    bool keep = false;
    in.truthy(a[0], keep);
    std::vector<Value> parts;
    for (std::string &p : splitLines(self, keep))
      parts.push_back(Value::str(std::move(p)));
    out = Value::list(std::move(parts));
    return true;
  }
  if (name == "startswith" || name == "endswith") {
    if (!in.bind(name.c_str(), args, {"prefix", "start", "end"}, 1, a, given))
      return false;
    size_t b, e;
    strRange(self, a[1], a[2], b, e);
    std::string region = self.substr(b, e - b);
    std::vector<Value> candidates;
    if (a[0].kind == Kind::Str)
      candidates.push_back(a[0]);
    else if (a[0].kind == Kind::List && listOf(a[0]).seq == Seq::Tuple)
      candidates = listOf(a[0]).items;
    else
      return in.fail(name + " first arg must be str or a tuple of str, not " +
                     Interp::typeName(a[0]));
    bool r = false;
    for (const Value &c : candidates) {
      if (c.kind != Kind::Str)
        return in.fail("tuple for " + name + " must only contain str, not " +
                       Interp::typeName(c));
      if (c.s.size() <= region.size() &&
          region.compare(name == "startswith" ? 0 : region.size() - c.s.size(),
                         c.s.size(), c.s) == 0)
        r = true;
    }
    out = Value::boolean(r);
    return true;
  }
  if (name == "replace") {
    if (!in.bind(name.c_str(), args, {"old", "new", "count"}, 2, a, given))
      return false;
    if (a[0].kind != Kind::Str || a[1].kind != Kind::Str)
      return in.fail("replace() argument must be str");
    int64_t count = given[2] && a[2].isIntLike() ? a[2].asInt() : -1;
    std::string r = replaceStr(self, a[0].s, a[1].s, count);
    if (!in.checkSize(r.size()))
      return false;
    out = Value::str(std::move(r));
    return true;
  }
  if (name == "find" || name == "rfind" || name == "index" ||
      name == "rindex" || name == "count") {
    if (!in.bind(name.c_str(), args, {"sub", "start", "end"}, 1, a, given))
      return false;
    if (a[0].kind != Kind::Str)
      return in.fail(std::string("must be str, not ") + Interp::typeName(a[0]));
    size_t b, e;
    strRange(self, a[1], a[2], b, e);
    std::string region = self.substr(b, e - b);
    const std::string &sub = a[0].s;
    if (name == "count") {
      int64_t c = 0;
      if (sub.empty()) {
        c = int64_t(codepointCount(region)) + 1;
      } else {
        for (size_t p = region.find(sub); p != std::string::npos;
             p = region.find(sub, p + sub.size()))
          ++c;
      }
      out = Value::integer(c);
      return true;
    }
    size_t p = name[0] == 'r' ? region.rfind(sub) : region.find(sub);
    if (p == std::string::npos) {
      if (name == "index" || name == "rindex")
        return in.fail("substring not found");
      out = Value::integer(-1);
      return true;
    }
    out = Value::integer(int64_t(codepointCount(self.substr(0, b + p))));
    return true;
  }
  if (name == "join") {
    if (!in.bind(name.c_str(), args, {"iterable"}, 1, a, given))
      return false;
    std::vector<Value> items;
    if (!in.iterate(a[0], items))
      return false;
    std::string r;
    for (size_t i = 0; i < items.size(); ++i) {
      if (items[i].kind != Kind::Str)
        return in.fail("sequence item " + std::to_string(i) +
                       ": expected str instance, " +
                       Interp::typeName(items[i]) + " found");
      if (i)
        r += self;
      r += items[i].s;
      if (!in.checkSize(r.size()))
        return false;
    }
    out = Value::str(std::move(r));
    return true;
  }
  if (name == "format") {
    std::string r;
    if (!strFormat(in, self, args, r))
      return false;
    out = Value::str(std::move(r));
    return true;
  }
  if (name == "center" || name == "ljust" || name == "rjust") {
    if (!in.bind(name.c_str(), args, {"width", "fillchar"}, 1, a, given))
      return false;
    if (!a[0].isIntLike())
      return in.fail("integer argument expected");
    std::string fill = given[1] && a[1].kind == Kind::Str ? a[1].s : " ";
    if (codepointCount(fill) != 1)
      return in.fail("The fill character must be exactly one character long");
    out = Value::str(justify(self, a[0].asInt(), fill,
                             name == "center"  ? '^'
                             : name == "ljust" ? '<'
                                               : '>'));
    return in.checkSize(out.s.size());
  }
  if (name == "zfill") {
    if (!in.bind(name.c_str(), args, {"width"}, 1, a, given) ||
        !a[0].isIntLike())
      return in.fail("zfill() requires an integer width");
    int64_t len = int64_t(codepointCount(self)), width = a[0].asInt();
    if (width <= len) {
      out = Value::str(self);
      return true;
    }
    if (!in.checkSize(size_t(width - len)))
      return false;
    size_t signLen = !self.empty() && (self[0] == '+' || self[0] == '-');
    out = Value::str(self.substr(0, signLen) +
                     std::string(size_t(width - len), '0') +
                     self.substr(signLen));
    return true;
  }
  if (name == "removeprefix" || name == "removesuffix") {
    if (!in.bind(name.c_str(), args, {"affix"}, 1, a, given) ||
        a[0].kind != Kind::Str)
      return in.fail(name + "() argument must be str");
    const std::string &x = a[0].s;
    std::string r = self;
    if (name == "removeprefix" && self.compare(0, x.size(), x) == 0)
      r = self.substr(x.size());
    else if (name == "removesuffix" && !x.empty() && x.size() <= self.size() &&
             self.compare(self.size() - x.size(), x.size(), x) == 0)
      r = self.substr(0, self.size() - x.size());
    out = Value::str(r);
    return true;
  }
  if (name == "partition" || name == "rpartition") {
    if (!in.bind(name.c_str(), args, {"sep"}, 1, a, given) ||
        a[0].kind != Kind::Str || a[0].s.empty())
      return in.fail(name + "() requires a non-empty str separator");
    const std::string &sep = a[0].s;
    size_t p = name == "partition" ? self.find(sep) : self.rfind(sep);
    std::vector<Value> parts;
    if (p == std::string::npos) {
      if (name == "partition")
        parts = {Value::str(self), Value::str(""), Value::str("")};
      else
        parts = {Value::str(""), Value::str(""), Value::str(self)};
    } else {
      parts = {Value::str(self.substr(0, p)), Value::str(sep),
               Value::str(self.substr(p + sep.size()))};
    }
    out = Value::list(std::move(parts), Seq::Tuple);
    return true;
  }
  if (!in.bind(name.c_str(), args, {}, 0, a, given))
    return false;
  if (name == "isdecimal")
    return boolOf(isDecimalCp);
  if (name == "isdigit")
    return boolOf(isDigitCp);
  if (name == "isnumeric")
    return boolOf(isNumericCp);
  if (name == "isalpha")
    return boolOf(isAlphaCp);
  if (name == "isalnum")
    return boolOf([](uint32_t c) { return isAlphaCp(c) || isNumericCp(c); });
  if (name == "isspace")
    return boolOf(isPySpace);
  if (name == "isascii") {
    bool r = std::all_of(self.begin(), self.end(),
                         [](char c) { return (unsigned char)c < 0x80; });
    out = Value::boolean(r);
    return true;
  }
  if (name == "islower" || name == "isupper") {
    // As CPython: false at a character of the other case or a titlecase
    // one, true if at least one character has the asked case.
    bool lower = name == "islower", any = false, ok = true;
    for (uint32_t c : decodeUtf8(self)) {
      if (isTitleCp(c) || (lower ? isUpperCp(c) : isLowerCp(c)))
        ok = false;
      any |= lower ? isLowerCp(c) : isUpperCp(c);
    }
    out = Value::boolean(any && ok);
    return true;
  }
  return in.fail("unsupported str method '" + name + "'");
}

} // namespace lmc::rt::ct
