//===- Bpe.h - Byte-pair encoding of one word -------------------*- C++ -*-===//
//
// The BPE model of tokenizer.json (and of GGUF's "gpt2" vocabularies): a
// word starts as its characters, unknown ones as <0xXX> byte tokens when
// byte fallback is on (SentencePiece style) or as the unknown token, and the
// adjacent pair of lowest merge rank is merged until none is left.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_TEXT_BPE_H
#define LMC_RT_TEXT_BPE_H

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace lmc::rt {

class Bpe {
public:
  struct Options {
    bool byteFallback = false;
    bool fuseUnknown = false;
    /// A word found whole in the vocabulary is taken as is (Llama 3).
    bool ignoreMerges = false;
    std::string unknown; // the unknown token, empty for none
    std::string continuingSubwordPrefix, endOfWordSuffix;
  };

  /// Sets the vocabulary (ids may have gaps; the largest bounds the table).
  /// false with `error` on a duplicate id.
  bool setVocabulary(std::vector<std::pair<std::string, int64_t>> entries,
                     std::string &error);
  /// Adds the merge of rank `rank`; false with `error` naming the token the
  /// vocabulary lacks.
  bool addMerge(const std::string &left, const std::string &right, int rank,
                std::string &error);
  bool setOptions(const Options &options, std::string &error);

  void encode(const std::string &word, std::vector<int64_t> &out) const;

  /// The id of `token`, -1 when it is not in the vocabulary.
  int64_t id(const std::string &token) const;
  /// The token of `id`, null for an id with no token.
  const std::string *token(int64_t id) const;
  int64_t size() const { return int64_t(tokens.size()); }

private:
  struct Merge {
    int rank;
    int64_t result;
  };
  static uint64_t key(int64_t a, int64_t b) {
    return uint64_t(a) << 32 | uint64_t(b);
  }

  std::vector<std::string> tokens;
  std::vector<bool> present;
  std::unordered_map<std::string, int64_t> ids;
  std::unordered_map<uint64_t, Merge> merges;
  Options options;
  int64_t unknownId = -1;
  int64_t byteIds[256];
};

} // namespace lmc::rt

#endif // LMC_RT_TEXT_BPE_H
