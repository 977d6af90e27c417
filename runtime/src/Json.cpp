//===- Json.cpp - A small JSON reader for checkpoint headers --------------===//

#include "Json.h"
#include "Utf8.h"

#include <cstdint>
#include <cstdlib>

namespace lmc::rt {

const Json *Json::get(const std::string &key) const {
  for (const auto &[k, v] : object)
    if (k == key)
      return &v;
  return nullptr;
}

namespace {
class Parser {
public:
  explicit Parser(const std::string &text) : text(text) {}

  bool parse(Json &out, std::string &error) {
    if (!value(out, 0) || (skip(), pos != text.size())) {
      error = message.empty() ? "unexpected trailing text" : message;
      error += " at byte " + std::to_string(pos);
      return false;
    }
    return true;
  }

private:
  void skip() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n' ||
                                 text[pos] == '\t' || text[pos] == '\r'))
      ++pos;
  }
  bool fail(const char *why) {
    if (message.empty())
      message = why;
    return false;
  }
  bool literal(const char *word) {
    size_t n = std::char_traits<char>::length(word);
    if (text.compare(pos, n, word) != 0)
      return fail("invalid literal");
    pos += n;
    return true;
  }
  bool hex4(uint32_t &cp) {
    if (pos + 4 > text.size())
      return fail("bad \\u escape");
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      char h = text[pos++];
      int d = h >= '0' && h <= '9'   ? h - '0'
              : h >= 'a' && h <= 'f' ? h - 'a' + 10
              : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                     : -1;
      if (d < 0)
        return fail("bad \\u escape");
      cp = cp << 4 | d;
    }
    return true;
  }

  bool str(std::string &out) {
    if (pos >= text.size() || text[pos] != '"')
      return fail("expected a string");
    ++pos;
    while (pos < text.size() && text[pos] != '"') {
      char c = text[pos++];
      if (c == '\\') {
        if (pos >= text.size())
          return fail("unterminated escape");
        char e = text[pos++];
        switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u': {
          uint32_t cp;
          if (!hex4(cp))
            return false;
          // A high surrogate must pair with a low one (UTF-16 in JSON).
          if (cp >= 0xd800 && cp < 0xdc00) {
            uint32_t low;
            if (text.compare(pos, 2, "\\u") != 0 || (pos += 2, !hex4(low)) ||
                low < 0xdc00 || low >= 0xe000)
              return fail("unpaired surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          } else if (cp >= 0xdc00 && cp < 0xe000) {
            return fail("unpaired surrogate in \\u escape");
          }
          utf8::append(cp, out);
          break;
        }
        default:
          out += e;
        }
      } else {
        out += c;
      }
    }
    if (pos >= text.size())
      return fail("unterminated string");
    ++pos;
    return true;
  }
  bool value(Json &out, int depth) {
    if (depth > 64)
      return fail("nesting too deep");
    skip();
    if (pos >= text.size())
      return fail("unexpected end");
    char c = text[pos];
    if (c == '{') {
      out.kind = Json::Kind::Object;
      ++pos;
      skip();
      if (pos < text.size() && text[pos] == '}')
        return ++pos, true;
      while (true) {
        skip();
        std::string key;
        if (!str(key))
          return false;
        skip();
        if (pos >= text.size() || text[pos] != ':')
          return fail("expected ':'");
        ++pos;
        Json v;
        if (!value(v, depth + 1))
          return false;
        out.object.emplace_back(std::move(key), std::move(v));
        skip();
        if (pos < text.size() && text[pos] == ',') {
          ++pos;
          continue;
        }
        if (pos < text.size() && text[pos] == '}')
          return ++pos, true;
        return fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      out.kind = Json::Kind::Array;
      ++pos;
      skip();
      if (pos < text.size() && text[pos] == ']')
        return ++pos, true;
      while (true) {
        Json v;
        if (!value(v, depth + 1))
          return false;
        out.array.push_back(std::move(v));
        skip();
        if (pos < text.size() && text[pos] == ',') {
          ++pos;
          continue;
        }
        if (pos < text.size() && text[pos] == ']')
          return ++pos, true;
        return fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      out.kind = Json::Kind::String;
      return str(out.string);
    }
    if (c == 't' || c == 'f') {
      out.kind = Json::Kind::Bool;
      out.boolean = c == 't';
      return literal(c == 't' ? "true" : "false");
    }
    if (c == 'n') {
      out.kind = Json::Kind::Null;
      return literal("null");
    }
    const char *begin = text.c_str() + pos;
    char *end = nullptr;
    out.number = std::strtod(begin, &end);
    if (end == begin)
      return fail("unexpected character");
    out.kind = Json::Kind::Number;
    pos += end - begin;
    return true;
  }

  const std::string &text;
  size_t pos = 0;
  std::string message;
};
} // namespace

bool parseJson(const std::string &text, Json &out, std::string &error) {
  return Parser(text).parse(out, error);
}

} // namespace lmc::rt
