//===- lmc-tokenize.cpp - Encode and decode with a GGUF's tokenizer -------===//
//
//   lmc-tokenize model.gguf "text"            prints the ids, comma-separated
//   lmc-tokenize model.gguf --input file.txt  the same for a file's text
//   lmc-tokenize model.gguf --decode 1,2,3    prints the text
//   lmc-tokenize model.gguf --chat "text"     encodes the chat prompt
//
//===----------------------------------------------------------------------===//

#include "Checkpoint.h"
#include "Tokenizer.h"

#include <CLI/CLI.hpp>

#include <cstdio>

int main(int argc, char **argv) {
  CLI::App app{"lmc-tokenize: the byte-level BPE tokenizer of a GGUF model"};
  std::string path, text, decode, input;
  bool chat = false;
  app.add_option("model", path, "GGUF file with tokenizer metadata")->required();
  app.add_option("text", text, "Text to encode");
  app.add_option("--decode", decode, "Comma-separated ids to decode");
  app.add_option("--input", input, "Encode the contents of this file");
  app.add_flag("--chat", chat, "Encode the text as a chat prompt");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    std::fprintf(stderr, "lmc-tokenize: error: %s\n", e.what());
    return 2;
  }
  auto fail = [](const std::string &m) {
    std::fprintf(stderr, "lmc-tokenize: error: %s\n", m.c_str());
    return 1;
  };
  std::string error;
  auto file = lmc::rt::MappedFile::open(path, error);
  if (!file)
    return fail(error);
  lmc::rt::GgufFile gguf;
  if (!gguf.parse(path, file->data(), file->size(), error))
    return fail(error);
  lmc::rt::Tokenizer tokenizer;
  if (!tokenizer.load(gguf.metadata(), error))
    return fail(path + ": " + error);
  if (!decode.empty()) {
    std::vector<int64_t> ids;
    size_t start = 0;
    while (start <= decode.size()) {
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
    std::fputs(tokenizer.decode(ids).c_str(), stdout);
    return 0;
  }
  if (!input.empty()) {
    auto contents = lmc::rt::MappedFile::open(input, error);
    if (!contents)
      return fail(error);
    text.assign(reinterpret_cast<const char *>(contents->data()), contents->size());
  }
  if (chat && !tokenizer.chatPrompt(text, text, error))
    return fail(path + ": " + error);
  std::vector<int64_t> ids = tokenizer.encode(text);
  for (size_t i = 0; i < ids.size(); ++i)
    std::printf("%s%lld", i ? "," : "", (long long)ids[i]);
  std::printf("\n");
  return 0;
}
