//===- PreTokenizer.cpp - tokenizer.json pre-tokenizers -------------------===//

#include "text/PreTokenizer.h"

#include "text/JsonFields.h"
#include "text/Normalizer.h"
#include "Utf8.h"

#include <algorithm>

namespace lmc::rt {

namespace {
/// GPT-2's split pattern, which ByteLevel applies when `use_regex` is set.
const char *kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

struct Segment {
  size_t begin, end;
  bool isMatch;
};

/// Splits `text` at `matches` the way tokenizers' NormalizedString::split
/// does: the segments cover the text, then the behaviour folds them.
std::vector<std::pair<size_t, size_t>>
splitSegments(const std::string &text,
              const std::vector<std::pair<size_t, size_t>> &matches,
              SplitBehavior behavior, bool invert) {
  std::vector<Segment> segments;
  size_t prev = 0;
  for (auto [begin, end] : matches) {
    if (prev != begin)
      segments.push_back({prev, begin, false});
    segments.push_back({begin, end, true});
    prev = end;
  }
  if (prev != text.size() || text.empty())
    segments.push_back({prev, text.size(), false});
  if (invert)
    for (Segment &s : segments)
      s.isMatch = !s.isMatch;

  std::vector<std::pair<size_t, size_t>> out;
  bool previousMatch = false;
  switch (behavior) {
  case SplitBehavior::Removed:
    for (const Segment &s : segments)
      if (!s.isMatch)
        out.emplace_back(s.begin, s.end);
    break;
  case SplitBehavior::Isolated:
    for (const Segment &s : segments)
      out.emplace_back(s.begin, s.end);
    break;
  case SplitBehavior::MergedWithPrevious:
    for (const Segment &s : segments) {
      if (s.isMatch && !previousMatch && !out.empty())
        out.back().second = s.end;
      else
        out.emplace_back(s.begin, s.end);
      previousMatch = s.isMatch;
    }
    break;
  case SplitBehavior::MergedWithNext:
    for (size_t i = segments.size(); i-- > 0;) {
      const Segment &s = segments[i];
      if (s.isMatch && !previousMatch && !out.empty())
        out.back().first = s.begin;
      else
        out.emplace_back(s.begin, s.end);
      previousMatch = s.isMatch;
    }
    std::reverse(out.begin(), out.end());
    break;
  case SplitBehavior::Contiguous:
    for (size_t i = 0; i < segments.size(); ++i) {
      const Segment &s = segments[i];
      if (s.isMatch == previousMatch && !out.empty())
        out.back().second = s.end;
      else
        out.emplace_back(s.begin, s.end);
      previousMatch = s.isMatch;
    }
    break;
  }
  return out;
}

bool parseBehavior(const std::string &name, SplitBehavior &behavior) {
  static const std::pair<const char *, SplitBehavior> names[] = {
      {"Removed", SplitBehavior::Removed},
      {"Isolated", SplitBehavior::Isolated},
      {"MergedWithPrevious", SplitBehavior::MergedWithPrevious},
      {"MergedWithNext", SplitBehavior::MergedWithNext},
      {"Contiguous", SplitBehavior::Contiguous}};
  for (auto [n, b] : names)
    if (name == n)
      return behavior = b, true;
  return false;
}
} // namespace

const std::string *PreTokenizer::byteSymbols() {
  static const std::vector<std::string> table = [] {
    std::vector<std::string> t(256);
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) ||
                       (b >= 0xae && b <= 0xff);
      t[b] = utf8::encode(printable ? uint32_t(b) : uint32_t(256 + extra++));
    }
    return t;
  }();
  return table.data();
}

bool PreTokenizer::configure(const Json &config, const std::string &where,
                             std::string &error) {
  steps.clear();
  return config.kind == Json::Kind::Null || add(config, where, error);
}

bool PreTokenizer::addSplit(const std::string &pattern, SplitBehavior behavior,
                            bool invert, std::string &error) {
  Step step;
  step.kind = Kind::Split;
  step.regex = Regex::compile(pattern, error);
  step.behavior = behavior;
  step.invert = invert;
  if (!step.regex)
    return false;
  steps.push_back(std::move(step));
  return true;
}

void PreTokenizer::addByteLevel(bool addPrefixSpace, bool useRegex) {
  std::string unused;
  if (useRegex)
    addSplit(kGpt2Pattern, SplitBehavior::Isolated, false, unused);
  Step step;
  step.kind = Kind::ByteLevel;
  step.addPrefixSpace = addPrefixSpace;
  // The prefix space goes before the split: keep it on the split step.
  if (useRegex) {
    steps.back().addPrefixSpace = addPrefixSpace;
    step.addPrefixSpace = false;
  }
  steps.push_back(std::move(step));
}

bool PreTokenizer::add(const Json &config, const std::string &where,
                       std::string &error) {
  std::string type;
  bool sequence;
  if (!json::component(config, where, "pretokenizers", type, sequence, error,
                       [&](const Json &entry, const std::string &at) {
                         return add(entry, at, error);
                       }))
    return false;
  if (sequence)
    return true;
  if (type == "Split") {
    const Json *pattern = config.get("pattern");
    std::string literal, behavior;
    std::shared_ptr<Regex> regex;
    bool invert = false;
    if (!pattern)
      return json::fail(error, where + ".pattern", "missing");
    if (!readPattern(*pattern, where + ".pattern", literal, regex, error) ||
        !json::string(config, "behavior", where, behavior, error) ||
        !json::boolean(config, "invert", where, invert, error))
      return false;
    Step step;
    step.kind = Kind::Split;
    if (!parseBehavior(behavior, step.behavior))
      return json::fail(error, where + ".behavior",
                        "'" + behavior + "' is not a split behavior");
    step.invert = invert;
    step.regex = regex;
    if (!regex) {
      std::string why;
      step.regex = Regex::compile(Regex::escape(literal), why);
      if (!step.regex)
        return json::fail(error, where + ".pattern", why);
    }
    steps.push_back(std::move(step));
    return true;
  }
  if (type == "ByteLevel") {
    bool addPrefixSpace = true, useRegex = true;
    if (!json::boolean(config, "add_prefix_space", where, addPrefixSpace,
                       error) ||
        !json::boolean(config, "use_regex", where, useRegex, error))
      return false;
    addByteLevel(addPrefixSpace, useRegex);
    return true;
  }
  if (type == "Digits") {
    bool individual = false;
    if (!json::boolean(config, "individual_digits", where, individual, error))
      return false;
    // char::is_numeric is \p{N}; runs of digits are one Contiguous piece.
    return addSplit("\\p{N}",
                    individual ? SplitBehavior::Isolated
                               : SplitBehavior::Contiguous,
                    false, error);
  }
  if (type == "Whitespace")
    return addSplit(R"(\w+|[^\w\s]+)", SplitBehavior::Removed, true, error);
  if (type == "WhitespaceSplit")
    return addSplit(R"(\s+)", SplitBehavior::Removed, false, error);
  if (type == "Metaspace") {
    Step step;
    step.kind = Kind::Metaspace;
    std::string scheme = "always";
    if (!json::string(config, "replacement", where, step.replacement, error) ||
        !json::boolean(config, "split", where, step.split, error) ||
        !json::string(config, "prepend_scheme", where, scheme, error, false))
      return false;
    // Files older than prepend_scheme say add_prefix_space.
    bool addPrefixSpace = true;
    if (!config.get("prepend_scheme")) {
      if (!json::boolean(config, "add_prefix_space", where, addPrefixSpace,
                         error))
        return false;
      scheme = addPrefixSpace ? "always" : "never";
    }
    if (scheme == "always")
      step.prepend = Step::Prepend::Always;
    else if (scheme == "first")
      step.prepend = Step::Prepend::First;
    else if (scheme == "never")
      step.prepend = Step::Prepend::Never;
    else
      return json::fail(error, where + ".prepend_scheme",
                        "'" + scheme + "' is not always, first or never");
    steps.push_back(std::move(step));
    return true;
  }
  return json::fail(error, where + ".type",
                    "pre-tokenizer '" + type + "' is not supported");
}

std::vector<Piece> PreTokenizer::apply(std::vector<Piece> pieces) const {
  for (const Step &step : steps) {
    std::vector<Piece> next;
    for (Piece &piece : pieces) {
      switch (step.kind) {
      case Kind::Split: {
        if (step.addPrefixSpace && piece.text.compare(0, 1, " ") != 0)
          piece.text.insert(0, " ");
        bool first = piece.atInputStart;
        for (auto [begin, end] :
             splitSegments(piece.text, step.regex->findAll(piece.text),
                           step.behavior, step.invert)) {
          if (begin == end)
            continue;
          next.push_back(
              {piece.text.substr(begin, end - begin), first && begin == 0});
        }
        break;
      }
      case Kind::ByteLevel: {
        if (step.addPrefixSpace && piece.text.compare(0, 1, " ") != 0)
          piece.text.insert(0, " ");
        const std::string *symbols = byteSymbols();
        std::string mapped;
        for (unsigned char c : piece.text)
          mapped += symbols[c];
        next.push_back({std::move(mapped), piece.atInputStart});
        break;
      }
      case Kind::Metaspace: {
        std::string text =
            replaceAll(piece.text, nullptr, " ", step.replacement);
        bool prepend =
            step.prepend == Step::Prepend::Always ||
            (step.prepend == Step::Prepend::First && piece.atInputStart);
        if (prepend &&
            text.compare(0, step.replacement.size(), step.replacement) != 0)
          text.insert(0, step.replacement);
        if (!step.split) {
          next.push_back({std::move(text), piece.atInputStart});
          break;
        }
        std::vector<std::pair<size_t, size_t>> hits;
        for (size_t at = 0;
             (at = text.find(step.replacement, at)) != std::string::npos;
             at += step.replacement.size())
          hits.emplace_back(at, at + step.replacement.size());
        for (auto [begin, end] :
             splitSegments(text, hits, SplitBehavior::MergedWithNext, false))
          if (end > begin)
            next.push_back({text.substr(begin, end - begin),
                            piece.atInputStart && begin == 0});
        break;
      }
      }
    }
    pieces = std::move(next);
  }
  return pieces;
}

} // namespace lmc::rt
