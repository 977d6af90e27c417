//===- PreTokenizer.h - tokenizer.json pre-tokenizers -----------*- C++ -*-===//
//
// Splits a normalized piece into the words the model encodes one by one:
// regex splits with their delimiter behaviours (Llama 3, Qwen2/3,
// DeepSeek-V3, GPT-OSS patterns), digits, byte-level (GPT-2: the pattern and
// the byte-to-symbol mapping), Metaspace (SentencePiece style) and
// whitespace, in sequence. Any other pre-tokenizer is refused by name.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_TEXT_PRETOKENIZER_H
#define LMC_RT_TEXT_PRETOKENIZER_H

#include "Json.h"
#include "text/Regex.h"

#include <memory>
#include <string>
#include <vector>

namespace lmc::rt {

/// A piece of text on its way to the model.
struct Piece {
  std::string text;
  bool atInputStart = false; // begins at offset 0 of the input
};

/// Where the delimiters a split pattern matches go.
enum class SplitBehavior {
  Removed,
  Isolated,
  MergedWithPrevious,
  MergedWithNext,
  Contiguous
};

class PreTokenizer {
public:
  /// Builds from `config` (a pre_tokenizer object, or null for none).
  bool configure(const Json &config, const std::string &where,
                 std::string &error);
  /// GGUF vocabularies state a pre-tokenizer by name; these build the same
  /// steps as the tokenizer.json that name stands for.
  bool addSplit(const std::string &pattern, SplitBehavior behavior, bool invert,
                std::string &error);
  void addByteLevel(bool addPrefixSpace, bool useRegex);

  std::vector<Piece> apply(std::vector<Piece> pieces) const;

  /// GPT-2's byte-to-symbol table (bytes_to_unicode), as UTF-8.
  static const std::string *byteSymbols();

private:
  enum class Kind { Split, ByteLevel, Metaspace };
  struct Step {
    Kind kind;
    std::shared_ptr<Regex> regex;
    SplitBehavior behavior = SplitBehavior::Isolated;
    bool invert = false;
    bool addPrefixSpace = false; // ByteLevel
    std::string replacement;     // Metaspace
    enum class Prepend { Always, First, Never } prepend = Prepend::Always;
    bool split = true; // Metaspace
  };
  bool add(const Json &config, const std::string &where, std::string &error);

  std::vector<Step> steps;
};

} // namespace lmc::rt

#endif // LMC_RT_TEXT_PRETOKENIZER_H
