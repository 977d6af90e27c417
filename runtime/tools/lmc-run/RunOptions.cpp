//===- RunOptions.cpp - lmc-run's command line and inputs -----------------===//

#include "RunOptions.h"

#include "Checkpoint.h"
#include "Printable.h"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace lmc::run {

ParseOutcome parseRunOptions(int argc, const char *const *argv, RunOptions &o,
                             std::string &message) {
  CLI::App app{"lmc-run: run a compiled lmc model (.lmx)", "lmc-run"};
  app.add_option("model", o.artifact, "The compiled model (.lmx)")->required();
  app.add_option("--device", o.device, "Where to run: host or cuda (GPU 0)")
      ->check(CLI::IsMember({"host", "cuda"}));
  app.add_option(
      "--weights", o.weights,
      "Model folder or .safetensors (default: where it was compiled from)");
  app.add_option("--input", o.input, "safetensors with input_ids [B, S] int64");
  app.add_option("--output", o.output,
                 "Where to write logits [B, S, V] float32");
  app.add_option("--prompt-ids", o.promptIds,
                 "Comma-separated prompt token ids; repeated, the prompts "
                 "of a batch (of any lengths)")
      ->allow_extra_args(false)
      ->take_all();
  app.add_option("--prompt", o.promptText,
                 "Prompt text (the tokenizer of the model's folder or GGUF); "
                 "the continuation is printed as it is generated");
  app.add_flag("--chat", o.chat,
               "--prompt is a user message: render the model's chat template");
  app.add_option("--system", o.system, "With --chat: a system message first");
  app.add_option("--stop", o.stopStrings,
                 "With --prompt: stop before this text (repeatable); the "
                 "model's end-of-turn tokens always stop");
  app.add_option("--tokenizer", o.tokenizerPath,
                 "Hugging Face folder, tokenizer.json or GGUF to read the "
                 "tokenizer from (default: the weights' source)");
  app.add_option("--max-new-tokens", o.maxNewTokens, "Tokens to generate")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 30));
  app.add_option("--max-context", o.maxContext,
                 "Context to allocate (default: prompt + new tokens)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 30));
  app.add_option("--max-tokens", o.maxTokens,
                 "Tokens per sequence one step takes (default: the context); "
                 "longer prompts run as several steps, and on a GPU the "
                 "session reserves its buffers for this many")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 30));
  app.add_option("--temperature", o.temperature, "0 = greedy")
      ->check(CLI::Range(0.0f, 100.0f));
  app.add_option("--top-k", o.topK, "Sample among the k best (0 = all)")
      ->check(CLI::Range(0, 1 << 30));
  app.add_option("--top-p", o.topP, "Nucleus sampling threshold")
      ->check(CLI::Range(0.0f, 1.0f));
  app.add_option("--seed", o.seed, "Random seed for sampling");
  app.add_flag("--bench", o.bench,
               "Print prefill and decode tokens per second");
  app.add_flag("--no-graphs", o.noGraphs,
               "With --device cuda: launch every kernel of each decode step "
               "instead of replaying the step's captured CUDA graph");
  app.add_option("--compare", o.compare,
                 "With --input: check the logits against this file's 'logits'");
  app.add_flag("--check-decode", o.checkDecode,
               "With --input: check that token-by-token decode with the cache "
               "gives the logits of the full prefill");
  app.add_flag("--compare-decode", o.compareDecode,
               "With --input and --compare: check token-by-token decode's "
               "logits against the file's 'decode_logits' (which --output "
               "writes beside 'logits' with --check-decode or "
               "--compare-decode): each phase against a reference run of "
               "the same arithmetic");
  app.add_flag("--check-ragged", o.checkRagged,
               "With several --prompt-ids: check that each sequence of the "
               "batch gets the logits it gets alone, prompt and generated "
               "tokens");
  app.add_option("--tolerance", o.tolerance,
                 "Largest max|diff| / max|reference| --compare, "
                 "--compare-decode, --check-decode and --check-ragged accept")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--bench-prompt", o.benchPrompt, "Prompt tokens for --bench")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  app.add_option("--bench-decode", o.benchDecode, "Decode steps for --bench")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  app.add_option("--bench-batch", o.benchBatch,
                 "Sequences per step for --bench")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 16));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &) {
    message = app.help();
    return ParseOutcome::Help;
  } catch (const CLI::ParseError &e) {
    // One line, whatever the arguments held (CLI11 quotes them).
    message = lmc::rt::printable(e.what(), 400);
    return ParseOutcome::Error;
  }

  auto error = [&](const char *what) {
    message = what;
    return ParseOutcome::Error;
  };
  int modes =
      !o.input.empty() + !o.promptIds.empty() + !o.promptText.empty() + o.bench;
  if (modes != 1)
    return error("give exactly one of --input, --prompt-ids, --prompt or "
                 "--bench");
  if (o.chat && o.promptText.empty())
    return error("--chat needs --prompt");
  if (!o.system.empty() && !o.chat)
    return error("--system needs --chat");
  if (!o.stopStrings.empty() && o.promptText.empty())
    return error("--stop needs --prompt");
  if (o.noGraphs && o.device != "cuda")
    return error("--no-graphs needs --device cuda");
  if (o.checkRagged && o.promptIds.size() < 2)
    return error("--check-ragged needs two or more --prompt-ids");
  if (!o.input.empty() && o.output.empty() && o.compare.empty() &&
      !o.checkDecode)
    return error("--input needs --output, --compare or --check-decode");
  if (o.compareDecode && (o.input.empty() || o.compare.empty()))
    return error("--compare-decode needs --input and --compare");
  return ParseOutcome::Run;
}

bool parsePromptIds(const std::string &text, std::vector<int64_t> &ids,
                    std::string &error) {
  ids.clear();
  size_t start = 0;
  while (true) {
    size_t end = text.find(',', start);
    std::string item = text.substr(
        start, end == std::string::npos ? std::string::npos : end - start);
    bool digits = !item.empty() && item.size() <= 19 &&
                  item.find_first_not_of("0123456789") == std::string::npos;
    errno = 0;
    long long id = digits ? std::strtoll(item.c_str(), nullptr, 10) : -1;
    if (!digits || errno == ERANGE) {
      error = "--prompt-ids: '" + lmc::rt::printable(item, 40) +
              "' is not a token id";
      return false;
    }
    ids.push_back(id);
    if (end == std::string::npos)
      return true;
    start = end + 1;
  }
}

bool readInputIds(const std::string &path, std::vector<int64_t> &ids,
                  int64_t &batch, int64_t &tokens, std::string &error) {
  lmc::rt::Checkpoint in;
  if (!in.open(path, error))
    return false;
  const lmc::rt::CheckpointTensor *t = in.find("input_ids");
  if (!t) {
    error = path + ": missing tensor 'input_ids'";
    return false;
  }
  if (t->dtype != "I64" || t->shape.size() != 2 || t->shape[0] < 1 ||
      t->shape[1] < 1) {
    error = path + ": tensor 'input_ids' must be I64 [batch, tokens], both "
                   "at least 1";
    return false;
  }
  batch = t->shape[0];
  tokens = t->shape[1];
  if (t->size / sizeof(int64_t) / uint64_t(tokens) < uint64_t(batch) ||
      uint64_t(batch * tokens) * sizeof(int64_t) != t->size) {
    error = path + ": tensor 'input_ids' holds " + std::to_string(t->size) +
            " bytes, not the " + std::to_string(batch) + " x " +
            std::to_string(tokens) + " ids its shape says";
    return false;
  }
  ids.resize(size_t(batch * tokens));
  std::memcpy(ids.data(), t->data, ids.size() * sizeof(int64_t));
  return true;
}

} // namespace lmc::run
