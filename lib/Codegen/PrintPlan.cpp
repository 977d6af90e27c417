//===- PrintPlan.cpp - An artifact's launch plan, traced without a GPU ----===//

#include "lmc/Codegen/Artifact.h"

#include "lmc_rt/lmc_rt.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Format.h"

#include <algorithm>
#include <vector>

namespace mlir::lm {

namespace {
/// Frees the model and session however printPlan returns.
struct Traced {
  lmc_rt_model_t *model = nullptr;
  lmc_rt_session_t *session = nullptr;
  ~Traced() {
    lmc_rt_session_free(session);
    lmc_rt_model_free(model);
  }
};

/// The template a kernel is named after: its name without the suffix
/// outlining adds to make it unique (`weight_streaming_12`).
llvm::StringRef templateOf(llvm::StringRef kernel) {
  llvm::StringRef stem = kernel.rtrim("0123456789");
  return stem.size() < kernel.size() && stem.ends_with("_") ? stem.drop_back()
                                                              : kernel;
}

/// Prints one phase's launches, and returns their count.
size_t printPhase(lmc_rt_model_t *model, llvm::StringRef phase,
                  llvm::raw_ostream &os) {
  const lmc_rt_launch_t *launches = nullptr;
  uint64_t allocated = 0;
  size_t count = lmc_rt_model_take_trace(model, &launches, &allocated);
  llvm::StringSet<> kernels;
  for (size_t i = 0; i < count; ++i)
    kernels.insert(launches[i].kernel);
  os << phase << ": " << count << " launches of " << kernels.size()
     << " kernels, " << allocated << " bytes allocated on the device\n";
  // Launches per template, most first.
  llvm::StringMap<size_t> perTemplate;
  for (size_t i = 0; i < count; ++i)
    ++perTemplate[templateOf(launches[i].kernel)];
  std::vector<std::pair<std::string, size_t>> templates;
  for (const auto &entry : perTemplate)
    templates.emplace_back(entry.getKey().str(), entry.getValue());
  std::sort(templates.begin(), templates.end(), [](auto &a, auto &b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  os << "templates:";
  for (auto [i, entry] : llvm::enumerate(templates))
    os << (i ? ", " : " ") << entry.first << " " << entry.second;
  os << "\n";
  for (size_t i = 0; i < count; ++i) {
    const lmc_rt_launch_t &l = launches[i];
    std::string grid = std::to_string(l.grid[0]) + "x" +
                       std::to_string(l.grid[1]) + "x" +
                       std::to_string(l.grid[2]);
    std::string block = std::to_string(l.block[0]) + "x" +
                        std::to_string(l.block[1]) + "x" +
                        std::to_string(l.block[2]);
    os << llvm::format("  %4zu  %-28s grid %-14s block %-10s shared %u\n", i,
                       l.kernel, grid.c_str(), block.c_str(), l.shared_bytes);
  }
  return count;
}
} // namespace

LogicalResult printPlan(llvm::StringRef path, int64_t batch,
                        int64_t promptTokens, llvm::raw_ostream &os,
                        std::string &error) {
  Traced t;
  std::string file = path.str();
  if (lmc_rt_model_load_on(LMC_RT_DEVICE_TRACE, file.c_str(), nullptr,
                           &t.model) != LMC_RT_OK) {
    error = lmc_rt_last_error();
    return failure();
  }
  uint64_t weightBytes = 0, stateBytes = 0;
  lmc_rt_model_take_trace(t.model, nullptr, &weightBytes);
  // One decode step after the prompt; as generation, each step asks for
  // each sequence's last logits.
  lmc_rt_session_options_t options = {batch, promptTokens + 1,
                                      LMC_RT_SESSION_LAST_LOGITS};
  if (lmc_rt_session_create(t.model, &options, &t.session) != LMC_RT_OK) {
    error = file + ": " + lmc_rt_last_error();
    return failure();
  }
  lmc_rt_model_take_trace(t.model, nullptr, &stateBytes);
  // The session reserves its state and every step's buffers at creation.
  os << "plan of " << path << " (traced without a GPU)\n"
     << "model: " << weightBytes
     << " bytes on the device (weights, the tensor-map table)\n"
     << "session for " << batch << " x " << promptTokens + 1
     << " tokens: " << stateBytes << " bytes on the device, of which "
     << lmc_rt_session_workspace_bytes(t.session)
     << " workspace for the largest step\n";

  const int64_t vocab = lmc_rt_model_vocab_size(t.model);
  std::vector<int64_t> ids(size_t(batch * promptTokens), 0),
      lengths(size_t(batch), promptTokens), ones(size_t(batch), 1);
  std::vector<float> logits(size_t(batch * vocab));
  if (lmc_rt_session_forward_last(t.session, ids.data(), promptTokens,
                                  lengths.data(), logits.data()) != LMC_RT_OK) {
    error = file + ": " + lmc_rt_last_error();
    return failure();
  }
  printPhase(t.model,
             "prefill (" + std::to_string(batch) + " x " +
                 std::to_string(promptTokens) +
                 " tokens), each prompt's last logits",
             os);
  if (lmc_rt_session_forward_last(t.session, ids.data(), 1, ones.data(),
                                  logits.data()) != LMC_RT_OK) {
    error = file + ": " + lmc_rt_last_error();
    return failure();
  }
  printPhase(t.model,
             "decode step (" + std::to_string(batch) +
                 " x 1 token, one CUDA "
                 "graph)",
             os);
  return success();
}

} // namespace mlir::lm
