//===- lmc-run.cpp - Run a compiled model ---------------------------------===//
//
//   lmc-run model.lmx [--weights DIR] --input in.safetensors --output out.safetensors
//   lmc-run model.lmx [--weights DIR] --prompt-ids 5,17,9 --max-new-tokens 8
//   lmc-run model.lmx --prompt "text" [--chat [--system "..."]] [--stop STR]
//                                         (text in, text out: the tokenizer of
//                                          the model's folder or GGUF)
//   lmc-run model.lmx --bench
//
//===----------------------------------------------------------------------===//

#include "lmc_rt/lmc_rt.h"

#include "Checkpoint.h"
#include "text/Tokenizer.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using lmc::rt::Checkpoint;
using lmc::rt::CheckpointTensor;

namespace {
int fail(const std::string &message) {
  std::fprintf(stderr, "lmc-run: error: %s\n", message.c_str());
  return 1;
}

int failRuntime() { return fail(lmc_rt_last_error()); }

/// Writes `logits` [B, S, V] as a safetensors file, atomically: a temporary
/// file renamed into place, so a failure leaves nothing behind.
bool writeLogits(const std::string &path, const std::vector<float> &logits,
                 int64_t b, int64_t s, int64_t v, std::string &error) {
  std::string header = "{\"logits\":{\"dtype\":\"F32\",\"shape\":[" +
                       std::to_string(b) + "," + std::to_string(s) + "," +
                       std::to_string(v) + "],\"data_offsets\":[0," +
                       std::to_string(logits.size() * 4) + "]}}";
  while (header.size() % 8)
    header += ' ';
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    uint64_t n = header.size();
    out.write(reinterpret_cast<const char *>(&n), 8);
    out.write(header.data(), header.size());
    out.write(reinterpret_cast<const char *>(logits.data()),
              logits.size() * sizeof(float));
    if (!out) {
      std::remove(tmp.c_str());
      error = path + ": write failed";
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    error = path + ": cannot write";
    return false;
  }
  return true;
}

/// max|a - b| / max|b|.
double relativeError(const float *a, const float *b, size_t n) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < n; ++i) {
    diff = std::max(diff, double(std::fabs(a[i] - b[i])));
    scale = std::max(scale, double(std::fabs(b[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

struct Model {
  lmc_rt_model_t *model = nullptr;
  lmc_rt_session_t *session = nullptr;
  ~Model() {
    lmc_rt_session_free(session);
    lmc_rt_model_free(model);
  }
};
} // namespace

/// Times a prefill of `batch` random prompts of `promptLength` tokens, then
/// `steps` decode steps of `batch` tokens, after one untimed warm-up of
/// each (first-call costs: kernel lookup, allocator growth). A step's time
/// is its forward pass, logits back on the host included, sampling not.
static bool runBench(Model &m, int64_t batch, int64_t promptLength,
                     int64_t steps, uint64_t seed) {
  int64_t vocab = lmc_rt_model_vocab_size(m.model);
  lmc_rt_session_options_t options = {batch, promptLength + steps};
  if (lmc_rt_session_create(m.model, &options, &m.session) != LMC_RT_OK)
    return false;
  std::mt19937_64 rng(seed);
  std::vector<int64_t> prompt(batch * promptLength), next(batch);
  for (int64_t &id : prompt)
    id = int64_t(rng() % uint64_t(vocab));
  std::vector<float> logits(prompt.size() * size_t(vocab));
  using Clock = std::chrono::steady_clock;
  double prefill = 0, decode = 0;
  for (int timed = 0; timed < 2; ++timed) {
    lmc_rt_session_reset(m.session);
    auto t0 = Clock::now();
    if (lmc_rt_session_forward(m.session, prompt.data(), promptLength,
                               logits.data()) != LMC_RT_OK)
      return false;
    auto t1 = Clock::now();
    prefill = std::chrono::duration<double>(t1 - t0).count();
    // Greedy next tokens, picked outside the timed forward passes.
    decode = 0;
    int64_t row = promptLength;
    for (int64_t i = 0; i < (timed ? steps : 1); ++i) {
      for (int64_t b = 0; b < batch; ++b)
        next[b] = lmc_rt_sample(logits.data() + ((b + 1) * row - 1) * vocab,
                                vocab, nullptr, nullptr);
      auto t2 = Clock::now();
      if (lmc_rt_session_forward(m.session, next.data(), 1, logits.data()) !=
          LMC_RT_OK)
        return false;
      decode += std::chrono::duration<double>(Clock::now() - t2).count();
      row = 1;
    }
  }
  std::printf("prefill: %lld x %lld tokens in %.3f s, %.1f tokens/s\n",
              (long long)batch, (long long)promptLength, prefill,
              batch * promptLength / prefill);
  std::printf("decode: %lld x %lld tokens in %.3f s, %.1f tokens/s "
              "(%.2f ms per step)\n",
              (long long)batch, (long long)steps, decode,
              batch * steps / decode, 1e3 * decode / steps);
  return true;
}

int main(int argc, char **argv) {
  std::string error0;
  CLI::App app{"lmc-run: run a compiled lmc model (.lmx)"};
  std::string artifact, weights, input, output, promptIds, promptText, system,
      tokenizerPath;
  std::vector<std::string> stopStrings;
  bool chat = false;
  int64_t maxNewTokens = 16, maxContext = 0, benchPrompt = 64, benchDecode = 32,
          benchBatch = 1;
  float temperature = 0, topP = 1;
  int topK = 0;
  uint64_t seed = 0;
  bool bench = false, checkDecode = false;
  std::string compare;
  double tolerance = 1e-3;
  std::string device = "host";
  app.add_option("model", artifact, "The compiled model (.lmx)")->required();
  app.add_option("--device", device, "Where to run: host or cuda (GPU 0)")
      ->check(CLI::IsMember({"host", "cuda"}));
  app.add_option("--weights", weights,
                 "Model folder or .safetensors (default: where it was compiled from)");
  app.add_option("--input", input, "safetensors with input_ids [B, S] int64");
  app.add_option("--output", output, "Where to write logits [B, S, V] float32");
  app.add_option("--prompt-ids", promptIds, "Comma-separated prompt token ids");
  app.add_option("--prompt", promptText,
                 "Prompt text (the tokenizer of the model's folder or GGUF); "
                 "the continuation is printed as it is generated");
  app.add_flag("--chat", chat,
               "--prompt is a user message: render the model's chat template");
  app.add_option("--system", system, "With --chat: a system message first");
  app.add_option("--stop", stopStrings,
                 "With --prompt: stop before this text (repeatable); the "
                 "model's end-of-turn tokens always stop");
  app.add_option("--tokenizer", tokenizerPath,
                 "Hugging Face folder, tokenizer.json or GGUF to read the "
                 "tokenizer from (default: the weights' source)");
  app.add_option("--max-new-tokens", maxNewTokens, "Tokens to generate")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 30));
  app.add_option("--max-context", maxContext,
                 "Context to allocate (default: prompt + new tokens)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 30));
  app.add_option("--temperature", temperature, "0 = greedy")
      ->check(CLI::Range(0.0f, 100.0f));
  app.add_option("--top-k", topK, "Sample among the k best (0 = all)")
      ->check(CLI::Range(0, 1 << 30));
  app.add_option("--top-p", topP, "Nucleus sampling threshold")
      ->check(CLI::Range(0.0f, 1.0f));
  app.add_option("--seed", seed, "Random seed for sampling");
  app.add_flag("--bench", bench, "Print prefill and decode tokens per second");
  app.add_option("--compare", compare,
                 "With --input: check the logits against this file's 'logits'");
  app.add_flag("--check-decode", checkDecode,
               "With --input: check that token-by-token decode with the cache "
               "gives the logits of the full prefill");
  app.add_option("--tolerance", tolerance,
                 "Largest max|diff| / max|reference| --compare and "
                 "--check-decode accept")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--bench-prompt", benchPrompt, "Prompt tokens for --bench")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  app.add_option("--bench-decode", benchDecode, "Decode steps for --bench")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  app.add_option("--bench-batch", benchBatch, "Sequences per step for --bench")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 16));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    return fail(e.what());
  }
  int modes = !input.empty() + !promptIds.empty() + !promptText.empty() + bench;
  if (modes != 1)
    return fail("give exactly one of --input, --prompt-ids, --prompt or --bench");
  if (chat && promptText.empty())
    return fail("--chat needs --prompt");
  if (!system.empty() && !chat)
    return fail("--system needs --chat");
  if (!stopStrings.empty() && promptText.empty())
    return fail("--stop needs --prompt");
  if (!input.empty() && output.empty() && compare.empty() && !checkDecode)
    return fail("--input needs --output, --compare or --check-decode");

  Model m;
  if (lmc_rt_model_load_on(device == "cuda" ? LMC_RT_DEVICE_CUDA
                                            : LMC_RT_DEVICE_HOST,
                           artifact.c_str(),
                           weights.empty() ? nullptr : weights.c_str(),
                           &m.model) != LMC_RT_OK)
    return failRuntime();
  const int64_t vocab = lmc_rt_model_vocab_size(m.model);

  if (!input.empty()) {
    Checkpoint in;
    std::string error;
    if (!in.open(input, error))
      return fail(error);
    const CheckpointTensor *ids = in.find("input_ids");
    if (!ids)
      return fail(input + ": missing tensor 'input_ids'");
    if (ids->dtype != "I64" || ids->shape.size() != 2)
      return fail(input + ": tensor 'input_ids' must be I64 [batch, tokens]");
    int64_t b = ids->shape[0], s = ids->shape[1];
    lmc_rt_session_options_t options = {b, maxContext ? maxContext : s};
    if (lmc_rt_session_create(m.model, &options, &m.session) != LMC_RT_OK)
      return failRuntime();
    std::vector<int64_t> tokens(b * s);
    std::memcpy(tokens.data(), ids->data, tokens.size() * 8);
    std::vector<float> logits(size_t(b * s * vocab));
    if (lmc_rt_session_forward(m.session, tokens.data(), s, logits.data()) !=
        LMC_RT_OK)
      return failRuntime();
    if (!output.empty() && !writeLogits(output, logits, b, s, vocab, error))
      return fail(error);
    int status = 0;
    if (!compare.empty()) {
      Checkpoint ref;
      if (!ref.open(compare, error))
        return fail(error);
      const CheckpointTensor *want = ref.find("logits");
      if (!want || want->dtype != "F32" ||
          want->shape != std::vector<int64_t>{b, s, vocab})
        return fail(compare + ": expected tensor 'logits' F32 [" +
                    std::to_string(b) + ", " + std::to_string(s) + ", " +
                    std::to_string(vocab) + "]");
      double err = relativeError(logits.data(),
                                 reinterpret_cast<const float *>(want->data),
                                 logits.size());
      bool ok = err <= tolerance;
      std::printf("logits: max|diff| / max|ref| = %.3g (tolerance %.3g): %s\n",
                  err, tolerance, ok ? "ok" : "MISMATCH");
      status |= !ok;
    }
    if (checkDecode) {
      // A fresh session fed one token at a time must reproduce the prefill.
      lmc_rt_session_reset(m.session);
      std::vector<float> stepped(logits.size()), step(size_t(b * vocab));
      std::vector<int64_t> column(b);
      for (int64_t t = 0; t < s; ++t) {
        for (int64_t i = 0; i < b; ++i)
          column[i] = tokens[i * s + t];
        if (lmc_rt_session_forward(m.session, column.data(), 1, step.data()) !=
            LMC_RT_OK)
          return failRuntime();
        for (int64_t i = 0; i < b; ++i)
          std::copy(step.begin() + i * vocab, step.begin() + (i + 1) * vocab,
                    stepped.begin() + (i * s + t) * vocab);
      }
      double err = relativeError(stepped.data(), logits.data(), logits.size());
      bool ok = err <= tolerance;
      std::printf("decode vs prefill: max|diff| / max|prefill| = %.3g "
                  "(tolerance %.3g): %s\n",
                  err, tolerance, ok ? "ok" : "MISMATCH");
      status |= !ok;
    }
    return status;
  }

  std::vector<int64_t> prompt;
  std::unique_ptr<lmc::rt::Tokenizer> tokenizer;
  bool text = !promptText.empty();
  if (text) {
    // The tokenizer of the model's source: its folder (the checkpoint's, for
    // a .safetensors file) or its GGUF.
    std::string source = tokenizerPath;
    if (source.empty()) {
      source = lmc_rt_model_weights_source(m.model);
      size_t slash = source.rfind('/');
      if (source.size() > 12 &&
          source.compare(source.size() - 12, 12, ".safetensors") == 0)
        source = slash == std::string::npos ? "." : source.substr(0, slash);
    }
    tokenizer = lmc::rt::Tokenizer::load(source, error0);
    if (!tokenizer)
      return fail(error0);
    std::string full = promptText;
    if (chat) {
      std::vector<lmc::rt::ChatMessage> messages;
      if (!system.empty())
        messages.push_back({"system", system});
      messages.push_back({"user", promptText});
      if (!tokenizer->applyChatTemplate(messages, true, full, error0))
        return fail(error0);
    }
    // A chat prompt has its special tokens written out; plain text gets
    // those the tokenizer adds (BOS), as transformers' encode does.
    prompt = tokenizer->encode(full, /*addSpecialTokens=*/!chat);
    if (prompt.empty())
      return fail("--prompt: the prompt encodes to no tokens");
  } else if (bench) {
    return runBench(m, benchBatch, benchPrompt, benchDecode, seed)
               ? 0
               : failRuntime();
  } else {
    size_t start = 0;
    while (start <= promptIds.size()) {
      size_t end = promptIds.find(',', start);
      std::string item = promptIds.substr(start, end == std::string::npos
                                                     ? std::string::npos
                                                     : end - start);
      char *rest = nullptr;
      long long id = std::strtoll(item.c_str(), &rest, 10);
      if (item.empty() || *rest)
        return fail("--prompt-ids: '" + item + "' is not a token id");
      prompt.push_back(id);
      if (end == std::string::npos)
        break;
      start = end + 1;
    }
  }
  int64_t context = maxContext ? maxContext : int64_t(prompt.size()) + maxNewTokens;
  lmc_rt_session_options_t options = {1, context};
  if (lmc_rt_session_create(m.model, &options, &m.session) != LMC_RT_OK)
    return failRuntime();

  using Clock = std::chrono::steady_clock;
  std::vector<float> logits(prompt.size() * size_t(vocab));
  auto t0 = Clock::now();
  if (lmc_rt_session_forward(m.session, prompt.data(), prompt.size(),
                             logits.data()) != LMC_RT_OK)
    return failRuntime();
  auto t1 = Clock::now();
  lmc_rt_sampler_t sampler = {temperature, topK, topP, seed};
  uint64_t state = seed;
  std::vector<int64_t> generated;
  std::unique_ptr<lmc::rt::TextStream> stream;
  if (text)
    stream = std::make_unique<lmc::rt::TextStream>(*tokenizer, stopStrings);
  auto print = [](const std::string &piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
  };
  const float *last = logits.data() + (prompt.size() - 1) * vocab;
  std::vector<float> step(vocab);
  for (int64_t i = 0; i < maxNewTokens; ++i) {
    int64_t next = lmc_rt_sample(last, vocab, &sampler, &state);
    generated.push_back(next);
    if (text) {
      // Stream the text; stop at an end-of-turn token or a stop string.
      const std::vector<int64_t> &stops = tokenizer->stopIds();
      if (std::find(stops.begin(), stops.end(), next) != stops.end())
        break;
      print(stream->push(next));
      if (stream->stopped())
        break;
    }
    if (i + 1 == maxNewTokens)
      break;
    if (lmc_rt_session_forward(m.session, &next, 1, step.data()) != LMC_RT_OK)
      return failRuntime();
    last = step.data();
  }
  auto t2 = Clock::now();
  double prefill = std::chrono::duration<double>(t1 - t0).count();
  double decode = std::chrono::duration<double>(t2 - t1).count();
  if (text) {
    print(stream->finish());
    std::printf("\n");
    std::fflush(stdout);
    std::fprintf(stderr, "prefill: %zu tokens, %.1f tokens/s; decode: %zu tokens, %.1f tokens/s\n",
                 prompt.size(), prompt.size() / prefill, generated.size() - 1,
                 generated.size() > 1 ? (generated.size() - 1) / decode : 0.0);
    return 0;
  }
  for (size_t i = 0; i < generated.size(); ++i)
    std::printf("%s%lld", i ? " " : "", (long long)generated[i]);
  std::printf("\n");
  return 0;
}
