//===- RunOptions.h - lmc-run's command line and inputs ---------*- C++ -*-===//
//
// What lmc-run reads before it runs anything: its flags, the ids of
// --prompt-ids and the input_ids tensor of --input. Kept apart from the run
// itself so that a fuzz target (fuzz/RunOptionsFuzzer.cpp) drives exactly
// the parsing the tool does.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RUN_RUNOPTIONS_H
#define LMC_RUN_RUNOPTIONS_H

#include <cstdint>
#include <string>
#include <vector>

namespace lmc::run {

struct RunOptions {
  std::string artifact, weights, device = "host";
  // Exactly one mode: --input, --prompt-ids, --prompt or --bench.
  std::string input, output, compare, promptText;
  // One sequence per --prompt-ids: several run as one ragged batch.
  std::vector<std::string> promptIds;
  bool bench = false, checkDecode = false, checkRagged = false;
  // With --input and --compare: the token-by-token decode logits against
  // the file's 'decode_logits'.
  bool compareDecode = false;
  // With --device cuda: launch every decode step instead of its graph.
  bool noGraphs = false;
  // Text in, text out.
  bool chat = false;
  std::string system, tokenizerPath;
  std::vector<std::string> stopStrings;
  // Generation.
  int64_t maxNewTokens = 16, maxContext = 0;
  // Tokens per sequence one step takes (0: the whole context).
  int64_t maxTokens = 0;
  float temperature = 0, topP = 1;
  int topK = 0;
  uint64_t seed = 0;
  double tolerance = 1e-3;
  int64_t benchPrompt = 64, benchDecode = 32, benchBatch = 1;
};

enum class ParseOutcome {
  Run,   ///< `options` holds a consistent request
  Help,  ///< --help: `message` is the help text, for stdout
  Error, ///< `message` is one line saying what is wrong
};

/// Parses lmc-run's command line (argv[0] is the program) into `options`,
/// checking each value's range and that the flags go together.
ParseOutcome parseRunOptions(int argc, const char *const *argv,
                             RunOptions &options, std::string &message);

/// The ids of "5,17,9"; false with `error` on anything but a comma-separated
/// list of non-negative decimal integers that fit int64.
bool parsePromptIds(const std::string &text, std::vector<int64_t> &ids,
                    std::string &error);

/// The `input_ids` tensor (I64 [batch, tokens], neither zero) of the
/// safetensors file `path`; false with a one-line `error` naming the file.
bool readInputIds(const std::string &path, std::vector<int64_t> &ids,
                  int64_t &batch, int64_t &tokens, std::string &error);

} // namespace lmc::run

#endif // LMC_RUN_RUNOPTIONS_H
