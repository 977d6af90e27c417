//===- HuggingFaceTokenizer.cpp - A tokenizer from a Hugging Face folder --===//
//
// tokenizer.json gives the pipeline; tokenizer_config.json the chat
// template (unless chat_template.jinja, as transformers 5 writes it, is
// there) and the special tokens the template sees; generation_config.json
// the ids that end a turn. Like transformers, the file's truncation and
// padding settings are not applied to a single prompt.
//
//===----------------------------------------------------------------------===//

#include "ChatTemplate.h"
#include "text/JsonFields.h"
#include "text/Tokenizer.h"

#include <fstream>
#include <functional>
#include <sstream>
#include <sys/stat.h>

namespace lmc::rt {

namespace {
/// tokenizer.json of the largest vocabularies is ~35 MB; far more is not a
/// tokenizer.
constexpr size_t kMaxFileBytes = size_t(512) << 20;
constexpr int64_t kMaxVocabulary = int64_t(1) << 24;

/// Reads `path`; false when it does not exist (`exists` false) or fails.
bool readFile(const std::string &path, std::string &out, bool &exists,
              std::string &error) {
  struct stat info;
  exists = ::stat(path.c_str(), &info) == 0;
  if (!exists)
    return false;
  if (!S_ISREG(info.st_mode))
    return json::fail(error, path, "not a regular file");
  if (size_t(info.st_size) > kMaxFileBytes)
    return json::fail(error, path, "larger than 512 MiB");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in)
    return json::fail(error, path, "cannot be read");
  out = text.str();
  return true;
}

bool readJson(const std::string &path, Json &out, bool &exists,
              std::string &error) {
  std::string text;
  if (!readFile(path, text, exists, error))
    return false;
  std::string why;
  if (!parseJson(text, out, why))
    return json::fail(error, path, why);
  if (out.kind != Json::Kind::Object)
    return json::fail(error, path, "expected a JSON object");
  return true;
}

/// A special token of tokenizer_config.json: a string or {"content": ...}.
bool tokenText(const Json &v, std::string &out) {
  if (v.kind == Json::Kind::String)
    return out = v.string, true;
  if (v.kind == Json::Kind::Object)
    if (const Json *c = v.get("content"); c && c->kind == Json::Kind::String)
      return out = c->string, true;
  return false;
}
} // namespace

std::unique_ptr<Tokenizer> Tokenizer::fromHuggingFace(const std::string &folder,
                                                      std::string &error) {
  std::string file = folder + "/tokenizer.json";
  Json root;
  bool exists = false;
  if (!readJson(file, root, exists, error)) {
    if (!exists)
      error = folder + ": no tokenizer.json (a Hugging Face folder needs one "
                       "for text; --prompt-ids works without)";
    return nullptr;
  }
  auto t = std::make_unique<Tokenizer>();
  t->origin = file;
  const std::string where = file + ": ";

  // The model.
  const Json *model = root.get("model");
  if (!model || model->kind != Json::Kind::Object) {
    error = where + "model: missing";
    return nullptr;
  }
  std::string type = "BPE";
  if (!json::string(*model, "type", where + "model", type, error, false))
    return nullptr;
  if (type != "BPE") {
    error = where + "model.type: '" + type +
            "' is not supported (lmc implements BPE models)";
    return nullptr;
  }
  if (const Json *dropout = model->get("dropout");
      !json::isNull(dropout) &&
      !(dropout->kind == Json::Kind::Number && dropout->number == 0)) {
    error = where + "model.dropout: BPE dropout is for training; expected null";
    return nullptr;
  }
  const Json *vocab = model->get("vocab");
  if (!vocab || vocab->kind != Json::Kind::Object) {
    error = where + "model.vocab: expected an object of token ids";
    return nullptr;
  }
  std::vector<std::pair<std::string, int64_t>> entries;
  entries.reserve(vocab->object.size());
  for (const auto &[token, id] : vocab->object) {
    int64_t value;
    if (!json::integer(id, where + "model.vocab['" + token + "']", 0,
                       kMaxVocabulary - 1, value, error))
      return nullptr;
    entries.emplace_back(token, value);
  }
  std::string why;
  if (!t->model.setVocabulary(std::move(entries), why)) {
    error = where + "model.vocab: " + why;
    return nullptr;
  }
  const Json *merges = model->get("merges");
  if (!merges || merges->kind != Json::Kind::Array) {
    error = where + "model.merges: expected a list";
    return nullptr;
  }
  for (size_t i = 0; i < merges->array.size(); ++i) {
    const Json &m = merges->array[i];
    std::string at = where + "model.merges[" + std::to_string(i) + "]";
    std::string left, right;
    // "left right" (older files) or ["left", "right"].
    if (m.kind == Json::Kind::String) {
      size_t space = m.string.find(' ');
      if (space == std::string::npos ||
          m.string.find(' ', space + 1) != std::string::npos) {
        error = at + ": expected two tokens separated by one space";
        return nullptr;
      }
      left = m.string.substr(0, space);
      right = m.string.substr(space + 1);
    } else if (m.kind == Json::Kind::Array && m.array.size() == 2 &&
               m.array[0].kind == Json::Kind::String &&
               m.array[1].kind == Json::Kind::String) {
      left = m.array[0].string;
      right = m.array[1].string;
    } else {
      error = at + ": expected \"left right\" or [left, right]";
      return nullptr;
    }
    if (!t->model.addMerge(left, right, int(i), why)) {
      error = at + ": " + why;
      return nullptr;
    }
  }
  Bpe::Options options;
  if (!json::boolean(*model, "byte_fallback", where + "model",
                     options.byteFallback, error) ||
      !json::boolean(*model, "fuse_unk", where + "model", options.fuseUnknown,
                     error) ||
      !json::boolean(*model, "ignore_merges", where + "model",
                     options.ignoreMerges, error) ||
      !json::string(*model, "unk_token", where + "model", options.unknown,
                    error, false) ||
      !json::string(*model, "continuing_subword_prefix", where + "model",
                    options.continuingSubwordPrefix, error, false) ||
      !json::string(*model, "end_of_word_suffix", where + "model",
                    options.endOfWordSuffix, error, false))
    return nullptr;
  if (!t->model.setOptions(options, why)) {
    error = where + "model.unk_token: " + why;
    return nullptr;
  }

  // Added tokens.
  if (const Json *list = root.get("added_tokens"); !json::isNull(list)) {
    if (list->kind != Json::Kind::Array) {
      error = where + "added_tokens: expected a list";
      return nullptr;
    }
    for (size_t i = 0; i < list->array.size(); ++i) {
      const Json &entry = list->array[i];
      std::string at = where + "added_tokens[" + std::to_string(i) + "]";
      AddedToken token;
      const Json *id = entry.get("id");
      if (entry.kind != Json::Kind::Object || !id) {
        error = at + ": expected an object with an id";
        return nullptr;
      }
      if (!json::integer(*id, at + ".id", 0, kMaxVocabulary - 1, token.id,
                         error) ||
          !json::string(entry, "content", at, token.content, error) ||
          !json::boolean(entry, "special", at, token.special, error) ||
          !json::boolean(entry, "lstrip", at, token.lstrip, error) ||
          !json::boolean(entry, "rstrip", at, token.rstrip, error) ||
          !json::boolean(entry, "single_word", at, token.singleWord, error) ||
          !json::boolean(entry, "normalized", at, token.normalized, error))
        return nullptr;
      if (!t->addAddedToken(std::move(token), why)) {
        error = at + ": " + why;
        return nullptr;
      }
    }
  }

  // The pipeline.
  static const Json null;
  auto part = [&](const char *key) -> const Json & {
    const Json *v = root.get(key);
    return v ? *v : null;
  };
  if (!t->normalizer.configure(part("normalizer"), where + "normalizer",
                               error) ||
      !t->preTokenizer.configure(part("pre_tokenizer"), where + "pre_tokenizer",
                                 error) ||
      !t->decoder.configure(part("decoder"), where + "decoder", error))
    return nullptr;

  // The post-processor: the special tokens around a single sequence.
  std::function<bool(const Json &, const std::string &)> post =
      [&](const Json &p, const std::string &at) -> bool {
    if (p.kind == Json::Kind::Null)
      return true;
    std::string kind;
    if (p.kind != Json::Kind::Object ||
        !json::string(p, "type", at, kind, error))
      return error.empty() ? json::fail(error, at, "expected an object")
                           : false;
    if (kind == "ByteLevel")
      return true; // offsets only
    if (kind == "Sequence") {
      const Json *list = p.get("processors");
      if (!list || list->kind != Json::Kind::Array)
        return json::fail(error, at + ".processors", "expected a list");
      for (size_t i = 0; i < list->array.size(); ++i)
        if (!post(list->array[i],
                  at + ".processors[" + std::to_string(i) + "]"))
          return false;
      return true;
    }
    if (kind == "BertProcessing" || kind == "RobertaProcessing") {
      for (auto [key, into] :
           {std::pair{"cls", &t->prefix}, {"sep", &t->suffix}}) {
        const Json *v = p.get(key);
        int64_t id;
        if (!v || v->kind != Json::Kind::Array || v->array.size() != 2 ||
            !json::integer(v->array[1], at + "." + key + "[1]", 0,
                           kMaxVocabulary - 1, id, error))
          return error.empty()
                     ? json::fail(error, at + "." + key, "expected [token, id]")
                     : false;
        into->push_back(id);
      }
      return true;
    }
    if (kind == "TemplateProcessing") {
      const Json *single = p.get("single");
      const Json *specials = p.get("special_tokens");
      if (!single || single->kind != Json::Kind::Array)
        return json::fail(error, at + ".single", "expected a list");
      bool afterSequence = false;
      for (size_t i = 0; i < single->array.size(); ++i) {
        const Json &item = single->array[i];
        std::string itemAt = at + ".single[" + std::to_string(i) + "]";
        if (item.get("Sequence")) {
          afterSequence = true;
          continue;
        }
        const Json *special = item.get("SpecialToken");
        std::string name;
        if (!special || !json::string(*special, "id", itemAt + ".SpecialToken",
                                      name, error))
          return error.empty() ? json::fail(error, itemAt,
                                            "expected Sequence or SpecialToken")
                               : false;
        const Json *entry = specials ? specials->get(name) : nullptr;
        const Json *ids = entry ? entry->get("ids") : nullptr;
        if (!ids || ids->kind != Json::Kind::Array)
          return json::fail(error, at + ".special_tokens['" + name + "'].ids",
                            "missing");
        for (size_t k = 0; k < ids->array.size(); ++k) {
          int64_t id;
          if (!json::integer(ids->array[k],
                             at + ".special_tokens['" + name + "'].ids[" +
                                 std::to_string(k) + "]",
                             0, kMaxVocabulary - 1, id, error))
            return false;
          (afterSequence ? t->suffix : t->prefix).push_back(id);
        }
      }
      return true;
    }
    return json::fail(error, at + ".type",
                      "post-processor '" + kind + "' is not supported");
  };
  if (!post(part("post_processor"), where + "post_processor"))
    return nullptr;
  t->finishAddedTokens();
  // The ids the post-processor adds must name tokens (tokenizers does not
  // check; the model would refuse them only when it runs).
  for (const std::vector<int64_t> *ids : {&t->prefix, &t->suffix})
    for (int64_t id : *ids)
      if (id >= t->vocabSize()) {
        json::fail(error, where + "post_processor",
                   "token id " + std::to_string(id) +
                       " is not in the vocabulary (" +
                       std::to_string(t->vocabSize()) + " tokens)");
        return nullptr;
      }

  // tokenizer_config.json: the chat template and the special tokens it sees.
  Json config;
  std::string configFile = folder + "/tokenizer_config.json";
  if (!readJson(configFile, config, exists, error) && exists)
    return nullptr;
  error.clear();
  if (exists) {
    for (const char *name : {"bos_token", "eos_token", "unk_token", "pad_token",
                             "sep_token", "cls_token", "mask_token"})
      if (const Json *v = config.get(name)) {
        std::string text;
        if (tokenText(*v, text))
          t->chatTokens.emplace_back(name, text);
      }
    if (const Json *v = config.get("chat_template"); !json::isNull(v)) {
      if (v->kind == Json::Kind::String) {
        t->chatSource = v->string;
      } else if (v->kind == Json::Kind::Array) {
        // Named templates: the default one.
        for (const Json &named : v->array) {
          const Json *name = named.get("name"), *source = named.get("template");
          if (name && source && name->kind == Json::Kind::String &&
              name->string == "default" && source->kind == Json::Kind::String)
            t->chatSource = source->string;
        }
        if (t->chatSource.empty()) {
          error = configFile + ": chat_template: no template named 'default'";
          return nullptr;
        }
      } else {
        error = configFile + ": chat_template: expected a string or a list";
        return nullptr;
      }
    }
  }
  std::string jinja;
  if (readFile(folder + "/chat_template.jinja", jinja, exists, error))
    t->chatSource = jinja;
  else if (exists)
    return nullptr;
  error.clear();
  if (!t->chatSource.empty()) {
    t->chat = std::make_unique<ChatTemplate>();
    if (!t->chat->parse(t->chatSource, t->chatError))
      t->chat.reset(); // reported when a chat prompt is asked for
  }

  // The ids that end a turn: generation_config.json's eos_token_id (one or a
  // list), else the tokenizer's eos_token.
  Json generation;
  std::string generationFile = folder + "/generation_config.json";
  if (!readJson(generationFile, generation, exists, error) && exists)
    return nullptr;
  error.clear();
  if (exists)
    if (const Json *eos = generation.get("eos_token_id"); !json::isNull(eos)) {
      std::vector<Json> ids =
          eos->kind == Json::Kind::Array ? eos->array : std::vector<Json>{*eos};
      for (size_t i = 0; i < ids.size(); ++i) {
        int64_t id;
        if (!json::integer(ids[i], generationFile + ": eos_token_id", 0,
                           kMaxVocabulary - 1, id, error))
          return nullptr;
        t->addStop(id);
      }
    }
  for (const auto &[name, text] : t->chatTokens)
    if (name == "eos_token")
      t->addStop(t->tokenId(text));
  return t;
}

} // namespace lmc::rt
