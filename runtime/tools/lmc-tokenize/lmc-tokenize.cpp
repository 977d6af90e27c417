//===- lmc-tokenize.cpp - Encode, decode and render chat prompts ----------===//
//
//   lmc-tokenize MODEL "text"              the ids, comma-separated
//   lmc-tokenize MODEL --input a.txt ...   one line of ids per file
//   lmc-tokenize MODEL --decode 1,2,3      the text
//   lmc-tokenize MODEL --chat "question"   the ids of the chat prompt
//                      [--system "..."] [--show-prompt]
//   lmc-tokenize MODEL --check reference.json
//   lmc-tokenize --render-template t.jinja --context c.json
//
// MODEL is a Hugging Face folder (tokenizer.json), a tokenizer.json or a
// GGUF file. Everything but --render-template goes through the C API, so the
// reference tests cover it.
//
//===----------------------------------------------------------------------===//

#include "lmc_rt/lmc_rt.h"

#include "Checkpoint.h"
#include "Json.h"
#include "text/ChatTemplate.h"

#include <CLI/CLI.hpp>

#include <cstdio>

using namespace lmc::rt;

namespace {
int fail(const std::string &message) {
  std::fprintf(stderr, "lmc-tokenize: error: %s\n", message.c_str());
  return 1;
}

bool readText(const std::string &path, std::string &out, std::string &error) {
  auto file = MappedFile::open(path, error);
  if (!file)
    return false;
  out.assign(reinterpret_cast<const char *>(file->data()), file->size());
  return true;
}

int failRuntime() { return fail(lmc_rt_last_error()); }

/// The C API's two-call convention, as vectors and strings.
struct Tokenizer {
  lmc_rt_tokenizer_t *handle = nullptr;
  ~Tokenizer() { lmc_rt_tokenizer_free(handle); }

  std::vector<int64_t> encode(const std::string &text, bool addSpecial) const {
    std::vector<int64_t> ids(text.size() + 8);
    size_t count = 0;
    lmc_rt_tokenizer_encode(handle, text.data(), text.size(), addSpecial,
                            ids.data(), ids.size(), &count);
    if (count > ids.size()) {
      ids.resize(count);
      lmc_rt_tokenizer_encode(handle, text.data(), text.size(), addSpecial,
                              ids.data(), ids.size(), &count);
    }
    ids.resize(count);
    return ids;
  }
  std::string decode(const std::vector<int64_t> &ids, bool skipSpecial) const {
    size_t length = 0;
    lmc_rt_tokenizer_decode(handle, ids.data(), ids.size(), skipSpecial,
                            nullptr, 0, &length);
    std::string text(length, '\0');
    lmc_rt_tokenizer_decode(handle, ids.data(), ids.size(), skipSpecial,
                            text.data(), text.size(), &length);
    return text;
  }
};

void printIds(const std::vector<int64_t> &ids) {
  for (size_t i = 0; i < ids.size(); ++i)
    std::printf("%s%lld", i ? "," : "", static_cast<long long>(ids[i]));
  std::printf("\n");
}

std::string join(const std::vector<int64_t> &ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i)
    s += (i ? "," : "") + std::to_string(ids[i]);
  return s;
}

/// Compares the tokenizer with a reference made by the `tokenizers` package
/// (scripts/make-tokenizer-references.py): every case's ids with and without
/// special tokens and its decoded text with and without them.
int check(const Tokenizer &tokenizer, const std::string &path) {
  std::string text, error;
  Json root;
  if (!readText(path, text, error))
    return fail(error);
  if (!parseJson(text, root, error))
    return fail(path + ": " + error);
  const Json *cases = root.get("cases");
  if (!cases || cases->kind != Json::Kind::Array)
    return fail(path + ": cases: expected a list");
  auto ids = [](const Json *list) {
    std::vector<int64_t> out;
    if (list)
      for (const Json &v : list->array)
        out.push_back(int64_t(v.number));
    return out;
  };
  auto string = [](const Json *v) { return v ? v->string : std::string(); };
  int failures = 0;
  for (size_t i = 0; i < cases->array.size(); ++i) {
    const Json &c = cases->array[i];
    std::string input = string(c.get("text"));
    if (const Json *hex = c.get("hex")) {
      input.clear();
      for (size_t k = 0; k + 1 < hex->string.size(); k += 2)
        input += char(std::stoi(hex->string.substr(k, 2), nullptr, 16));
    }
    std::vector<int64_t> plain = tokenizer.encode(input, false);
    std::vector<int64_t> special = tokenizer.encode(input, true);
    std::string decoded = tokenizer.decode(special, false);
    std::string skipped = tokenizer.decode(special, true);
    auto report = [&](const char *what, const std::string &got,
                      const std::string &want) {
      if (got == want)
        return;
      ++failures;
      std::printf("case %zu %s:\n  got  %s\n  want %s\n", i, what, got.c_str(),
                  want.c_str());
    };
    report("ids", join(plain), join(ids(c.get("ids"))));
    report("ids with special tokens", join(special), join(ids(c.get("ids_with_special"))));
    report("decoded", decoded, string(c.get("decoded")));
    report("decoded skipping special tokens", skipped,
           string(c.get("decoded_skip_special")));
  }
  std::printf("%s: %zu cases, %d mismatches\n", path.c_str(),
              cases->array.size(), failures);
  return failures ? 1 : 0;
}
} // namespace

int main(int argc, char **argv) {
  CLI::App app{"lmc-tokenize: a model's tokenizer and chat template"};
  std::string model, text, decode, chat, system, reference, templatePath, contextPath;
  std::vector<std::string> inputs;
  bool addSpecial = false, skipSpecial = false, showPrompt = false;
  app.add_option("model", model,
                 "Hugging Face folder, tokenizer.json or GGUF file");
  app.add_option("text", text, "Text to encode");
  app.add_option("--input", inputs, "Encode this file's bytes (repeatable: a line each)");
  app.add_flag("--add-special-tokens", addSpecial,
               "Add the tokens the post-processor puts around a sequence (BOS)");
  app.add_option("--decode", decode, "Comma-separated ids to decode");
  app.add_flag("--skip-special-tokens", skipSpecial, "Leave special tokens out of --decode");
  app.add_option("--chat", chat, "A user message: encode the chat prompt for it");
  app.add_option("--system", system, "A system message before --chat's");
  app.add_flag("--show-prompt", showPrompt, "Print the chat prompt's text, not its ids");
  app.add_option("--check", reference, "Compare with a reference file of the tokenizers package");
  app.add_option("--render-template", templatePath, "Render this chat template (no model needed)");
  app.add_option("--context", contextPath, "The JSON object --render-template sees");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    return fail(e.what());
  }
  std::string error;

  if (!templatePath.empty()) {
    std::string source, contextText;
    Json context;
    if (contextPath.empty())
      return fail("--render-template needs --context");
    if (!readText(templatePath, source, error) || !readText(contextPath, contextText, error))
      return fail(error);
    if (!parseJson(contextText, context, error))
      return fail(contextPath + ": " + error);
    ChatTemplate chatTemplate;
    std::string out;
    // Reference files render with a fixed clock (strftime_now).
    chatTemplate.setNow(1733300000);
    if (!chatTemplate.parse(source, error) || !chatTemplate.render(context, out, error))
      return fail(templatePath + ": " + error);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }
  if (model.empty())
    return fail("a model (Hugging Face folder, tokenizer.json or GGUF) is required");
  Tokenizer tokenizer;
  if (lmc_rt_tokenizer_load(model.c_str(), &tokenizer.handle) != LMC_RT_OK)
    return failRuntime();

  if (!reference.empty())
    return check(tokenizer, reference);
  if (!decode.empty()) {
    std::vector<int64_t> ids;
    size_t start = 0;
    while (true) {
      size_t end = decode.find(',', start);
      std::string item = decode.substr(start, end == std::string::npos ? end : end - start);
      char *rest = nullptr;
      long long id = std::strtoll(item.c_str(), &rest, 10);
      if (item.empty() || *rest)
        return fail("--decode: '" + item + "' is not a token id");
      ids.push_back(id);
      if (end == std::string::npos)
        break;
      start = end + 1;
    }
    std::string out = tokenizer.decode(ids, skipSpecial);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }
  if (!chat.empty()) {
    std::vector<lmc_rt_chat_message_t> messages;
    if (!system.empty())
      messages.push_back({"system", system.c_str()});
    messages.push_back({"user", chat.c_str()});
    size_t length = 0;
    if (lmc_rt_tokenizer_apply_chat_template(tokenizer.handle, messages.data(),
                                             messages.size(), 1, nullptr, 0,
                                             &length) != LMC_RT_OK)
      return failRuntime();
    std::string prompt(length, '\0');
    lmc_rt_tokenizer_apply_chat_template(tokenizer.handle, messages.data(),
                                         messages.size(), 1, prompt.data(),
                                         prompt.size(), &length);
    if (showPrompt)
      std::fwrite(prompt.data(), 1, prompt.size(), stdout);
    else
      printIds(tokenizer.encode(prompt, false));
    return 0;
  }
  if (!inputs.empty()) {
    for (const std::string &path : inputs) {
      std::string contents;
      if (!readText(path, contents, error))
        return fail(error);
      printIds(tokenizer.encode(contents, addSpecial));
    }
    return 0;
  }
  printIds(tokenizer.encode(text, addSpecial));
  return 0;
}
