//===- ChatTemplateParser.cpp - Lexer and parser for chat templates -------===//
//
// Follows jinja2 3.1: the lexer's trim_blocks, lstrip_blocks and whitespace
// control (`-`, `+`) and newline handling, and the parser's operator
// precedence (tests and filters bind tighter than arithmetic, `not x is y`
// negates the test). Filter and test names are checked here, as jinja2 does
// when it compiles a template.
//
//===----------------------------------------------------------------------===//

#include "ChatTemplateAst.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace lmc::rt::ct {

std::string Program::location(size_t offset) const {
  const std::string &src = source;
  int ln = line(offset);
  size_t start = lineStarts[ln - 1];
  // Columns count code points, 1-based.
  size_t col = 1;
  for (size_t i = start; i < offset && i < src.size(); ++i)
    if ((static_cast<unsigned char>(src[i]) & 0xc0) != 0x80)
      ++col;
  return std::to_string(ln) + ":" + std::to_string(col);
}

//===----------------------------------------------------------------------===//
// Lexer
//===----------------------------------------------------------------------===//

enum class Tok : uint8_t {
  Data,
  VarBegin,
  VarEnd,
  BlockBegin,
  BlockEnd,
  Name,
  String,
  Int,
  Float,
  Op,
  Eof,
};

struct Token {
  Tok type;
  std::string text;
  int64_t intValue = 0;
  double floatValue = 0;
  size_t offset = 0;
};

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool isNameChar(char c) { return isNameStart(c) || isDigit(c); }

/// A character as Python's repr quotes it in jinja2's messages.
std::string quoteChar(const std::string &ch) {
  return ch == "'" ? "\"'\"" : "'" + ch + "'";
}

int hexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

class Lexer {
public:
  explicit Lexer(const std::string &src) : src(src), n(src.size()) {}

  bool run(std::vector<Token> &out);

  std::string error;
  size_t errorOffset = 0;

private:
  bool fail(size_t offset, std::string message) {
    if (error.empty()) {
      error = std::move(message);
      errorOffset = offset;
    }
    return false;
  }
  /// Byte length of the (Python \s) whitespace code point at `pos`, or 0.
  size_t spaceAt(size_t pos) const {
    if (pos >= n)
      return 0;
    size_t len = 0;
    uint32_t cp = decodeAt(pos, len);
    return isPySpace(cp) ? len : 0;
  }
  uint32_t decodeAt(size_t pos, size_t &len) const;
  size_t skipSpace(size_t pos) const {
    while (size_t len = spaceAt(pos))
      pos += len;
    return pos;
  }
  /// End of `[begin, end)` with trailing whitespace removed (str.rstrip).
  size_t rstripEnd(size_t begin, size_t end) const;
  bool allSpace(size_t begin, size_t end) const {
    for (size_t i = begin; i < end;) {
      size_t len = spaceAt(i);
      if (!len)
        return false;
      i += len;
    }
    return true;
  }
  void emitData(std::vector<Token> &out, size_t begin, size_t end) {
    if (end <= begin)
      return;
    Token t{Tok::Data, src.substr(begin, end - begin)};
    t.offset = begin;
    out.push_back(std::move(t));
  }
  /// Applies `-`, `+` and lstrip_blocks to the text before a tag.
  size_t textEnd(size_t begin, size_t tag, char sign, bool isVariable,
                 bool lineStarting) const;
  bool matchRawBegin(size_t p, size_t &end, char &sign) const;
  bool lexInside(size_t &pos, bool block, std::vector<Token> &out,
                 bool &lineStarting);
  bool lexString(size_t &pos, std::vector<Token> &out);
  bool lexNumber(size_t &pos, std::vector<Token> &out);
  size_t matchDigits(size_t pos) const;

  const std::string &src;
  size_t n;
};

uint32_t Lexer::decodeAt(size_t pos, size_t &len) const {
  return ct::decodeAt(src, pos, len);
}

size_t Lexer::rstripEnd(size_t begin, size_t end) const {
  while (end > begin) {
    size_t start = end - 1;
    while (start > begin &&
           (static_cast<unsigned char>(src[start]) & 0xc0) == 0x80)
      --start;
    size_t len = 0;
    uint32_t cp = decodeAt(start, len);
    if (start + len != end || !isPySpace(cp))
      break;
    end = start;
  }
  return end;
}

size_t Lexer::textEnd(size_t begin, size_t tag, char sign, bool isVariable,
                      bool lineStarting) const {
  if (sign == '-')
    return rstripEnd(begin, tag);
  if (sign == '+' || isVariable)
    return tag;
  // lstrip_blocks: drop spaces between the last newline and the tag.
  size_t lpos = begin;
  bool newline = false;
  for (size_t i = tag; i > begin; --i)
    if (src[i - 1] == '\n') {
      lpos = i;
      newline = true;
      break;
    }
  if ((newline || lineStarting) && lpos < tag && allSpace(lpos, tag))
    return lpos;
  return tag;
}

bool Lexer::matchRawBegin(size_t p, size_t &end, char &sign) const {
  size_t q = p + 2;
  sign = 0;
  if (q < n && (src[q] == '-' || src[q] == '+'))
    sign = src[q++];
  q = skipSpace(q);
  if (src.compare(q, 3, "raw") != 0)
    return false;
  q = skipSpace(q + 3);
  if (src.compare(q, 3, "-%}") == 0) {
    end = skipSpace(q + 3);
    return true;
  }
  if (src.compare(q, 2, "%}") == 0) {
    end = q + 2;
    return true;
  }
  return false;
}

size_t Lexer::matchDigits(size_t pos) const {
  if (pos >= n || !isDigit(src[pos]))
    return std::string::npos;
  while (pos < n && isDigit(src[pos]))
    ++pos;
  while (pos + 1 < n && src[pos] == '_' && isDigit(src[pos + 1])) {
    ++pos;
    while (pos < n && isDigit(src[pos]))
      ++pos;
  }
  return pos;
}

bool Lexer::lexNumber(size_t &pos, std::vector<Token> &out) {
  const size_t npos = std::string::npos;
  // Floats first, as jinja2 tries them first: digits, then a fraction
  // and/or an exponent; never right after a '.'.
  if (pos == 0 || src[pos - 1] != '.') {
    size_t intEnd = matchDigits(pos);
    size_t p = intEnd, fracEnd = npos;
    if (p + 1 < n && src[p] == '.' && isDigit(src[p + 1]))
      fracEnd = matchDigits(p + 1);
    size_t e = fracEnd != npos ? fracEnd : intEnd, expEnd = npos;
    if (e < n && (src[e] == 'e' || src[e] == 'E')) {
      size_t q = e + 1;
      if (q < n && (src[q] == '+' || src[q] == '-'))
        ++q;
      expEnd = matchDigits(q);
    }
    size_t end = expEnd != npos ? expEnd : fracEnd;
    if (end != npos) {
      std::string digits;
      for (size_t i = pos; i < end; ++i)
        if (src[i] != '_')
          digits += src[i];
      Token t{Tok::Float, src.substr(pos, end - pos)};
      t.floatValue = std::strtod(digits.c_str(), nullptr);
      t.offset = pos;
      out.push_back(std::move(t));
      pos = end;
      return true;
    }
  }
  // Integers: 0b/0o/0x prefixes, [1-9](_?\d)*, or 0(_?0)*.
  int base = 10;
  size_t p = pos, digitsBegin = pos;
  if (src[pos] == '0' && pos + 1 < n) {
    char k = src[pos + 1] | 0x20;
    if (k == 'b' || k == 'o' || k == 'x') {
      base = k == 'b' ? 2 : k == 'o' ? 8 : 16;
      size_t q = pos + 2, last = npos;
      while (true) {
        size_t r = q;
        if (r < n && src[r] == '_')
          ++r;
        int d = r < n ? hexValue(src[r]) : -1;
        if (d < 0 || d >= base)
          break;
        q = r + 1;
        last = q;
      }
      if (last != npos) {
        p = last;
        digitsBegin = pos + 2;
      } else {
        base = 10;
      }
    }
  }
  if (base == 10) {
    char first = src[pos];
    p = pos + 1;
    while (p < n) {
      size_t r = p;
      if (src[r] == '_' && r + 1 < n)
        ++r;
      if (!isDigit(src[r]) || (first == '0' && src[r] != '0'))
        break;
      p = r + 1;
    }
  }
  uint64_t value = 0;
  for (size_t i = digitsBegin; i < p; ++i) {
    if (src[i] == '_')
      continue;
    int d = hexValue(src[i]);
    if (value > (uint64_t(INT64_MAX) - d) / base)
      return fail(pos, "integer literal too large");
    value = value * base + d;
  }
  Token t{Tok::Int, src.substr(pos, p - pos)};
  t.intValue = int64_t(value);
  t.offset = pos;
  out.push_back(std::move(t));
  pos = p;
  return true;
}

bool Lexer::lexString(size_t &pos, std::vector<Token> &out) {
  char quote = src[pos];
  size_t p = pos + 1;
  while (p < n && src[p] != quote)
    p += src[p] == '\\' ? 2 : 1;
  if (p >= n)
    return fail(pos, "unexpected char " + quoteChar(std::string(1, quote)) +
                         " at " + std::to_string(pos));
  // Python's unicode-escape decoding, as jinja2 applies it.
  std::string value;
  size_t i = pos + 1;
  while (i < p) {
    char c = src[i];
    if (c != '\\') {
      value += c;
      ++i;
      continue;
    }
    char d = src[i + 1];
    size_t consumed = 2;
    auto hexEscape = [&](int digits, const char *what) {
      uint32_t cp = 0;
      for (int k = 0; k < digits; ++k) {
        int h = i + 2 + k < p ? hexValue(src[i + 2 + k]) : -1;
        if (h < 0)
          return fail(i, std::string("truncated ") + what + " escape");
        cp = cp << 4 | h;
      }
      if (cp > 0x10ffff)
        return fail(i, "illegal Unicode character");
      appendUtf8(cp, value);
      consumed = 2 + digits;
      return true;
    };
    if (static_cast<unsigned char>(d) >= 0x80) {
      // jinja2 first backslash-escapes non-ASCII text, so "\é" reads as a
      // backslash followed by the text "xe9".
      size_t len = 0;
      uint32_t cp = decodeAt(i + 1, len);
      char buf[16];
      if (cp < 0x100)
        snprintf(buf, sizeof buf, "\\x%02x", cp);
      else if (cp < 0x10000)
        snprintf(buf, sizeof buf, "\\u%04x", cp);
      else
        snprintf(buf, sizeof buf, "\\U%08x", cp);
      value += buf;
      i += 1 + len;
      continue;
    }
    switch (d) {
    case '\n':
      break;
    case '\\':
    case '\'':
    case '"':
      value += d;
      break;
    case 'a':
      value += '\a';
      break;
    case 'b':
      value += '\b';
      break;
    case 'f':
      value += '\f';
      break;
    case 'n':
      value += '\n';
      break;
    case 'r':
      value += '\r';
      break;
    case 't':
      value += '\t';
      break;
    case 'v':
      value += '\v';
      break;
    case 'x':
      if (!hexEscape(2, "\\xXX"))
        return false;
      break;
    case 'u':
      if (!hexEscape(4, "\\uXXXX"))
        return false;
      break;
    case 'U':
      if (!hexEscape(8, "\\UXXXXXXXX"))
        return false;
      break;
    case 'N':
      return fail(i, "unsupported \\N{...} escape in a string literal");
    default:
      if (d >= '0' && d <= '7') {
        uint32_t cp = 0;
        size_t k = i + 1;
        while (k < p && k < i + 4 && src[k] >= '0' && src[k] <= '7')
          cp = cp * 8 + (src[k++] - '0');
        appendUtf8(cp, value);
        consumed = k - i;
      } else {
        value += '\\';
        value += d;
      }
    }
    i += consumed;
  }
  Token t{Tok::String, std::move(value)};
  t.offset = pos;
  out.push_back(std::move(t));
  pos = p + 1;
  return true;
}

bool Lexer::lexInside(size_t &pos, bool block, std::vector<Token> &out,
                      bool &lineStarting) {
  std::vector<char> balance;
  while (pos < n) {
    if (balance.empty()) {
      const char *close = block ? "%}" : "}}";
      if (block && src.compare(pos, 3, "+%}") == 0) {
        out.push_back(Token{Tok::BlockEnd, "", 0, 0, pos});
        pos += 3;
        lineStarting = false;
        return true;
      }
      if (src[pos] == '-' && src.compare(pos + 1, 2, close) == 0) {
        out.push_back(
            Token{block ? Tok::BlockEnd : Tok::VarEnd, "", 0, 0, pos});
        size_t end = skipSpace(pos + 3);
        lineStarting = src[end - 1] == '\n';
        pos = end;
        return true;
      }
      if (src.compare(pos, 2, close) == 0) {
        out.push_back(
            Token{block ? Tok::BlockEnd : Tok::VarEnd, "", 0, 0, pos});
        pos += 2;
        // trim_blocks: a block tag eats the newline right after it.
        if (block && pos < n && src[pos] == '\n')
          ++pos;
        lineStarting = src[pos - 1] == '\n';
        return true;
      }
    }
    if (size_t len = spaceAt(pos)) {
      pos += len;
      continue;
    }
    char c = src[pos];
    if (isDigit(c)) {
      if (!lexNumber(pos, out))
        return false;
      continue;
    }
    if (isNameStart(c)) {
      // Python identifiers: ASCII, or non-ASCII letters and digits.
      size_t p = pos;
      while (p < n && isNameChar(src[p])) {
        size_t len = 1;
        if (static_cast<unsigned char>(src[p]) >= 0x80 &&
            !isIdentifierCp(decodeAt(p, len), p == pos))
          break;
        p += len;
      }
      if (p == pos) {
        size_t len;
        std::string ch = src.substr(pos, (decodeAt(pos, len), len));
        return fail(pos, "unexpected char " + quoteChar(ch) + " at " +
                             std::to_string(pos));
      }
      out.push_back(Token{Tok::Name, src.substr(pos, p - pos), 0, 0, pos});
      pos = p;
      continue;
    }
    if (c == '\'' || c == '"') {
      if (!lexString(pos, out))
        return false;
      continue;
    }
    static const char *const twoChar[] = {"//", "**", "==", "!=", ">=", "<="};
    std::string op;
    for (const char *t : twoChar)
      if (src.compare(pos, 2, t) == 0)
        op = t;
    if (op.empty() && std::strchr("+-/*%~[](){}><=.:|,;", c) && c)
      op = std::string(1, c);
    if (op.empty())
      return fail(pos, "unexpected char " + quoteChar(std::string(1, c)) +
                           " at " + std::to_string(pos));
    if (op == "(" || op == "[" || op == "{") {
      balance.push_back(op == "(" ? ')' : op == "[" ? ']' : '}');
    } else if (op == ")" || op == "]" || op == "}") {
      if (balance.empty())
        return fail(pos, "unexpected '" + op + "'");
      if (balance.back() != op[0])
        return fail(pos, "unexpected '" + op + "', expected '" +
                             std::string(1, balance.back()) + "'");
      balance.pop_back();
    }
    out.push_back(Token{Tok::Op, op, 0, 0, pos});
    pos += op.size();
  }
  return true; // end of template inside a tag: the parser reports it
}

bool Lexer::run(std::vector<Token> &out) {
  size_t pos = 0;
  bool lineStarting = true;
  while (pos < n) {
    size_t p = pos;
    while (true) {
      p = src.find('{', p);
      if (p == std::string::npos || p + 1 >= n) {
        p = std::string::npos;
        break;
      }
      char c = src[p + 1];
      if (c == '{' || c == '%' || c == '#')
        break;
      ++p;
    }
    if (p == std::string::npos) {
      emitData(out, pos, n);
      break;
    }
    char kind = src[p + 1];
    size_t rawEnd = 0;
    char sign = 0;
    bool raw = kind == '%' && matchRawBegin(p, rawEnd, sign);
    size_t q = p + 2;
    if (!raw && q < n && (src[q] == '-' || src[q] == '+'))
      sign = src[q++];
    emitData(out, pos, textEnd(pos, p, sign, kind == '{', lineStarting));
    lineStarting = false;

    if (raw) {
      lineStarting = src[rawEnd - 1] == '\n';
      // The body runs to the first {% endraw %}.
      size_t i = rawEnd;
      for (; i < n; ++i) {
        if (src.compare(i, 2, "{%") != 0)
          continue;
        size_t k = i + 2;
        char endSign = 0;
        if (k < n && (src[k] == '-' || src[k] == '+'))
          endSign = src[k++];
        k = skipSpace(k);
        if (src.compare(k, 6, "endraw") != 0)
          continue;
        k = skipSpace(k + 6);
        size_t end;
        if (src.compare(k, 3, "+%}") == 0)
          end = k + 3;
        else if (src.compare(k, 3, "-%}") == 0)
          end = skipSpace(k + 3);
        else if (src.compare(k, 2, "%}") == 0)
          end = k + 2 + (k + 2 < n && src[k + 2] == '\n');
        else
          continue;
        emitData(out, rawEnd, textEnd(rawEnd, i, endSign, false, lineStarting));
        lineStarting = src[end - 1] == '\n';
        pos = end;
        break;
      }
      if (i >= n)
        return fail(p, "Missing end of raw directive");
      continue;
    }

    if (kind == '#') {
      size_t i = q, end = std::string::npos;
      for (; i < n; ++i) {
        if (src.compare(i, 3, "+#}") == 0) {
          end = i + 3;
        } else if (src.compare(i, 3, "-#}") == 0) {
          end = skipSpace(i + 3);
        } else if (src.compare(i, 2, "#}") == 0) {
          end = i + 2 + (i + 2 < n && src[i + 2] == '\n');
        } else {
          continue;
        }
        break;
      }
      if (end == std::string::npos)
        return fail(p, "Missing end of comment tag");
      lineStarting = src[end - 1] == '\n';
      pos = end;
      continue;
    }

    bool block = kind == '%';
    out.push_back(Token{block ? Tok::BlockBegin : Tok::VarBegin, "", 0, 0, p});
    pos = q;
    if (!lexInside(pos, block, out, lineStarting))
      return false;
  }
  out.push_back(Token{Tok::Eof, "", 0, 0, n});
  return true;
}

//===----------------------------------------------------------------------===//
// Parser
//===----------------------------------------------------------------------===//

class Parser {
public:
  explicit Parser(std::vector<Token> toks) : toks(std::move(toks)) {}

  bool parseTemplate(Body &body) {
    if (!subparse(body, {}))
      return false;
    if (cur().type != Tok::Eof)
      return fail(cur().offset, "unexpected '" + describe(cur()) + "'");
    return true;
  }

  std::string error;
  size_t errorOffset = 0;

private:
  struct Guard {
    Parser &p;
    bool ok;
    explicit Guard(Parser &p) : p(p), ok(++p.depth <= kMaxDepth) {
      if (!ok)
        p.fail(p.cur().offset, "template nested too deeply");
    }
    ~Guard() { --p.depth; }
  };

  const Token &cur() const { return toks[pos]; }
  const Token &peek() const { return toks[std::min(pos + 1, toks.size() - 1)]; }
  void advance() {
    if (pos + 1 < toks.size())
      ++pos;
  }
  static bool isName(const Token &t, const char *v) {
    return t.type == Tok::Name && t.text == v;
  }
  static bool isOp(const Token &t, const char *v) {
    return t.type == Tok::Op && t.text == v;
  }
  bool fail(size_t offset, std::string message) {
    if (error.empty()) {
      error = std::move(message);
      errorOffset = offset;
    }
    return false;
  }
  static std::string describe(const Token &t) {
    switch (t.type) {
    case Tok::Name:
    case Tok::Op:
      return t.text;
    case Tok::String:
      return "string";
    case Tok::Int:
      return "integer";
    case Tok::Float:
      return "float";
    case Tok::Data:
      return "template data / text";
    case Tok::VarBegin:
      return "begin of print statement";
    case Tok::VarEnd:
      return "end of print statement";
    case Tok::BlockBegin:
      return "begin of statement block";
    case Tok::BlockEnd:
      return "end of statement block";
    case Tok::Eof:
      return "end of template";
    }
    return "?";
  }
  bool expectOp(const char *op) {
    if (!isOp(cur(), op))
      return fail(cur().offset, std::string("expected token '") + op +
                                    "', got '" + describe(cur()) + "'");
    advance();
    return true;
  }
  bool expect(Tok type, const char *what) {
    if (cur().type != type)
      return fail(cur().offset, std::string("expected token '") + what +
                                    "', got '" + describe(cur()) + "'");
    advance();
    return true;
  }
  bool expectName(const char *name) {
    if (!isName(cur(), name))
      return fail(cur().offset, std::string("expected token '") + name +
                                    "', got '" + describe(cur()) + "'");
    advance();
    return true;
  }
  /// Finishes a node: bounds the tree height so evaluation stays shallow.
  ExprP seal(ExprP e) {
    int h = 0;
    for (const ExprP &k : e->kids)
      if (k)
        h = std::max(h, k->height);
    for (const auto &kw : e->kwargs)
      h = std::max(h, kw.second->height);
    e->height = h + 1;
    e->constant =
        e->kind != EK::Call && e->kind != EK::Name &&
        !(e->kind == EK::Filter && (!e->kids[0] || isContextFilter(e->name)));
    for (const ExprP &k : e->kids)
      e->constant = e->constant && (!k || k->constant);
    for (const auto &kw : e->kwargs)
      e->constant = e->constant && kw.second->constant;
    if (e->height > kMaxDepth) {
      fail(e->offset, "expression nested too deeply");
      return nullptr;
    }
    return e;
  }
  static ExprP node(EK kind, size_t offset) {
    auto e = std::make_unique<Expr>(kind, offset);
    e->constant = kind == EK::Const;
    return e;
  }
  ExprP binary(EK kind, const std::string &op, ExprP l, ExprP r,
               size_t offset) {
    ExprP e = node(kind, offset);
    e->name = op;
    e->kids.push_back(std::move(l));
    e->kids.push_back(std::move(r));
    return seal(std::move(e));
  }

  // Expressions, from the loosest binding to the tightest.
  ExprP parseExpression(bool withCondExpr = true) {
    return withCondExpr ? parseCondExpr() : parseOr();
  }
  ExprP parseCondExpr();
  ExprP parseOr();
  ExprP parseAnd();
  ExprP parseNot();
  ExprP parseCompare();
  ExprP parseMath1();
  ExprP parseConcat();
  ExprP parseMath2();
  ExprP parsePow();
  ExprP parseUnary(bool withFilter);
  ExprP parsePrimary();
  ExprP parseTuple(bool simplified, bool withCondExpr,
                   const std::vector<const char *> &extraEnd,
                   bool explicitParens);
  ExprP parseList();
  ExprP parseDict();
  ExprP parsePostfix(ExprP e);
  ExprP parseFilterExpr(ExprP e);
  ExprP parseSubscript(ExprP e);
  ExprP parseSubscribed();
  bool parseCallArgs(Expr &call);
  ExprP parseCall(ExprP e);
  ExprP parseFilter(ExprP e, bool startInline);
  ExprP parseTest(ExprP e);
  bool isTupleEnd(const std::vector<const char *> &extraEnd) const {
    Tok t = cur().type;
    if (t == Tok::VarEnd || t == Tok::BlockEnd || isOp(cur(), ")"))
      return true;
    for (const char *name : extraEnd)
      if (isName(cur(), name))
        return true;
    return false;
  }

  // Statements.
  bool subparse(Body &body, const std::vector<const char *> &endTags);
  bool parseStatements(Body &body, const std::vector<const char *> &endTags,
                       bool dropNeedle);
  bool parseStatement(Body &body);
  bool parseFor(Body &body);
  bool parseIf(Body &body);
  bool parseSet(Body &body);
  bool parseMacro(Body &body);
  bool parseWith(Body &body);
  bool parseAssignTarget(Target &target, bool withTuple, bool nameOnly,
                         const std::vector<const char *> &extraEnd,
                         bool withNamespace);
  bool toTarget(const Expr &e, Target &target);

  std::vector<Token> toks;
  size_t pos = 0;
  int depth = 0;
  std::vector<std::string> tagStack;
  int loopDepth = 0;
  std::vector<MacroDef *> macros;
};

ExprP Parser::parseCondExpr() {
  Guard g(*this);
  if (!g.ok)
    return nullptr;
  size_t offset = cur().offset;
  ExprP e1 = parseOr();
  if (!e1)
    return nullptr;
  while (isName(cur(), "if")) {
    advance();
    ExprP e2 = parseOr();
    if (!e2)
      return nullptr;
    ExprP e3;
    if (isName(cur(), "else")) {
      advance();
      if (!(e3 = parseCondExpr()))
        return nullptr;
    }
    ExprP c = node(EK::Cond, offset);
    c->kids.push_back(std::move(e1));
    c->kids.push_back(std::move(e2));
    c->kids.push_back(std::move(e3));
    if (!(e1 = seal(std::move(c))))
      return nullptr;
  }
  return e1;
}

ExprP Parser::parseOr() {
  ExprP left = parseAnd();
  while (left && isName(cur(), "or")) {
    size_t offset = cur().offset;
    advance();
    ExprP right = parseAnd();
    if (!right)
      return nullptr;
    left = binary(EK::Or, "or", std::move(left), std::move(right), offset);
  }
  return left;
}

ExprP Parser::parseAnd() {
  ExprP left = parseNot();
  while (left && isName(cur(), "and")) {
    size_t offset = cur().offset;
    advance();
    ExprP right = parseNot();
    if (!right)
      return nullptr;
    left = binary(EK::And, "and", std::move(left), std::move(right), offset);
  }
  return left;
}

ExprP Parser::parseNot() {
  Guard g(*this);
  if (!g.ok)
    return nullptr;
  if (isName(cur(), "not")) {
    ExprP e = node(EK::Not, cur().offset);
    advance();
    ExprP operand = parseNot();
    if (!operand)
      return nullptr;
    e->kids.push_back(std::move(operand));
    return seal(std::move(e));
  }
  return parseCompare();
}

ExprP Parser::parseCompare() {
  size_t offset = cur().offset;
  ExprP first = parseMath1();
  if (!first)
    return nullptr;
  ExprP cmp;
  while (true) {
    std::string op;
    const Token &t = cur();
    if (t.type == Tok::Op &&
        (t.text == "==" || t.text == "!=" || t.text == "<" || t.text == "<=" ||
         t.text == ">" || t.text == ">=")) {
      op = t.text;
      advance();
    } else if (isName(t, "in")) {
      op = "in";
      advance();
    } else if (isName(t, "not") && isName(peek(), "in")) {
      op = "not in";
      advance();
      advance();
    } else {
      break;
    }
    ExprP operand = parseMath1();
    if (!operand)
      return nullptr;
    if (!cmp) {
      cmp = node(EK::Compare, offset);
      cmp->kids.push_back(std::move(first));
    }
    cmp->ops.push_back(op);
    cmp->kids.push_back(std::move(operand));
  }
  if (!cmp)
    return first;
  return seal(std::move(cmp));
}

ExprP Parser::parseMath1() {
  ExprP left = parseConcat();
  while (left && (isOp(cur(), "+") || isOp(cur(), "-"))) {
    std::string op = cur().text;
    size_t offset = cur().offset;
    advance();
    ExprP right = parseConcat();
    if (!right)
      return nullptr;
    left = binary(EK::Binary, op, std::move(left), std::move(right), offset);
  }
  return left;
}

ExprP Parser::parseConcat() {
  size_t offset = cur().offset;
  ExprP first = parseMath2();
  if (!first || !isOp(cur(), "~"))
    return first;
  ExprP cat = node(EK::Concat, offset);
  cat->kids.push_back(std::move(first));
  while (isOp(cur(), "~")) {
    advance();
    ExprP next = parseMath2();
    if (!next)
      return nullptr;
    cat->kids.push_back(std::move(next));
  }
  return seal(std::move(cat));
}

ExprP Parser::parseMath2() {
  ExprP left = parsePow();
  while (left && (isOp(cur(), "*") || isOp(cur(), "/") || isOp(cur(), "//") ||
                  isOp(cur(), "%"))) {
    std::string op = cur().text;
    size_t offset = cur().offset;
    advance();
    ExprP right = parsePow();
    if (!right)
      return nullptr;
    left = binary(EK::Binary, op, std::move(left), std::move(right), offset);
  }
  return left;
}

ExprP Parser::parsePow() {
  ExprP left = parseUnary(true);
  while (left && isOp(cur(), "**")) {
    size_t offset = cur().offset;
    advance();
    ExprP right = parseUnary(true);
    if (!right)
      return nullptr;
    left = binary(EK::Binary, "**", std::move(left), std::move(right), offset);
  }
  return left;
}

ExprP Parser::parseUnary(bool withFilter) {
  Guard g(*this);
  if (!g.ok)
    return nullptr;
  ExprP e;
  if (isOp(cur(), "-") || isOp(cur(), "+")) {
    e = node(cur().text == "-" ? EK::Neg : EK::Pos, cur().offset);
    advance();
    ExprP operand = parseUnary(false);
    if (!operand)
      return nullptr;
    e->kids.push_back(std::move(operand));
    if (!(e = seal(std::move(e))))
      return nullptr;
  } else if (!(e = parsePrimary())) {
    return nullptr;
  }
  if (!(e = parsePostfix(std::move(e))))
    return nullptr;
  return withFilter ? parseFilterExpr(std::move(e)) : std::move(e);
}

ExprP Parser::parsePrimary() {
  Guard g(*this);
  if (!g.ok)
    return nullptr;
  const Token &t = cur();
  size_t offset = t.offset;
  if (t.type == Tok::Name) {
    ExprP e;
    if (t.text == "true" || t.text == "True" || t.text == "false" ||
        t.text == "False") {
      e = node(EK::Const, offset);
      e->value = Value::boolean(t.text[0] == 't' || t.text[0] == 'T');
    } else if (t.text == "none" || t.text == "None") {
      e = node(EK::Const, offset);
      e->value = Value::none();
    } else {
      e = node(EK::Name, offset);
      e->name = t.text;
      if (!macros.empty() && (t.text == "varargs" || t.text == "kwargs"))
        (t.text == "varargs" ? macros.back()->catchVarargs
                             : macros.back()->catchKwargs) = true;
    }
    advance();
    return e;
  }
  if (t.type == Tok::String) {
    std::string text;
    while (cur().type == Tok::String) {
      text += cur().text;
      advance();
    }
    ExprP e = node(EK::Const, offset);
    e->value = Value::str(std::move(text));
    return e;
  }
  if (t.type == Tok::Int || t.type == Tok::Float) {
    ExprP e = node(EK::Const, offset);
    e->value = t.type == Tok::Int ? Value::integer(t.intValue)
                                  : Value::number(t.floatValue);
    advance();
    return e;
  }
  if (isOp(t, "(")) {
    advance();
    ExprP e = parseTuple(false, true, {}, true);
    if (!e || !expectOp(")"))
      return nullptr;
    return e;
  }
  if (isOp(t, "["))
    return parseList();
  if (isOp(t, "{"))
    return parseDict();
  fail(offset, "unexpected '" + describe(t) + "'");
  return nullptr;
}

ExprP Parser::parseTuple(bool simplified, bool withCondExpr,
                         const std::vector<const char *> &extraEnd,
                         bool explicitParens) {
  size_t offset = cur().offset;
  std::vector<ExprP> items;
  bool isTuple = false;
  while (true) {
    if (!items.empty() && !expectOp(","))
      return nullptr;
    if (isTupleEnd(extraEnd))
      break;
    ExprP item = simplified ? parsePrimary() : parseExpression(withCondExpr);
    if (!item)
      return nullptr;
    items.push_back(std::move(item));
    if (isOp(cur(), ","))
      isTuple = true;
    else
      break;
  }
  if (!isTuple) {
    if (!items.empty())
      return std::move(items[0]);
    if (!explicitParens) {
      fail(cur().offset,
           "Expected an expression, got '" + describe(cur()) + "'");
      return nullptr;
    }
  }
  ExprP e = node(EK::Tuple, offset);
  e->kids = std::move(items);
  return seal(std::move(e));
}

ExprP Parser::parseList() {
  ExprP e = node(EK::List, cur().offset);
  advance();
  while (!isOp(cur(), "]")) {
    if (!e->kids.empty() && !expectOp(","))
      return nullptr;
    if (isOp(cur(), "]"))
      break;
    ExprP item = parseExpression();
    if (!item)
      return nullptr;
    e->kids.push_back(std::move(item));
  }
  if (!expectOp("]"))
    return nullptr;
  return seal(std::move(e));
}

ExprP Parser::parseDict() {
  ExprP e = node(EK::Dict, cur().offset);
  advance();
  while (!isOp(cur(), "}")) {
    if (!e->kids.empty() && !expectOp(","))
      return nullptr;
    if (isOp(cur(), "}"))
      break;
    ExprP key = parseExpression();
    if (!key || !expectOp(":"))
      return nullptr;
    ExprP value = parseExpression();
    if (!value)
      return nullptr;
    e->kids.push_back(std::move(key));
    e->kids.push_back(std::move(value));
  }
  if (!expectOp("}"))
    return nullptr;
  return seal(std::move(e));
}

ExprP Parser::parsePostfix(ExprP e) {
  while (e) {
    if (isOp(cur(), ".") || isOp(cur(), "["))
      e = parseSubscript(std::move(e));
    else if (isOp(cur(), "("))
      e = parseCall(std::move(e));
    else
      break;
  }
  return e;
}

ExprP Parser::parseFilterExpr(ExprP e) {
  while (e) {
    if (isOp(cur(), "|"))
      e = parseFilter(std::move(e), false);
    else if (isName(cur(), "is"))
      e = parseTest(std::move(e));
    else if (isOp(cur(), "("))
      e = parseCall(std::move(e));
    else
      break;
  }
  return e;
}

ExprP Parser::parseSubscript(ExprP obj) {
  size_t offset = cur().offset;
  if (isOp(cur(), ".")) {
    advance();
    const Token &attr = cur();
    if (attr.type == Tok::Name) {
      ExprP e = node(EK::Attr, offset);
      e->name = attr.text;
      e->kids.push_back(std::move(obj));
      advance();
      return seal(std::move(e));
    }
    if (attr.type != Tok::Int) {
      fail(attr.offset, "expected name or number");
      return nullptr;
    }
    ExprP key = node(EK::Const, attr.offset);
    key->value = Value::integer(attr.intValue);
    advance();
    ExprP e = node(EK::Item, offset);
    e->kids.push_back(std::move(obj));
    e->kids.push_back(std::move(key));
    return seal(std::move(e));
  }
  advance(); // '['
  std::vector<ExprP> args;
  while (!isOp(cur(), "]")) {
    if (!args.empty() && !expectOp(","))
      return nullptr;
    ExprP arg = parseSubscribed();
    if (!arg)
      return nullptr;
    args.push_back(std::move(arg));
  }
  if (!expectOp("]"))
    return nullptr;
  ExprP e = node(EK::Item, offset);
  e->kids.push_back(std::move(obj));
  if (args.size() == 1) {
    e->kids.push_back(std::move(args[0]));
  } else {
    ExprP tuple = node(EK::Tuple, offset);
    tuple->kids = std::move(args);
    if (!(tuple = seal(std::move(tuple))))
      return nullptr;
    e->kids.push_back(std::move(tuple));
  }
  return seal(std::move(e));
}

ExprP Parser::parseSubscribed() {
  size_t offset = cur().offset;
  std::vector<ExprP> parts;
  if (isOp(cur(), ":")) {
    advance();
    parts.push_back(nullptr);
  } else {
    ExprP e = parseExpression();
    if (!e || !isOp(cur(), ":"))
      return e;
    advance();
    parts.push_back(std::move(e));
  }
  auto optional = [&]() -> bool {
    if (isOp(cur(), ":") || isOp(cur(), "]") || isOp(cur(), ",")) {
      parts.push_back(nullptr);
      return true;
    }
    ExprP e = parseExpression();
    if (!e)
      return false;
    parts.push_back(std::move(e));
    return true;
  };
  if (!optional())
    return nullptr;
  if (isOp(cur(), ":")) {
    advance();
    if (!optional())
      return nullptr;
  } else {
    parts.push_back(nullptr);
  }
  ExprP e = node(EK::Slice, offset);
  e->kids = std::move(parts);
  return seal(std::move(e));
}

bool Parser::parseCallArgs(Expr &call) {
  size_t offset = cur().offset;
  if (!expectOp("("))
    return false;
  bool requireComma = false;
  while (!isOp(cur(), ")")) {
    if (requireComma) {
      if (!expectOp(","))
        return false;
      if (isOp(cur(), ")"))
        break;
    }
    if (isOp(cur(), "*") || isOp(cur(), "**"))
      return fail(cur().offset, "unsupported: *args and **kwargs in calls");
    if (cur().type == Tok::Name && isOp(peek(), "=")) {
      std::string key = cur().text;
      advance();
      advance();
      ExprP value = parseExpression();
      if (!value)
        return false;
      call.kwargs.emplace_back(key, std::move(value));
    } else {
      if (!call.kwargs.empty())
        return fail(offset, "invalid syntax for function call expression");
      ExprP value = parseExpression();
      if (!value)
        return false;
      call.kids.push_back(std::move(value));
    }
    requireComma = true;
  }
  return expectOp(")");
}

ExprP Parser::parseCall(ExprP callee) {
  ExprP e = node(EK::Call, cur().offset);
  e->kids.push_back(std::move(callee));
  if (!parseCallArgs(*e))
    return nullptr;
  return seal(std::move(e));
}

ExprP Parser::parseFilter(ExprP input, bool startInline) {
  while (isOp(cur(), "|") || startInline) {
    if (!startInline)
      advance();
    startInline = false;
    if (cur().type != Tok::Name) {
      fail(cur().offset,
           "expected token 'name', got '" + describe(cur()) + "'");
      return nullptr;
    }
    size_t offset = cur().offset;
    std::string name = cur().text;
    advance();
    while (isOp(cur(), ".")) {
      advance();
      if (cur().type != Tok::Name) {
        fail(cur().offset, "expected token 'name'");
        return nullptr;
      }
      name += "." + cur().text;
      advance();
    }
    if (!isKnownFilter(name)) {
      fail(offset, isUnsupportedFilter(name)
                       ? "unsupported filter '" + name + "'"
                       : "No filter named '" + name + "'.");
      return nullptr;
    }
    ExprP e = node(EK::Filter, offset);
    e->name = name;
    e->kids.push_back(std::move(input));
    if (isOp(cur(), "(") && !parseCallArgs(*e))
      return nullptr;
    if (!(input = seal(std::move(e))))
      return nullptr;
  }
  return input;
}

ExprP Parser::parseTest(ExprP input) {
  size_t offset = cur().offset;
  advance(); // 'is'
  bool negated = false;
  if (isName(cur(), "not")) {
    advance();
    negated = true;
  }
  if (cur().type != Tok::Name) {
    fail(cur().offset, "expected token 'name', got '" + describe(cur()) + "'");
    return nullptr;
  }
  std::string name = cur().text;
  size_t nameOffset = cur().offset;
  advance();
  while (isOp(cur(), ".")) {
    advance();
    if (cur().type != Tok::Name) {
      fail(cur().offset, "expected token 'name'");
      return nullptr;
    }
    name += "." + cur().text;
    advance();
  }
  if (!isKnownTest(name)) {
    fail(nameOffset, "No test named '" + name + "'.");
    return nullptr;
  }
  ExprP e = node(EK::Test, offset);
  e->name = name;
  e->kids.push_back(std::move(input));
  const Token &t = cur();
  if (isOp(t, "(")) {
    if (!parseCallArgs(*e))
      return nullptr;
  } else if ((t.type == Tok::Name || t.type == Tok::String ||
              t.type == Tok::Int || t.type == Tok::Float || isOp(t, "(") ||
              isOp(t, "[") || isOp(t, "{")) &&
             !isName(t, "else") && !isName(t, "or") && !isName(t, "and")) {
    if (isName(t, "is")) {
      fail(t.offset, "You cannot chain multiple tests with is");
      return nullptr;
    }
    ExprP arg = parsePrimary();
    if (!arg || !(arg = parsePostfix(std::move(arg))))
      return nullptr;
    e->kids.push_back(std::move(arg));
  }
  if (!(e = seal(std::move(e))))
    return nullptr;
  if (!negated)
    return e;
  ExprP n = node(EK::Not, offset);
  n->kids.push_back(std::move(e));
  return seal(std::move(n));
}

bool Parser::subparse(Body &body, const std::vector<const char *> &endTags) {
  Guard g(*this);
  if (!g.ok)
    return false;
  while (cur().type != Tok::Eof) {
    const Token &t = cur();
    if (t.type == Tok::Data) {
      auto s = std::make_unique<Stmt>(SK::Output, t.offset);
      s->text = t.text;
      body.push_back(std::move(s));
      advance();
    } else if (t.type == Tok::VarBegin) {
      auto s = std::make_unique<Stmt>(SK::Print, t.offset);
      advance();
      if (!(s->expr = parseTuple(false, true, {}, false)) ||
          !expect(Tok::VarEnd, "end of print statement"))
        return false;
      body.push_back(std::move(s));
    } else if (t.type == Tok::BlockBegin) {
      advance();
      for (const char *tag : endTags)
        if (isName(cur(), tag))
          return true;
      if (!parseStatement(body) ||
          !expect(Tok::BlockEnd, "end of statement block"))
        return false;
    } else {
      return fail(t.offset, "unexpected '" + describe(t) + "'");
    }
  }
  return true;
}

bool Parser::parseStatements(Body &body,
                             const std::vector<const char *> &endTags,
                             bool dropNeedle) {
  if (isOp(cur(), ":"))
    advance();
  if (!expect(Tok::BlockEnd, "end of statement block") ||
      !subparse(body, endTags))
    return false;
  if (cur().type == Tok::Eof) {
    std::string expected;
    for (size_t i = 0; i < endTags.size(); ++i)
      expected += std::string(i ? " or '" : "'") + endTags[i] + "'";
    return fail(
        cur().offset,
        "Unexpected end of template. Jinja was looking for the "
        "following tags: " +
            expected + ". The innermost block that needs to be closed is '" +
            (tagStack.empty() ? std::string("?") : tagStack.back()) + "'.");
  }
  if (dropNeedle)
    advance();
  return true;
}

bool Parser::toTarget(const Expr &e, Target &target) {
  target.offset = e.offset;
  if (e.kind == EK::Name) {
    target.kind = Target::Name;
    target.name = e.name;
    return true;
  }
  if (e.kind == EK::Tuple) {
    target.kind = Target::Tuple;
    for (const ExprP &k : e.kids) {
      target.items.emplace_back();
      if (!toTarget(*k, target.items.back()))
        return false;
    }
    return true;
  }
  return fail(e.offset, "can't assign to this expression");
}

bool Parser::parseAssignTarget(Target &target, bool withTuple, bool nameOnly,
                               const std::vector<const char *> &extraEnd,
                               bool withNamespace) {
  target.offset = cur().offset;
  if (withNamespace && cur().type == Tok::Name && isOp(peek(), ".")) {
    target.kind = Target::NsAttr;
    target.name = cur().text;
    advance();
    advance();
    if (cur().type != Tok::Name)
      return fail(cur().offset,
                  "expected token 'name', got '" + describe(cur()) + "'");
    target.attr = cur().text;
    advance();
    return true;
  }
  if (nameOnly) {
    if (cur().type != Tok::Name)
      return fail(cur().offset,
                  "expected token 'name', got '" + describe(cur()) + "'");
    target.kind = Target::Name;
    target.name = cur().text;
    advance();
    return true;
  }
  ExprP e =
      withTuple ? parseTuple(true, true, extraEnd, false) : parsePrimary();
  return e && toTarget(*e, target);
}

bool Parser::parseStatement(Body &body) {
  const Token &t = cur();
  if (t.type != Tok::Name)
    return fail(t.offset, "tag name expected");
  std::string tag = t.text;
  size_t offset = t.offset;
  tagStack.push_back(tag);
  bool ok;
  if (tag == "for") {
    ok = parseFor(body);
  } else if (tag == "if") {
    ok = parseIf(body);
  } else if (tag == "set") {
    ok = parseSet(body);
  } else if (tag == "macro") {
    ok = parseMacro(body);
  } else if (tag == "with") {
    ok = parseWith(body);
  } else if (tag == "print") {
    advance();
    auto s = std::make_unique<Stmt>(SK::Print, offset);
    ok = bool(s->expr = parseTuple(false, true, {}, false));
    body.push_back(std::move(s));
  } else if (tag == "break" || tag == "continue") {
    if (!loopDepth) {
      ok = fail(offset, "'" + tag + "' outside of a loop");
    } else {
      advance();
      body.push_back(std::make_unique<Stmt>(
          tag == "break" ? SK::Break : SK::Continue, offset));
      ok = true;
    }
  } else if (tag == "generation") {
    // transformers' AssistantTracker: the body renders unchanged, inside
    // a caller() frame, so it has its own scope.
    advance();
    auto s = std::make_unique<Stmt>(SK::Scoped, offset);
    s->bodies.emplace_back();
    int savedLoops = loopDepth;
    loopDepth = 0;
    ok = parseStatements(s->bodies[0], {"endgeneration"}, true);
    loopDepth = savedLoops;
    body.push_back(std::move(s));
  } else if (tag == "filter") {
    advance();
    auto s = std::make_unique<Stmt>(SK::FilterBlock, offset);
    s->bodies.emplace_back();
    ok = (s->expr = parseFilter(nullptr, true)) &&
         parseStatements(s->bodies[0], {"endfilter"}, true);
    body.push_back(std::move(s));
  } else if (tag == "block" || tag == "extends" || tag == "include" ||
             tag == "import" || tag == "from" || tag == "call" ||
             tag == "autoescape") {
    ok = fail(offset, "unsupported tag '" + tag + "'");
  } else {
    tagStack.pop_back();
    return fail(offset, "Encountered unknown tag '" + tag + "'.");
  }
  tagStack.pop_back();
  return ok;
}

bool Parser::parseFor(Body &body) {
  auto s = std::make_unique<Stmt>(SK::For, cur().offset);
  advance();
  if (!parseAssignTarget(s->target, true, false, {"in"}, false) ||
      !expectName("in") ||
      !(s->expr = parseTuple(false, false, {"recursive"}, false)))
    return false;
  if (isName(cur(), "if")) {
    advance();
    if (!(s->cond = parseExpression()))
      return false;
  }
  if (isName(cur(), "recursive"))
    return fail(cur().offset, "unsupported: recursive for loops");
  s->bodies.resize(2);
  ++loopDepth;
  bool ok = parseStatements(s->bodies[0], {"endfor", "else"}, false);
  --loopDepth;
  if (!ok)
    return false;
  bool hasElse = isName(cur(), "else");
  advance();
  if (hasElse && !parseStatements(s->bodies[1], {"endfor"}, true))
    return false;
  body.push_back(std::move(s));
  return true;
}

bool Parser::parseIf(Body &body) {
  auto s = std::make_unique<Stmt>(SK::If, cur().offset);
  advance();
  while (true) {
    ExprP test = parseTuple(false, false, {}, false);
    if (!test)
      return false;
    s->conds.push_back(std::move(test));
    s->bodies.emplace_back();
    if (!parseStatements(s->bodies.back(), {"elif", "else", "endif"}, false))
      return false;
    if (isName(cur(), "elif")) {
      advance();
      continue;
    }
    if (isName(cur(), "else")) {
      advance();
      s->bodies.emplace_back();
      if (!parseStatements(s->bodies.back(), {"endif"}, true))
        return false;
    } else {
      advance();
    }
    break;
  }
  body.push_back(std::move(s));
  return true;
}

bool Parser::parseSet(Body &body) {
  size_t offset = cur().offset;
  advance();
  Target target;
  if (!parseAssignTarget(target, true, false, {}, true))
    return false;
  if (isOp(cur(), "=")) {
    advance();
    auto s = std::make_unique<Stmt>(SK::Set, offset);
    s->target = std::move(target);
    if (!(s->expr = parseTuple(false, true, {}, false)))
      return false;
    body.push_back(std::move(s));
    return true;
  }
  auto s = std::make_unique<Stmt>(SK::SetBlock, offset);
  s->target = std::move(target);
  if (isOp(cur(), "|") && !(s->expr = parseFilter(nullptr, false)))
    return false;
  s->bodies.emplace_back();
  if (!parseStatements(s->bodies[0], {"endset"}, true))
    return false;
  body.push_back(std::move(s));
  return true;
}

bool Parser::parseMacro(Body &body) {
  auto s = std::make_unique<Stmt>(SK::Macro, cur().offset);
  advance();
  s->macro = std::make_unique<MacroDef>();
  MacroDef &m = *s->macro;
  Target name;
  if (!parseAssignTarget(name, false, true, {}, false) || !expectOp("("))
    return false;
  m.name = name.name;
  while (!isOp(cur(), ")")) {
    if (!m.params.empty() && !expectOp(","))
      return false;
    Target param;
    if (!parseAssignTarget(param, false, true, {}, false))
      return false;
    if (isOp(cur(), "=")) {
      advance();
      ExprP value = parseExpression();
      if (!value)
        return false;
      m.defaults.push_back(std::move(value));
    } else if (!m.defaults.empty()) {
      return fail(param.offset,
                  "non-default argument follows default argument");
    }
    m.params.push_back(param.name);
  }
  advance();
  macros.push_back(&m);
  int savedLoops = loopDepth;
  loopDepth = 0;
  bool ok = parseStatements(m.body, {"endmacro"}, true);
  loopDepth = savedLoops;
  macros.pop_back();
  if (!ok)
    return false;
  body.push_back(std::move(s));
  return true;
}

bool Parser::parseWith(Body &body) {
  auto s = std::make_unique<Stmt>(SK::With, cur().offset);
  advance();
  while (cur().type != Tok::BlockEnd) {
    if (!s->assigns.empty() && !expectOp(","))
      return false;
    Target target;
    if (!parseAssignTarget(target, true, false, {}, false) || !expectOp("="))
      return false;
    ExprP value = parseExpression();
    if (!value)
      return false;
    s->assigns.emplace_back(std::move(target), std::move(value));
  }
  s->bodies.emplace_back();
  if (!parseStatements(s->bodies[0], {"endwith"}, true))
    return false;
  body.push_back(std::move(s));
  return true;
}

} // namespace

bool parseProgram(const std::string &source, Program &prog,
                  std::string &error) {
  // jinja2 reads \r\n and \r as \n and drops one trailing newline
  // (keep_trailing_newline=False).
  std::string &src = prog.source;
  src.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      src += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n')
        ++i;
    } else {
      src += source[i];
    }
  }
  if (!src.empty() && src.back() == '\n')
    src.pop_back();
  prog.lineStarts.push_back(0);
  for (size_t i = 0; i < src.size(); ++i)
    if (src[i] == '\n')
      prog.lineStarts.push_back(i + 1);

  std::vector<Token> tokens;
  Lexer lexer(src);
  if (!lexer.run(tokens)) {
    error = prog.location(lexer.errorOffset) + ": " + lexer.error;
    return false;
  }
  Parser parser(std::move(tokens));
  if (!parser.parseTemplate(prog.body)) {
    error = prog.location(parser.errorOffset) + ": " + parser.error;
    return false;
  }
  return true;
}

} // namespace lmc::rt::ct
