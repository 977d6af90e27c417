//===- Tokenizer.cpp - Text to token ids and back -------------------------===//

#include "text/Tokenizer.h"

#include "ChatTemplate.h"
#include "Checkpoint.h"
#include "text/Unicode.h"
#include "Utf8.h"

#include <algorithm>
#include <sys/stat.h>

namespace lmc::rt {

Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;

std::unique_ptr<Tokenizer> Tokenizer::load(const std::string &path,
                                           std::string &error) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) {
    error = path + ": no such file or folder";
    return nullptr;
  }
  if (S_ISDIR(info.st_mode))
    return fromHuggingFace(path, error);
  size_t slash = path.rfind('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name == "tokenizer.json")
    return fromHuggingFace(
        slash == std::string::npos ? "." : path.substr(0, slash), error);
  auto file = MappedFile::open(path, error);
  if (!file)
    return nullptr;
  GgufFile gguf;
  if (!gguf.parse(path, file->data(), file->size(), error))
    return nullptr;
  return fromGguf(path, gguf.metadata(), error);
}

bool Tokenizer::addAddedToken(AddedToken token, std::string &error) {
  if (token.content.empty()) {
    error = "added token " + std::to_string(token.id) + " is empty";
    return false;
  }
  if (addedById.count(token.id)) {
    // tokenizer.json may list a token again; the last entry wins.
    added[addedById[token.id]] = std::move(token);
    return true;
  }
  addedById[token.id] = added.size();
  added.push_back(std::move(token));
  return true;
}

void Tokenizer::finishAddedTokens() {
  std::fill(std::begin(addedFirstBytes), std::end(addedFirstBytes), false);
  for (AddedToken &t : added) {
    // tokenizers normalizes the token itself before matching it against
    // normalized text.
    t.pattern = t.normalized ? normalizer.apply(t.content) : t.content;
    if (!t.pattern.empty())
      addedFirstBytes[static_cast<unsigned char>(t.pattern[0])] = true;
  }
}

void Tokenizer::addStop(int64_t id) {
  if (id >= 0 && std::find(stops.begin(), stops.end(), id) == stops.end())
    stops.push_back(id);
}

int64_t Tokenizer::vocabSize() const {
  int64_t n = model.size();
  for (const AddedToken &t : added)
    n = std::max(n, t.id + 1);
  return n;
}

int64_t Tokenizer::tokenId(const std::string &token) const {
  for (const AddedToken &t : added)
    if (t.content == token)
      return t.id;
  return model.id(token);
}

bool Tokenizer::isSpecial(int64_t id) const {
  auto it = addedById.find(id);
  return it != addedById.end() && added[it->second].special;
}

namespace {
uint32_t codePointBefore(const std::string &s, size_t end) {
  size_t i = end - 1;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xc0) == 0x80)
    --i;
  return utf8::next(s, i);
}

bool isWordChar(uint32_t cp) {
  return unicode::isAlphanumeric(cp) || cp == '_';
}
} // namespace

void Tokenizer::splitAdded(
    const std::string &text, bool normalizedTokens,
    std::vector<std::pair<std::string, int64_t>> &out) const {
  size_t pieceStart = 0, i = 0;
  while (i < text.size()) {
    // The longest added token starting here (leftmost-longest, as the
    // Aho-Corasick matcher of tokenizers).
    const AddedToken *best = nullptr;
    if (addedFirstBytes[static_cast<unsigned char>(text[i])])
      for (const AddedToken &t : added)
        if (t.normalized == normalizedTokens && !t.pattern.empty() &&
            t.pattern[0] == text[i] &&
            (!best || t.pattern.size() > best->pattern.size()) &&
            text.compare(i, t.pattern.size(), t.pattern) == 0)
          best = &t;
    if (!best) {
      ++i;
      continue;
    }
    size_t start = i, stop = i + best->pattern.size();
    if (best->singleWord &&
        ((start > 0 && isWordChar(codePointBefore(text, start))) ||
         (stop < text.size() && [&] {
           size_t k = stop;
           return isWordChar(utf8::next(text, k));
         }()))) {
      i = stop; // this occurrence is part of a word: not the token
      continue;
    }
    if (best->lstrip)
      while (start > pieceStart &&
             unicode::isWhitespace(codePointBefore(text, start))) {
        size_t k = start - 1;
        while (k > pieceStart &&
               (static_cast<unsigned char>(text[k]) & 0xc0) == 0x80)
          --k;
        start = k;
      }
    if (best->rstrip)
      while (stop < text.size()) {
        size_t k = stop;
        if (!unicode::isWhitespace(utf8::next(text, k)))
          break;
        stop = k;
      }
    if (start > pieceStart)
      out.emplace_back(text.substr(pieceStart, start - pieceStart), -1);
    out.emplace_back(text.substr(start, stop - start), best->id);
    pieceStart = i = stop;
  }
  if (pieceStart < text.size())
    out.emplace_back(text.substr(pieceStart), -1);
}

std::vector<int64_t> Tokenizer::encode(const std::string &text,
                                       bool addSpecialTokens) const {
  std::vector<int64_t> ids;
  if (addSpecialTokens)
    ids = prefix;
  std::vector<std::pair<std::string, int64_t>> raw;
  splitAdded(utf8::repair(text), /*normalizedTokens=*/false, raw);
  bool atStart = true;
  for (auto &[piece, id] : raw) {
    if (id >= 0) {
      ids.push_back(id);
      atStart = false;
      continue;
    }
    std::vector<std::pair<std::string, int64_t>> normalized;
    splitAdded(normalizer.apply(piece), /*normalizedTokens=*/true, normalized);
    for (auto &[sub, subId] : normalized) {
      if (subId >= 0) {
        ids.push_back(subId);
      } else {
        for (const Piece &word : preTokenizer.apply({{sub, atStart}}))
          model.encode(word.text, ids);
      }
      atStart = false;
    }
  }
  if (addSpecialTokens)
    ids.insert(ids.end(), suffix.begin(), suffix.end());
  return ids;
}

std::string Tokenizer::decode(const std::vector<int64_t> &ids,
                              bool skipSpecialTokens) const {
  std::vector<std::string> tokens;
  for (int64_t id : ids) {
    auto it = addedById.find(id);
    if (it != addedById.end()) {
      // A normalized token decodes from its normalized form, as in
      // tokenizers (Llama 2's "▁New▁York" for "New York").
      const AddedToken &t = added[it->second];
      if (!(skipSpecialTokens && t.special))
        tokens.push_back(t.normalized ? t.pattern : t.content);
      continue;
    }
    if (const std::string *token = model.token(id))
      tokens.push_back(*token);
  }
  if (decoder.empty()) {
    // No decoder: tokenizers joins the tokens with spaces.
    std::string text;
    for (size_t i = 0; i < tokens.size(); ++i)
      text += (i ? " " : "") + tokens[i];
    return utf8::repair(text);
  }
  return decoder.apply(std::move(tokens));
}

bool Tokenizer::applyChatTemplate(const std::vector<ChatMessage> &messages,
                                  bool addGenerationPrompt, std::string &prompt,
                                  std::string &error) const {
  if (!hasChatTemplate()) {
    error = origin + ": no chat template";
    return false;
  }
  if (!chat) {
    error = origin + ": chat template: " + chatError;
    return false;
  }
  Json context;
  context.kind = Json::Kind::Object;
  Json list;
  list.kind = Json::Kind::Array;
  for (const ChatMessage &m : messages) {
    Json message;
    message.kind = Json::Kind::Object;
    for (auto [key, value] :
         {std::pair{"role", &m.role}, {"content", &m.content}}) {
      Json v;
      v.kind = Json::Kind::String;
      v.string = *value;
      message.object.emplace_back(key, std::move(v));
    }
    list.array.push_back(std::move(message));
  }
  context.object.emplace_back("messages", std::move(list));
  Json generation;
  generation.kind = Json::Kind::Bool;
  generation.boolean = addGenerationPrompt;
  context.object.emplace_back("add_generation_prompt", generation);
  // transformers passes these as None when the caller gives none; templates
  // test `tools is not none`, which an undefined variable would pass.
  context.object.emplace_back("tools", Json{});
  context.object.emplace_back("documents", Json{});
  for (const auto &[name, token] : chatTokens) {
    Json v;
    v.kind = Json::Kind::String;
    v.string = token;
    context.object.emplace_back(name, std::move(v));
  }
  if (!chat->render(context, prompt, error)) {
    error = origin + ": chat template: " + error;
    return false;
  }
  return true;
}

std::string TextStream::push(int64_t id) {
  if (hitStop)
    return "";
  ids.push_back(id);
  std::string text = tokenizer.decode(ids, /*skipSpecialTokens=*/true);
  size_t stable = utf8::stablePrefix(text);
  size_t maxStop = 0;
  for (const std::string &s : stopStrings)
    maxStop = std::max(maxStop, s.size());
  // The first stop string ends the text before it.
  size_t from = printed > maxStop ? printed - maxStop : 0;
  size_t stopAt = std::string::npos;
  for (const std::string &s : stopStrings) {
    size_t at = s.empty() ? std::string::npos : text.find(s, from);
    if (at < stopAt)
      stopAt = at;
  }
  if (stopAt != std::string::npos) {
    hitStop = true;
    std::string out =
        stopAt > printed ? text.substr(printed, stopAt - printed) : "";
    printed = std::max(printed, stopAt);
    return out;
  }
  // Hold back an ending that may grow into a stop string.
  size_t hold = 0;
  for (const std::string &s : stopStrings) {
    if (s.empty())
      continue;
    for (size_t n = std::min(s.size() - 1, stable); n > hold; --n)
      if (text.compare(stable - n, n, s, 0, n) == 0) {
        hold = n;
        break;
      }
  }
  size_t safe = stable - hold;
  if (safe <= printed)
    return "";
  std::string out = text.substr(printed, safe - printed);
  printed = safe;
  return out;
}

std::string TextStream::finish() {
  if (hitStop)
    return "";
  std::string text = tokenizer.decode(ids, /*skipSpecialTokens=*/true);
  std::string out = text.size() > printed ? text.substr(printed) : "";
  printed = text.size();
  return out;
}

} // namespace lmc::rt
