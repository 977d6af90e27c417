//===- Normalizer.cpp - tokenizer.json normalizers ------------------------===//

#include "text/Normalizer.h"

#include "text/JsonFields.h"
#include "text/Unicode.h"
#include "Utf8.h"

namespace lmc::rt {

std::string replaceAll(const std::string &text, const Regex *regex,
                       const std::string &literal, const std::string &content) {
  std::string out;
  size_t at = 0;
  if (regex) {
    for (auto [begin, end] : regex->findAll(text)) {
      out.append(text, at, begin - at);
      out += content;
      at = end;
    }
  } else if (!literal.empty()) {
    for (size_t hit; (hit = text.find(literal, at)) != std::string::npos;
         at = hit + literal.size()) {
      out.append(text, at, hit - at);
      out += content;
    }
  }
  out.append(text, at, std::string::npos);
  return out;
}

bool readPattern(const Json &pattern, const std::string &where,
                 std::string &literal, std::shared_ptr<Regex> &regex,
                 std::string &error) {
  if (pattern.kind == Json::Kind::Object && pattern.get("String"))
    return json::string(pattern, "String", where, literal, error);
  if (pattern.kind == Json::Kind::Object && pattern.get("Regex")) {
    std::string source;
    if (!json::string(pattern, "Regex", where, source, error))
      return false;
    std::string why;
    regex = Regex::compile(source, why);
    return regex || json::fail(error, where + ".Regex", why);
  }
  return json::fail(error, where,
                    "expected {\"String\": ...} or {\"Regex\": ...}");
}

bool Normalizer::configure(const Json &config, const std::string &where,
                           std::string &error) {
  steps.clear();
  return config.kind == Json::Kind::Null || add(config, where, error);
}

bool Normalizer::add(const Json &config, const std::string &where,
                     std::string &error) {
  std::string type;
  bool sequence;
  if (!json::component(config, where, "normalizers", type, sequence, error,
                       [&](const Json &entry, const std::string &at) {
                         return add(entry, at, error);
                       }))
    return false;
  if (sequence)
    return true;
  Step step;
  if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
    step.kind = type == "NFC"    ? Kind::NFC
                : type == "NFD"  ? Kind::NFD
                : type == "NFKC" ? Kind::NFKC
                                 : Kind::NFKD;
  } else if (type == "Lowercase") {
    step.kind = Kind::Lowercase;
  } else if (type == "Strip") {
    step.kind = Kind::Strip;
    if (!json::boolean(config, "strip_left", where, step.left, error) ||
        !json::boolean(config, "strip_right", where, step.right, error))
      return false;
  } else if (type == "Prepend") {
    step.kind = Kind::Prepend;
    if (!json::string(config, "prepend", where, step.text, error))
      return false;
  } else if (type == "Replace") {
    step.kind = Kind::Replace;
    const Json *pattern = config.get("pattern");
    if (!pattern)
      return json::fail(error, where + ".pattern", "missing");
    if (!readPattern(*pattern, where + ".pattern", step.literal, step.regex,
                     error) ||
        !json::string(config, "content", where, step.text, error))
      return false;
  } else {
    return json::fail(error, where + ".type",
                      "normalizer '" + type + "' is not supported");
  }
  steps.push_back(std::move(step));
  return true;
}

namespace {
std::string strip(const std::string &text, bool left, bool right) {
  size_t begin = 0, end = text.size();
  if (left)
    while (begin < end) {
      size_t i = begin;
      if (!unicode::isWhitespace(utf8::next(text, i)))
        break;
      begin = i;
    }
  if (right)
    while (end > begin) {
      size_t i = end - 1;
      while (i > begin && (static_cast<unsigned char>(text[i]) & 0xc0) == 0x80)
        --i;
      size_t j = i;
      if (!unicode::isWhitespace(utf8::next(text, j)))
        break;
      end = i;
    }
  return text.substr(begin, end - begin);
}
} // namespace

std::string Normalizer::apply(std::string text) const {
  for (const Step &step : steps) {
    switch (step.kind) {
    case Kind::NFC:
      text = unicode::normalize(text, unicode::Form::NFC);
      break;
    case Kind::NFD:
      text = unicode::normalize(text, unicode::Form::NFD);
      break;
    case Kind::NFKC:
      text = unicode::normalize(text, unicode::Form::NFKC);
      break;
    case Kind::NFKD:
      text = unicode::normalize(text, unicode::Form::NFKD);
      break;
    case Kind::Lowercase:
      text = unicode::lowercase(text);
      break;
    case Kind::Strip:
      text = strip(text, step.left, step.right);
      break;
    case Kind::Prepend:
      // Only a non-empty piece gets the prefix.
      if (!text.empty())
        text = step.text + text;
      break;
    case Kind::Replace:
      text = replaceAll(text, step.regex.get(), step.literal, step.text);
      break;
    }
  }
  return text;
}

} // namespace lmc::rt
