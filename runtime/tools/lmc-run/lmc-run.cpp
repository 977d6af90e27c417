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
#include "RunOptions.h"
#include "text/Tokenizer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
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

/// A named [B, S, V] f32 tensor of logits.
struct NamedLogits {
  const char *name;
  const std::vector<float> *values;
};

/// Writes `tensors` (each [B, S, V]) as a safetensors file, atomically: a
/// temporary file renamed into place, so a failure leaves nothing behind.
bool writeLogits(const std::string &path,
                 const std::vector<NamedLogits> &tensors, int64_t b, int64_t s,
                 int64_t v, std::string &error) {
  std::string header = "{";
  size_t offset = 0;
  for (const NamedLogits &t : tensors) {
    size_t bytes = t.values->size() * sizeof(float);
    header += std::string(header.size() > 1 ? "," : "") + "\"" + t.name +
              "\":{\"dtype\":\"F32\",\"shape\":[" + std::to_string(b) + "," +
              std::to_string(s) + "," + std::to_string(v) +
              "],\"data_offsets\":[" + std::to_string(offset) + "," +
              std::to_string(offset + bytes) + "]}";
    offset += bytes;
  }
  header += "}";
  while (header.size() % 8)
    header += ' ';
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    uint64_t n = header.size();
    out.write(reinterpret_cast<const char *>(&n), 8);
    out.write(header.data(), header.size());
    for (const NamedLogits &t : tensors)
      out.write(reinterpret_cast<const char *>(t.values->data()),
                t.values->size() * sizeof(float));
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

/// A session of `batch` sequences of up to `context` tokens, as `o` asks;
/// `lastLogits`: it only asks for each sequence's last logits (generation),
/// so a GPU reserves logits for one row per sequence.
lmc_rt_session_options_t sessionOptions(const lmc::run::RunOptions &o,
                                        int64_t batch, int64_t context,
                                        bool lastLogits = false) {
  return {batch, context,
          (o.noGraphs ? LMC_RT_SESSION_NO_GRAPHS : 0u) |
              (lastLogits ? LMC_RT_SESSION_LAST_LOGITS : 0u),
          o.maxTokens};
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
/// `steps` decode steps of `batch` tokens, after an untimed warm-up run of
/// the same calls (first-call costs: kernel lookup, tensor maps, and on a
/// GPU the capture of each decode graph). A step's time is its forward
/// pass, each sequence's last logits back on the host included (what
/// generation reads: lmc_rt_session_forward_last), sampling not.
static bool runBench(Model &m, const lmc::run::RunOptions &o, int64_t batch,
                     int64_t promptLength, int64_t steps, uint64_t seed) {
  int64_t vocab = lmc_rt_model_vocab_size(m.model);
  lmc_rt_session_options_t options =
      sessionOptions(o, batch, promptLength + steps, /*lastLogits=*/true);
  if (lmc_rt_session_create(m.model, &options, &m.session) != LMC_RT_OK)
    return false;
  std::mt19937_64 rng(seed);
  std::vector<int64_t> prompt(batch * promptLength), next(batch);
  for (int64_t &id : prompt)
    id = int64_t(rng() % uint64_t(vocab));
  // Each step's logits of each sequence's last token, as generation uses
  // them.
  std::vector<float> logits(size_t(batch * vocab));
  std::vector<int64_t> lengths(batch, promptLength), ones(batch, 1);
  using Clock = std::chrono::steady_clock;
  double prefill = 0, decode = 0;
  for (int timed = 0; timed < 2; ++timed) {
    lmc_rt_session_reset(m.session);
    auto t0 = Clock::now();
    if (lmc_rt_session_forward_last(m.session, prompt.data(), promptLength,
                                    lengths.data(), logits.data()) != LMC_RT_OK)
      return false;
    auto t1 = Clock::now();
    prefill = std::chrono::duration<double>(t1 - t0).count();
    // Greedy next tokens, picked outside the timed forward passes.
    decode = 0;
    for (int64_t i = 0; i < steps; ++i) {
      for (int64_t b = 0; b < batch; ++b)
        next[b] =
            lmc_rt_sample(logits.data() + b * vocab, vocab, nullptr, nullptr);
      auto t2 = Clock::now();
      if (lmc_rt_session_forward_last(m.session, next.data(), 1, ones.data(),
                                      logits.data()) != LMC_RT_OK)
        return false;
      decode += std::chrono::duration<double>(Clock::now() - t2).count();
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

/// The logits each sequence of a generation got: its prompt's rows, then
/// one row per generated token but the last.
using SequenceLogits = std::vector<std::vector<float>>;

/// Generates `o.maxNewTokens` tokens for each of `prompts` in one session
/// (a ragged batch when they differ in length), writing them to `generated`
/// and the logits of every step to `seen` (of every prompt token with
/// `all`, else of its last). Sampling draws from one random stream,
/// sequence after sequence.
static bool generate(Model &m, const lmc::run::RunOptions &o,
                     const std::vector<std::vector<int64_t>> &prompts, bool all,
                     std::vector<std::vector<int64_t>> &generated,
                     SequenceLogits &seen) {
  const int64_t batch = prompts.size(),
                vocab = lmc_rt_model_vocab_size(m.model);
  int64_t tokens = 0;
  for (const std::vector<int64_t> &p : prompts)
    tokens = std::max<int64_t>(tokens, p.size());
  int64_t context = o.maxContext ? o.maxContext : tokens + o.maxNewTokens;
  lmc_rt_session_options_t options =
      sessionOptions(o, batch, context, /*lastLogits=*/!all);
  lmc_rt_session_free(m.session);
  m.session = nullptr;
  if (lmc_rt_session_create(m.model, &options, &m.session) != LMC_RT_OK)
    return false;
  std::vector<int64_t> ids(size_t(batch * tokens), 0), lengths(batch);
  for (int64_t b = 0; b < batch; ++b) {
    std::copy(prompts[b].begin(), prompts[b].end(), ids.begin() + b * tokens);
    lengths[b] = prompts[b].size();
  }
  // Every prompt row's logits where they are compared (`all`), else each
  // prompt's last only, as generation needs.
  std::vector<float> logits((all ? ids.size() : size_t(batch)) * size_t(vocab));
  if ((all ? lmc_rt_session_forward_ragged(m.session, ids.data(), tokens,
                                           lengths.data(), logits.data())
           : lmc_rt_session_forward_last(m.session, ids.data(), tokens,
                                         lengths.data(), logits.data())) !=
      LMC_RT_OK)
    return false;
  generated.assign(batch, {});
  seen.assign(batch, {});
  for (int64_t b = 0; b < batch; ++b)
    seen[b].assign(logits.begin() + (all ? b * tokens : b) * vocab,
                   logits.begin() +
                       (all ? b * tokens + lengths[b] : b + 1) * vocab);
  lmc_rt_sampler_t sampler = {o.temperature, o.topK, o.topP, o.seed};
  uint64_t state = o.seed;
  std::vector<int64_t> next(batch), ones(batch, 1);
  for (int64_t i = 0; i < o.maxNewTokens; ++i) {
    for (int64_t b = 0; b < batch; ++b) {
      const float *last = seen[b].data() + seen[b].size() - vocab;
      next[b] = lmc_rt_sample(last, vocab, &sampler, &state);
      generated[b].push_back(next[b]);
    }
    if (i + 1 == o.maxNewTokens)
      break;
    // One token a sequence: its row is its last.
    if (lmc_rt_session_forward_last(m.session, next.data(), 1, ones.data(),
                                    logits.data()) != LMC_RT_OK)
      return false;
    for (int64_t b = 0; b < batch; ++b)
      seen[b].insert(seen[b].end(), logits.begin() + b * vocab,
                     logits.begin() + (b + 1) * vocab);
  }
  return true;
}

/// Several --prompt-ids: one ragged batch; prints each sequence's tokens on
/// its own line. With --check-ragged, each sequence is run again alone, fed
/// the same tokens, and its logits compared.
static int runBatch(Model &m, const lmc::run::RunOptions &o,
                    const std::vector<std::vector<int64_t>> &prompts) {
  std::vector<std::vector<int64_t>> generated;
  SequenceLogits seen;
  if (!generate(m, o, prompts, /*all=*/o.checkRagged, generated, seen))
    return failRuntime();
  for (const std::vector<int64_t> &ids : generated) {
    for (size_t i = 0; i < ids.size(); ++i)
      std::printf("%s%lld", i ? " " : "", (long long)ids[i]);
    std::printf("\n");
  }
  if (!o.checkRagged)
    return 0;
  int status = 0;
  const int64_t vocab = lmc_rt_model_vocab_size(m.model);
  for (size_t b = 0; b < prompts.size(); ++b) {
    // Alone, with the batch's calls: its prompt, then each token the batch
    // generated for it (but the last), one call each.
    lmc_rt_session_options_t options =
        sessionOptions(o, 1, int64_t(prompts[b].size() + generated[b].size()));
    lmc_rt_session_free(m.session);
    m.session = nullptr;
    if (lmc_rt_session_create(m.model, &options, &m.session) != LMC_RT_OK)
      return failRuntime();
    std::vector<std::vector<float>> reference(1);
    reference[0].resize(prompts[b].size() * size_t(vocab));
    if (lmc_rt_session_forward(m.session, prompts[b].data(), prompts[b].size(),
                               reference[0].data()) != LMC_RT_OK)
      return failRuntime();
    std::vector<float> step(vocab);
    for (size_t i = 0; i + 1 < generated[b].size(); ++i) {
      if (lmc_rt_session_forward(m.session, &generated[b][i], 1, step.data()) !=
          LMC_RT_OK)
        return failRuntime();
      reference[0].insert(reference[0].end(), step.begin(), step.end());
    }
    double err =
        relativeError(seen[b].data(), reference[0].data(), reference[0].size());
    bool ok = seen[b].size() == reference[0].size() && err <= o.tolerance;
    std::printf("sequence %zu (%zu + %zu tokens): batch vs alone: "
                "max|diff| / max|alone| = %.3g (tolerance %.3g): %s\n",
                b, prompts[b].size(), generated[b].size(), err, o.tolerance,
                ok ? "ok" : "MISMATCH");
    status |= !ok;
  }
  return status;
}

/// Runs what `o` asks for; returns the exit status.
static int run(const lmc::run::RunOptions &o) {
  std::string error;
  // Bad ids are refused before the model is loaded.
  std::vector<std::vector<int64_t>> prompts;
  for (const std::string &text : o.promptIds)
    if (!lmc::run::parsePromptIds(text, prompts.emplace_back(), error))
      return fail(error);
  std::vector<int64_t> prompt =
      prompts.empty() ? std::vector<int64_t>() : prompts.front();
  Model m;
  if (lmc_rt_model_load_on(o.device == "cuda" ? LMC_RT_DEVICE_CUDA
                                            : LMC_RT_DEVICE_HOST,
                           o.artifact.c_str(),
                           o.weights.empty() ? nullptr : o.weights.c_str(),
                           &m.model) != LMC_RT_OK)
    return failRuntime();
  const int64_t vocab = lmc_rt_model_vocab_size(m.model);

  if (!o.input.empty()) {
    std::vector<int64_t> tokens;
    int64_t b = 0, s = 0;
    if (!lmc::run::readInputIds(o.input, tokens, b, s, error))
      return fail(error);
    lmc_rt_session_options_t options =
        sessionOptions(o, b, o.maxContext ? o.maxContext : s);
    if (lmc_rt_session_create(m.model, &options, &m.session) != LMC_RT_OK)
      return failRuntime();
    std::vector<float> logits(size_t(b * s * vocab));
    if (lmc_rt_session_forward(m.session, tokens.data(), s, logits.data()) !=
        LMC_RT_OK)
      return failRuntime();
    // Token-by-token decode: a fresh session fed one token at a time.
    std::vector<float> stepped;
    if (o.checkDecode || o.compareDecode) {
      lmc_rt_session_reset(m.session);
      stepped.resize(logits.size());
      std::vector<float> step(size_t(b * vocab));
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
    }
    if (!o.output.empty()) {
      std::vector<NamedLogits> written = {{"logits", &logits}};
      if (!stepped.empty())
        written.push_back({"decode_logits", &stepped});
      if (!writeLogits(o.output, written, b, s, vocab, error))
        return fail(error);
    }
    int status = 0;
    auto check = [&](const char *what, const std::vector<float> &seen,
                     const float *want, const char *reference) {
      double err = relativeError(seen.data(), want, seen.size());
      bool ok = err <= o.tolerance;
      std::printf("%s: max|diff| / max|%s| = %.3g (tolerance %.3g): %s\n", what,
                  reference, err, o.tolerance, ok ? "ok" : "MISMATCH");
      status |= !ok;
    };
    if (!o.compare.empty()) {
      Checkpoint ref;
      if (!ref.open(o.compare, error))
        return fail(error);
      auto expect = [&](const char *name) -> const float * {
        const CheckpointTensor *want = ref.find(name);
        if (!want || want->dtype != "F32" ||
            want->shape != std::vector<int64_t>{b, s, vocab}) {
          error = o.compare + ": expected tensor '" + name + "' F32 [" +
                  std::to_string(b) + ", " + std::to_string(s) + ", " +
                  std::to_string(vocab) + "]";
          return nullptr;
        }
        return reinterpret_cast<const float *>(want->data);
      };
      const float *want = expect("logits");
      if (!want)
        return fail(error);
      check("logits", logits, want, "ref");
      if (o.compareDecode) {
        const float *wantDecode = expect("decode_logits");
        if (!wantDecode)
          return fail(error);
        check("decode logits", stepped, wantDecode, "ref");
      }
    }
    // Decode must reproduce the prefill (where both phases run the same
    // arithmetic: MLA's absorbed decode and expanded prefill differ under
    // bf16 products by the roundings, docs/dialect.md).
    if (o.checkDecode)
      check("decode vs prefill", stepped, logits.data(), "prefill");
    return status;
  }

  std::unique_ptr<lmc::rt::Tokenizer> tokenizer;
  bool text = !o.promptText.empty();
  if (text) {
    // The tokenizer of the model's source: its folder (the checkpoint's, for
    // a .safetensors file) or its GGUF.
    std::string source = o.tokenizerPath;
    if (source.empty()) {
      source = lmc_rt_model_weights_source(m.model);
      size_t slash = source.rfind('/');
      if (source.size() > 12 &&
          source.compare(source.size() - 12, 12, ".safetensors") == 0)
        source = slash == std::string::npos ? "." : source.substr(0, slash);
    }
    tokenizer = lmc::rt::Tokenizer::load(source, error);
    if (!tokenizer)
      return fail(error);
    std::string full = o.promptText;
    if (o.chat) {
      std::vector<lmc::rt::ChatMessage> messages;
      if (!o.system.empty())
        messages.push_back({"system", o.system});
      messages.push_back({"user", o.promptText});
      if (!tokenizer->applyChatTemplate(messages, true, full, error))
        return fail(error);
    }
    // A chat prompt has its special tokens written out; plain text gets
    // those the tokenizer adds (BOS), as transformers' encode does.
    prompt = tokenizer->encode(full, /*addSpecialTokens=*/!o.chat);
    if (prompt.empty())
      return fail("--prompt: the prompt encodes to no tokens");
  } else if (o.bench) {
    return runBench(m, o, o.benchBatch, o.benchPrompt, o.benchDecode, o.seed)
               ? 0
               : failRuntime();
  } else if (prompts.size() > 1) {
    return runBatch(m, o, prompts);
  }
  int64_t context = o.maxContext ? o.maxContext : int64_t(prompt.size()) + o.maxNewTokens;
  lmc_rt_session_options_t options =
      sessionOptions(o, 1, context, /*lastLogits=*/true);
  if (lmc_rt_session_create(m.model, &options, &m.session) != LMC_RT_OK)
    return failRuntime();

  using Clock = std::chrono::steady_clock;
  // The prompt's last logits are all generation needs.
  std::vector<float> logits(vocab);
  const int64_t promptLength = prompt.size();
  auto t0 = Clock::now();
  if (lmc_rt_session_forward_last(m.session, prompt.data(), promptLength,
                                  &promptLength, logits.data()) != LMC_RT_OK)
    return failRuntime();
  auto t1 = Clock::now();
  lmc_rt_sampler_t sampler = {o.temperature, o.topK, o.topP, o.seed};
  uint64_t state = o.seed;
  std::vector<int64_t> generated;
  std::unique_ptr<lmc::rt::TextStream> stream;
  if (text)
    stream = std::make_unique<lmc::rt::TextStream>(*tokenizer, o.stopStrings);
  auto print = [](const std::string &piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
  };
  const float *last = logits.data();
  std::vector<float> step(vocab);
  for (int64_t i = 0; i < o.maxNewTokens; ++i) {
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
    if (i + 1 == o.maxNewTokens)
      break;
    const int64_t one = 1;
    if (lmc_rt_session_forward_last(m.session, &next, 1, &one, step.data()) !=
        LMC_RT_OK)
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

int main(int argc, char **argv) {
  lmc::run::RunOptions o;
  std::string error;
  switch (lmc::run::parseRunOptions(argc, argv, o, error)) {
  case lmc::run::ParseOutcome::Help:
    std::fputs(error.c_str(), stdout);
    return 0;
  case lmc::run::ParseOutcome::Error:
    return fail(error);
  case lmc::run::ParseOutcome::Run:
    break;
  }
  try {
    return run(o);
  } catch (const std::bad_alloc &) {
    return fail("out of memory (the input, prompt or vocabulary is too large "
                "for this machine)");
  }
}
