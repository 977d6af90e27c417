//===- Tokenizer.h - Text to token ids and back -----------------*- C++ -*-===//
//
// One tokenizer for Hugging Face folders (tokenizer.json,
// tokenizer_config.json, the chat template, generation_config.json) and GGUF
// files (their tokenizer.* metadata), with the pipeline of the `tokenizers`
// library: added tokens are matched first (never split), the rest is
// normalized, pre-tokenized and encoded by the model (BPE), and the
// post-processor adds the special tokens a prompt starts with. Decoding runs
// the decoder chain. Parts a file declares that lmc does not implement are
// refused by name, never approximated.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_TEXT_TOKENIZER_H
#define LMC_RT_TEXT_TOKENIZER_H

#include "Gguf.h"
#include "text/Bpe.h"
#include "text/Decoder.h"
#include "text/Normalizer.h"
#include "text/PreTokenizer.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace lmc::rt {

class ChatTemplate;

/// A token of tokenizer.json's added_tokens (or a GGUF control token).
struct AddedToken {
  std::string content;
  int64_t id = -1;
  bool special = false;
  bool lstrip = false, rstrip = false, singleWord = false;
  /// Matched in the normalized text rather than the input.
  bool normalized = false;
  /// What is matched: the content, normalized when `normalized`.
  std::string pattern;
};

/// One turn of a conversation.
struct ChatMessage {
  std::string role, content;
};

class Tokenizer {
public:
  Tokenizer();
  ~Tokenizer();

  /// A Hugging Face folder (or its tokenizer.json) or a GGUF file; null with
  /// a one-line `error` naming the file and field at fault.
  static std::unique_ptr<Tokenizer> load(const std::string &path,
                                         std::string &error);
  static std::unique_ptr<Tokenizer>
  fromGguf(const std::string &path,
           const std::map<std::string, GgufValue> &metadata,
           std::string &error);

  /// The ids of `text` (any bytes: invalid UTF-8 is read as U+FFFD); with
  /// `addSpecialTokens`, those the post-processor adds (BOS), as
  /// transformers' `encode` does by default.
  std::vector<int64_t> encode(const std::string &text,
                              bool addSpecialTokens = false) const;
  /// The text of `ids` (unknown ids are skipped, as tokenizers does).
  std::string decode(const std::vector<int64_t> &ids,
                     bool skipSpecialTokens = false) const;

  int64_t vocabSize() const;
  /// The id of a token written as text (added tokens included), or -1.
  int64_t tokenId(const std::string &token) const;
  bool isSpecial(int64_t id) const;

  /// The prompt the model's chat template makes of `messages`, ending with
  /// the assistant's turn opened when `addGenerationPrompt`; false with
  /// `error` when there is no template or it fails (raise_exception).
  bool applyChatTemplate(const std::vector<ChatMessage> &messages,
                         bool addGenerationPrompt, std::string &prompt,
                         std::string &error) const;
  bool hasChatTemplate() const { return !chatSource.empty(); }

  /// Ids that end a turn (end of sequence, end of turn) for generation.
  const std::vector<int64_t> &stopIds() const { return stops; }
  /// Where the tokenizer was read from, for messages.
  const std::string &source() const { return origin; }

private:
  static std::unique_ptr<Tokenizer> fromHuggingFace(const std::string &folder,
                                                    std::string &error);
  bool addAddedToken(AddedToken token, std::string &error);
  /// Sets what each added token matches, once the normalizer is known.
  void finishAddedTokens();
  void addStop(int64_t id);
  /// Splits `text` at added tokens (those matched on the input, or on the
  /// normalized text); pieces that are not tokens have id -1.
  void splitAdded(const std::string &text, bool normalizedTokens,
                  std::vector<std::pair<std::string, int64_t>> &out) const;

  std::string origin;
  Normalizer normalizer;
  PreTokenizer preTokenizer;
  Bpe model;
  Decoder decoder;
  std::vector<AddedToken> added;
  std::map<int64_t, size_t> addedById;
  bool addedFirstBytes[256] = {}; // bytes an added token starts with
  /// Special tokens the post-processor puts before and after a sequence.
  std::vector<int64_t> prefix, suffix;
  std::vector<int64_t> stops;
  /// The chat template, its parse error when it has one, and the values it
  /// sees besides the messages (bos_token, eos_token, ...).
  std::string chatSource, chatError;
  std::unique_ptr<ChatTemplate> chat;
  std::vector<std::pair<std::string, std::string>> chatTokens;
};

/// Turns generated ids into text as they come: prints only complete
/// characters, holds back what may still become a stop string, and ends at
/// the first stop string.
class TextStream {
public:
  TextStream(const Tokenizer &tokenizer,
             std::vector<std::string> stopStrings = {})
      : tokenizer(tokenizer), stopStrings(std::move(stopStrings)) {}
  /// The text that `id` completes (maybe empty).
  std::string push(int64_t id);
  /// What was held back, at the end of generation.
  std::string finish();
  bool stopped() const { return hitStop; }

private:
  const Tokenizer &tokenizer;
  std::vector<std::string> stopStrings;
  std::vector<int64_t> ids;
  size_t printed = 0;
  bool hitStop = false;
};

} // namespace lmc::rt

#endif // LMC_RT_TEXT_TOKENIZER_H
