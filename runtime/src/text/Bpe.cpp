//===- Bpe.cpp - Byte-pair encoding of one word ---------------------------===//

#include "text/Bpe.h"

#include "Utf8.h"

#include <cstdio>
#include <queue>

namespace lmc::rt {

bool Bpe::setVocabulary(std::vector<std::pair<std::string, int64_t>> entries,
                        std::string &error) {
  int64_t largest = -1;
  for (const auto &entry : entries)
    largest = std::max(largest, entry.second);
  tokens.assign(size_t(largest + 1), std::string());
  present.assign(size_t(largest + 1), false);
  ids.reserve(entries.size());
  for (auto &[text, id] : entries) {
    if (present[id]) {
      error = "id " + std::to_string(id) + " is given to '" + tokens[id] +
              "' and '" + text + "'";
      return false;
    }
    present[id] = true;
    ids.emplace(text, id);
    tokens[id] = std::move(text);
  }
  return true;
}

bool Bpe::addMerge(const std::string &left, const std::string &right, int rank,
                   std::string &error) {
  int64_t a = id(left), b = id(right), result = id(left + right);
  for (auto [part, partId] : {std::pair{&left, a}, {&right, b}})
    if (partId < 0) {
      error = "'" + *part + "' is not in the vocabulary";
      return false;
    }
  if (result < 0) {
    error = "'" + left + right + "' is not in the vocabulary";
    return false;
  }
  // The first (best-ranked) merge of a pair wins, as in tokenizers.
  merges.emplace(key(a, b), Merge{rank, result});
  return true;
}

bool Bpe::setOptions(const Options &o, std::string &error) {
  options = o;
  unknownId = -1;
  if (!options.unknown.empty()) {
    unknownId = id(options.unknown);
    if (unknownId < 0) {
      error = "the unknown token '" + options.unknown +
              "' is not in the vocabulary";
      return false;
    }
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    byteIds[b] = id(name);
  }
  return true;
}

int64_t Bpe::id(const std::string &token) const {
  auto it = ids.find(token);
  return it == ids.end() ? -1 : it->second;
}

const std::string *Bpe::token(int64_t id) const {
  return id >= 0 && id < size() && present[id] ? &tokens[id] : nullptr;
}

void Bpe::encode(const std::string &word, std::vector<int64_t> &out) const {
  if (word.empty())
    return;
  if (options.ignoreMerges) {
    int64_t whole = id(word);
    if (whole >= 0) {
      out.push_back(whole);
      return;
    }
  }
  // The word's initial symbols.
  std::vector<int64_t> symbols;
  bool lastUnknown = false;
  for (size_t i = 0; i < word.size();) {
    size_t start = i;
    utf8::next(word, i);
    std::string piece = word.substr(start, i - start);
    if (start > 0)
      piece = options.continuingSubwordPrefix + piece;
    if (i == word.size())
      piece += options.endOfWordSuffix;
    int64_t symbol = id(piece);
    if (symbol >= 0) {
      symbols.push_back(symbol);
      lastUnknown = false;
      continue;
    }
    if (options.byteFallback) {
      bool all = true;
      for (size_t k = start; k < i; ++k)
        all &= byteIds[static_cast<unsigned char>(word[k])] >= 0;
      if (all) {
        for (size_t k = start; k < i; ++k)
          symbols.push_back(byteIds[static_cast<unsigned char>(word[k])]);
        lastUnknown = false;
        continue;
      }
    }
    // No unknown token: the character is dropped, as tokenizers does.
    if (unknownId >= 0 && !(options.fuseUnknown && lastUnknown))
      symbols.push_back(unknownId);
    lastUnknown = unknownId >= 0;
  }

  // Merge the best-ranked pair first (leftmost on ties) until none is left;
  // a doubly linked list over `symbols` and a heap of candidate pairs.
  size_t n = symbols.size();
  std::vector<int64_t> prev(n), next(n);
  for (size_t i = 0; i < n; ++i) {
    prev[i] = int64_t(i) - 1;
    next[i] = i + 1 < n ? int64_t(i + 1) : -1;
  }
  struct Candidate {
    int rank;
    int64_t left;
    int64_t leftSymbol, rightSymbol, result;
    bool operator>(const Candidate &o) const {
      return rank != o.rank ? rank > o.rank : left > o.left;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
  auto consider = [&](int64_t left) {
    if (left < 0 || next[left] < 0)
      return;
    auto it = merges.find(key(symbols[left], symbols[next[left]]));
    if (it != merges.end())
      heap.push({it->second.rank, left, symbols[left], symbols[next[left]],
                 it->second.result});
  };
  for (size_t i = 0; i + 1 < n; ++i)
    consider(int64_t(i));
  while (!heap.empty()) {
    Candidate c = heap.top();
    heap.pop();
    int64_t right = next[c.left];
    // Stale: either side was merged since this pair was queued.
    if (symbols[c.left] != c.leftSymbol || right < 0 ||
        symbols[right] != c.rightSymbol)
      continue;
    symbols[c.left] = c.result;
    symbols[right] = -1;
    next[c.left] = next[right];
    if (next[right] >= 0)
      prev[next[right]] = c.left;
    consider(prev[c.left]);
    consider(c.left);
  }
  for (size_t i = 0; i < n; ++i)
    if (symbols[i] >= 0)
      out.push_back(symbols[i]);
}

} // namespace lmc::rt
