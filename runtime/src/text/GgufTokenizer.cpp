//===- GgufTokenizer.cpp - A tokenizer from GGUF metadata -----------------===//
//
// GGUF keeps a byte-level BPE vocabulary ("gpt2") as tokens, merges and token
// types, and names its pre-tokenizer (tokenizer.ggml.pre) instead of spelling
// it out: each name maps to the steps of the tokenizer.json it stands for.
//
//===----------------------------------------------------------------------===//

#include "ChatTemplate.h"
#include "text/Tokenizer.h"

namespace lmc::rt {

namespace {
// The split patterns of the tokenizer.json files these names come from.
const char *kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char *kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char *kGpt4oPattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char *kDeepSeekV3Patterns[] = {
    R"(\p{N}{1,3})",
    R"([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)",
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"};

/// GGUF token types (llama.cpp's llama_token_type).
enum TokenType {
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6
};
} // namespace

std::unique_ptr<Tokenizer>
Tokenizer::fromGguf(const std::string &path,
                    const std::map<std::string, GgufValue> &metadata,
                    std::string &error) {
  auto get = [&](const char *key) -> const GgufValue * {
    auto it = metadata.find(key);
    return it == metadata.end() ? nullptr : &it->second;
  };
  auto fail = [&](const std::string &key, const std::string &what) {
    error = path + ": metadata '" + key + "': " + what;
    return nullptr;
  };
  auto t = std::make_unique<Tokenizer>();
  t->origin = path;
  const GgufValue *model = get("tokenizer.ggml.model");
  if (!model || model->kind != GgufValue::Kind::String)
    return fail("tokenizer.ggml.model", "missing (the file has no tokenizer)");
  if (model->string != "gpt2")
    return fail("tokenizer.ggml.model",
                "'" + model->string +
                    "' is not supported (lmc reads byte-level "
                    "BPE, 'gpt2'; use the model's Hugging Face folder)");
  const GgufValue *list = get("tokenizer.ggml.tokens");
  const GgufValue *merges = get("tokenizer.ggml.merges");
  if (!list || list->kind != GgufValue::Kind::Array)
    return fail("tokenizer.ggml.tokens", "missing");
  if (!merges || merges->kind != GgufValue::Kind::Array)
    return fail("tokenizer.ggml.merges", "missing");
  const GgufValue *types = get("tokenizer.ggml.token_type");
  std::vector<std::pair<std::string, int64_t>> entries;
  for (size_t i = 0; i < list->array.size(); ++i) {
    if (list->array[i].kind != GgufValue::Kind::String)
      return fail("tokenizer.ggml.tokens",
                  "entry " + std::to_string(i) + " is not a string");
    entries.emplace_back(list->array[i].string, int64_t(i));
  }
  std::string why;
  if (!t->model.setVocabulary(std::move(entries), why))
    return fail("tokenizer.ggml.tokens", why);
  for (size_t i = 0; i < merges->array.size(); ++i) {
    const std::string &m = merges->array[i].string;
    size_t space = m.find(' ');
    if (merges->array[i].kind != GgufValue::Kind::String ||
        space == std::string::npos)
      return fail("tokenizer.ggml.merges",
                  "entry " + std::to_string(i) + " is not 'left right'");
    if (!t->model.addMerge(m.substr(0, space), m.substr(space + 1), int(i),
                           why))
      return fail("tokenizer.ggml.merges",
                  "entry " + std::to_string(i) + ": " + why);
  }
  t->model.setOptions({}, why);
  // Control and user-defined tokens are matched before splitting.
  if (types && types->kind == GgufValue::Kind::Array)
    for (size_t i = 0; i < types->array.size() && i < list->array.size(); ++i) {
      int64_t type = types->array[i].integer;
      if (type != Control && type != UserDefined)
        continue;
      AddedToken token;
      token.content = list->array[i].string;
      token.id = int64_t(i);
      token.special = type == Control;
      if (!token.content.empty() && !t->addAddedToken(std::move(token), why))
        return fail("tokenizer.ggml.tokens", why);
    }

  // The pre-tokenizer by name, as llama.cpp reads it.
  std::string pre = "default";
  if (const GgufValue *v = get("tokenizer.ggml.pre"))
    pre = v->string;
  PreTokenizer &p = t->preTokenizer;
  bool ok = true;
  if (pre == "default" || pre == "gpt-2" || pre == "gpt2") {
    p.addByteLevel(false, true);
  } else if (pre == "smollm") {
    ok = p.addSplit("\\p{N}", SplitBehavior::Isolated, false, why);
    p.addByteLevel(false, true);
  } else if (pre == "llama3" || pre == "llama-v3" || pre == "llama-bpe") {
    ok = p.addSplit(kLlama3Pattern, SplitBehavior::Isolated, false, why);
    p.addByteLevel(false, false);
  } else if (pre == "qwen2" || pre == "deepseek-r1-qwen") {
    ok = p.addSplit(kQwen2Pattern, SplitBehavior::Isolated, false, why);
    p.addByteLevel(false, false);
  } else if (pre == "gpt-4o") {
    ok = p.addSplit(kGpt4oPattern, SplitBehavior::Isolated, false, why);
    p.addByteLevel(false, false);
  } else if (pre == "deepseek-v3") {
    for (const char *pattern : kDeepSeekV3Patterns)
      ok = ok && p.addSplit(pattern, SplitBehavior::Isolated, false, why);
    p.addByteLevel(false, false);
  } else {
    return fail("tokenizer.ggml.pre",
                "'" + pre +
                    "' is not supported (default, gpt-2, smollm, "
                    "llama-bpe, qwen2, deepseek-v3, gpt-4o are)");
  }
  if (!ok)
    return fail("tokenizer.ggml.pre", why);
  t->decoder.addByteLevel();
  t->finishAddedTokens();

  auto id = [&](const char *key) -> int64_t {
    const GgufValue *v = get(key);
    return v && v->kind == GgufValue::Kind::Int && v->integer >= 0 &&
                   v->integer < int64_t(list->array.size())
               ? v->integer
               : -1;
  };
  auto flag = [&](const char *key) {
    const GgufValue *v = get(key);
    return v && v->kind == GgufValue::Kind::Bool && v->boolean;
  };
  int64_t bos = id("tokenizer.ggml.bos_token_id");
  int64_t eos = id("tokenizer.ggml.eos_token_id");
  if (bos >= 0 && flag("tokenizer.ggml.add_bos_token"))
    t->prefix.push_back(bos);
  if (eos >= 0 && flag("tokenizer.ggml.add_eos_token"))
    t->suffix.push_back(eos);
  for (const char *key :
       {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
        "tokenizer.ggml.eom_token_id"})
    t->addStop(id(key));
  if (bos >= 0)
    t->chatTokens.emplace_back("bos_token", list->array[bos].string);
  if (eos >= 0)
    t->chatTokens.emplace_back("eos_token", list->array[eos].string);
  if (const GgufValue *v = get("tokenizer.chat_template");
      v && v->kind == GgufValue::Kind::String && !v->string.empty()) {
    t->chatSource = v->string;
    t->chat = std::make_unique<ChatTemplate>();
    if (!t->chat->parse(t->chatSource, t->chatError))
      t->chat.reset();
  }
  return t;
}

} // namespace lmc::rt
