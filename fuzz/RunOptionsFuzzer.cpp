//===- RunOptionsFuzzer.cpp - Any bytes as lmc-run's flags and inputs -----===//
//
// The first byte picks what the rest is: lmc-run's arguments (separated by
// NUL bytes), the text of --prompt-ids, or the safetensors file of --input.
// Each must be accepted or refused with one line; what is accepted must be
// consistent (ids not negative, a batch x tokens tensor of that many ids).
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"
#include "RunOptions.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

using namespace lmc::run;

static bool oneLine(const std::string &message) {
  return !message.empty() && message.find('\n') == std::string::npos;
}

static void arguments(const std::string &text) {
  std::vector<std::string> items = {"lmc-run"};
  size_t start = 0;
  for (size_t end; (end = text.find('\0', start)) != std::string::npos;
       start = end + 1)
    items.push_back(text.substr(start, end - start));
  items.push_back(text.substr(start));
  std::vector<const char *> argv;
  for (const std::string &item : items)
    argv.push_back(item.c_str());
  RunOptions options;
  std::string message;
  switch (parseRunOptions(int(argv.size()), argv.data(), options, message)) {
  case ParseOutcome::Error:
    LMC_FUZZ_CHECK(oneLine(message), "a refusal is one line");
    return;
  case ParseOutcome::Help:
    LMC_FUZZ_CHECK(!message.empty(), "help has text");
    return;
  case ParseOutcome::Run:
    break;
  }
  int modes = !options.input.empty() + !options.promptIds.empty() +
              !options.promptText.empty() + options.bench;
  LMC_FUZZ_CHECK(modes == 1, "an accepted command line has one mode");
  std::vector<int64_t> ids;
  for (const std::string &prompt : options.promptIds)
    if (!parsePromptIds(prompt, ids, message))
      LMC_FUZZ_CHECK(oneLine(message), "a refusal is one line");
}

static void promptIds(const std::string &text) {
  std::vector<int64_t> ids;
  std::string error;
  if (!parsePromptIds(text, ids, error)) {
    LMC_FUZZ_CHECK(oneLine(error), "a refusal is one line");
    return;
  }
  LMC_FUZZ_CHECK(!ids.empty(), "accepted ids are not empty");
  for (int64_t id : ids)
    LMC_FUZZ_CHECK(id >= 0, "accepted ids are not negative");
}

static void inputFile(const std::string &bytes) {
  static const std::string path = [] {
    char folder[] = "/tmp/lmc-fuzz-input-XXXXXX";
    if (!mkdtemp(folder))
      std::abort();
    return std::string(folder) + "/input.safetensors";
  }();
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() ||
      std::fclose(f) != 0)
    std::abort();
  std::vector<int64_t> ids;
  int64_t batch = 0, tokens = 0;
  std::string error;
  if (!readInputIds(path, ids, batch, tokens, error)) {
    LMC_FUZZ_CHECK(oneLine(error), "a refusal is one line");
    return;
  }
  LMC_FUZZ_CHECK(batch >= 1 && tokens >= 1 &&
                     ids.size() == size_t(batch) * size_t(tokens),
                 "the ids fill the [batch, tokens] shape");
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  std::string rest(reinterpret_cast<const char *>(data) + 1, size - 1);
  switch (data[0] % 3) {
  case 0:
    arguments(rest);
    break;
  case 1:
    promptIds(rest);
    break;
  default:
    inputFile(rest);
    break;
  }
  return 0;
}
