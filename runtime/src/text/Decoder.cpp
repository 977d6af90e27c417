//===- Decoder.cpp - tokenizer.json decoders ------------------------------===//

#include "text/Decoder.h"

#include "text/JsonFields.h"
#include "text/Normalizer.h"
#include "text/PreTokenizer.h"
#include "Utf8.h"

#include <unordered_map>

namespace lmc::rt {

bool Decoder::configure(const Json &config, const std::string &where,
                        std::string &error) {
  steps.clear();
  return config.kind == Json::Kind::Null || add(config, where, error);
}

void Decoder::addByteLevel() {
  Step step;
  step.kind = Kind::ByteLevel;
  steps.push_back(std::move(step));
}

bool Decoder::add(const Json &config, const std::string &where,
                  std::string &error) {
  std::string type;
  bool sequence;
  if (!json::component(config, where, "decoders", type, sequence, error,
                       [&](const Json &entry, const std::string &at) {
                         return add(entry, at, error);
                       }))
    return false;
  if (sequence)
    return true;
  Step step;
  if (type == "ByteLevel") {
    step.kind = Kind::ByteLevel;
  } else if (type == "ByteFallback") {
    step.kind = Kind::ByteFallback;
  } else if (type == "Fuse") {
    step.kind = Kind::Fuse;
  } else if (type == "Replace") {
    step.kind = Kind::Replace;
    const Json *pattern = config.get("pattern");
    if (!pattern)
      return json::fail(error, where + ".pattern", "missing");
    if (!readPattern(*pattern, where + ".pattern", step.literal, step.regex,
                     error) ||
        !json::string(config, "content", where, step.content, error))
      return false;
  } else if (type == "Strip") {
    step.kind = Kind::Strip;
    int64_t start = 0, stop = 0;
    if (!json::string(config, "content", where, step.content, error) ||
        !json::integer(config, "start", where, 0, 1 << 20, start, error) ||
        !json::integer(config, "stop", where, 0, 1 << 20, stop, error))
      return false;
    step.start = size_t(start);
    step.stop = size_t(stop);
  } else if (type == "Metaspace") {
    step.kind = Kind::Metaspace;
    std::string scheme = "always";
    bool addPrefixSpace = true;
    if (!json::string(config, "replacement", where, step.literal, error) ||
        !json::string(config, "prepend_scheme", where, scheme, error, false) ||
        !json::boolean(config, "add_prefix_space", where, addPrefixSpace,
                       error))
      return false;
    step.prependFirst =
        config.get("prepend_scheme") ? scheme != "never" : addPrefixSpace;
  } else {
    return json::fail(error, where + ".type",
                      "decoder '" + type + "' is not supported");
  }
  steps.push_back(std::move(step));
  return true;
}

namespace {
std::vector<uint32_t> codePoints(const std::string &s) {
  std::vector<uint32_t> cps;
  for (size_t i = 0; i < s.size();)
    cps.push_back(utf8::next(s, i));
  return cps;
}

std::string byteLevel(const std::vector<std::string> &tokens) {
  static const std::unordered_map<uint32_t, unsigned char> toByte = [] {
    std::unordered_map<uint32_t, unsigned char> m;
    const std::string *symbols = PreTokenizer::byteSymbols();
    for (int b = 0; b < 256; ++b) {
      size_t i = 0;
      m.emplace(utf8::next(symbols[b], i), static_cast<unsigned char>(b));
    }
    return m;
  }();
  std::string bytes;
  for (const std::string &token : tokens) {
    // A token with a character outside the byte alphabet (an added token)
    // is taken as its text.
    std::string mapped;
    bool all = true;
    for (uint32_t cp : codePoints(token)) {
      auto it = toByte.find(cp);
      if (it == toByte.end()) {
        all = false;
        break;
      }
      mapped += char(it->second);
    }
    bytes += all ? mapped : token;
  }
  return utf8::repair(bytes);
}

std::vector<std::string> byteFallback(const std::vector<std::string> &tokens) {
  std::vector<std::string> out;
  std::string pending;
  size_t pendingCount = 0;
  auto flush = [&] {
    if (pendingCount == 0)
      return;
    if (utf8::repair(pending) == pending)
      out.push_back(pending);
    else
      for (size_t i = 0; i < pendingCount; ++i)
        out.push_back(utf8::encode(utf8::kReplacement));
    pending.clear();
    pendingCount = 0;
  };
  for (const std::string &token : tokens) {
    auto hex = [](char c) {
      return c >= '0' && c <= '9'   ? c - '0'
             : c >= 'A' && c <= 'F' ? c - 'A' + 10
             : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                    : -1;
    };
    if (token.size() == 6 && token.compare(0, 3, "<0x") == 0 &&
        token[5] == '>' && hex(token[3]) >= 0 && hex(token[4]) >= 0) {
      pending += char(hex(token[3]) * 16 + hex(token[4]));
      ++pendingCount;
      continue;
    }
    flush();
    out.push_back(token);
  }
  flush();
  return out;
}
} // namespace

std::string Decoder::apply(std::vector<std::string> tokens) const {
  for (const Step &step : steps) {
    switch (step.kind) {
    case Kind::ByteLevel:
      tokens = {byteLevel(tokens)};
      break;
    case Kind::ByteFallback:
      tokens = byteFallback(tokens);
      break;
    case Kind::Fuse: {
      std::string all;
      for (const std::string &t : tokens)
        all += t;
      tokens = {all};
      break;
    }
    case Kind::Replace:
      for (std::string &t : tokens)
        t = replaceAll(t, step.regex.get(), step.literal, step.content);
      break;
    case Kind::Strip: {
      uint32_t content = 0;
      size_t i = 0;
      if (!step.content.empty())
        content = utf8::next(step.content, i);
      for (std::string &t : tokens) {
        std::vector<uint32_t> cps = codePoints(t);
        size_t begin = 0, end = cps.size();
        while (begin < step.start && begin < end && cps[begin] == content)
          ++begin;
        for (size_t k = 0;
             k < step.stop && end > begin && cps[end - 1] == content; ++k)
          --end;
        std::string s;
        for (size_t k = begin; k < end; ++k)
          utf8::append(cps[k], s);
        t = s;
      }
      break;
    }
    case Kind::Metaspace:
      for (size_t k = 0; k < tokens.size(); ++k) {
        std::string s;
        for (size_t at = 0; at < tokens[k].size();) {
          if (tokens[k].compare(at, step.literal.size(), step.literal) == 0 &&
              !step.literal.empty()) {
            if (!(k == 0 && step.prependFirst))
              s += ' ';
            at += step.literal.size();
          } else {
            s += tokens[k][at++];
          }
        }
        tokens[k] = s;
      }
      break;
    }
  }
  std::string text;
  for (const std::string &t : tokens)
    text += t;
  return utf8::repair(text);
}

} // namespace lmc::rt
