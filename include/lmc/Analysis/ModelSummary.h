//===- ModelSummary.h - Parameter and cache accounting ----------*- C++ -*-===//
//
// What `lmc inspect` and `lm-print-model-summary` report about an imported
// model: parameters (total and active per token) and inference-state bytes,
// all read off the IR (weight ops, expert routing, state types).
//
//===----------------------------------------------------------------------===//

#ifndef LMC_ANALYSIS_MODELSUMMARY_H
#define LMC_ANALYSIS_MODELSUMMARY_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <string>

namespace mlir::lm {

/// The states of one kind and shape (e.g. every full-attention KV cache).
struct StateGroup {
  std::string type;           ///< the state type as printed
  int64_t count = 0;          ///< layers holding such a state
  int64_t valuesPerToken = 0; ///< per layer; 0 for constant-size state
  int64_t tokensPerEntry = 1; ///< compression ratio of compressed caches
  int64_t window = 0;         ///< tokens kept at most (0: the whole context)
  int64_t valuesPerSequence = 0; ///< per layer, constant-size state
  int64_t elementBytes = 0;
};

struct ModelSummary {
  std::string modelType;
  int64_t numLayers = 0, hidden = 0, vocab = 0;
  int64_t totalParams = 0;
  /// Parameters read per token: routed experts count top_k/experts of theirs,
  /// an embedding table only looked up counts one row.
  double activeParams = 0;
  std::map<std::string, StateGroup> states;

  /// Values and bytes one more token of context adds: the caches of layers
  /// that attend to the whole context (sliding windows stop growing).
  double cacheValuesPerToken() const;
  double cacheBytesPerToken() const;
  /// Bytes of full sliding-window caches per sequence.
  int64_t windowBytesPerSequence() const;
  /// Bytes of constant-size state per sequence (recurrent states, pending
  /// compression rows).
  int64_t stateBytesPerSequence() const;
};

/// Summarises the `@forward` function of `module`; fails when there is none
/// (without a diagnostic: the caller reports it).
FailureOr<ModelSummary> summarizeModel(ModuleOp module);

void printModelSummary(const ModelSummary &summary, llvm::raw_ostream &os);

} // namespace mlir::lm

#endif // LMC_ANALYSIS_MODELSUMMARY_H
