//===- ModelBuilder.h - Building the lm graph of a model --------*- C++ -*-===//
//
// The one place where family importers create IR. It owns the module and its
// `@forward` function, binds weights by name against the checkpoint index
// (checking shape, recording dtype), threads inference state through the
// function signature, and offers one helper per lm op that computes the
// result type, so family code reads like the model's forward pass.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_IMPORT_MODELBUILDER_H
#define LMC_IMPORT_MODELBUILDER_H

#include "lmc/Dialect/LM/LMOps.h"
#include "lmc/Import/Config.h"
#include "lmc/Import/Safetensors.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringSet.h"

#include <string>
#include <vector>

namespace mlir::lm {

class ModelBuilder {
public:
  ModelBuilder(MLIRContext *context, ModelConfig &config,
               const WeightIndex &weights);

  ModelConfig &config;

  /// Creates the module and `@forward(input_ids, positions, logit_rows,
  /// ...)`; fails,
  /// building nothing, when reading the config recorded an error.
  LogicalResult begin(int64_t vocab, int64_t hidden, int64_t numLayers);
  /// Returns `logits` and the updated state; verifies the module. On failure
  /// returns null and sets `error` to the first problem found.
  OwningOpRef<ModuleOp> finish(Value logits, std::string &error);
  /// Problems worth a warning that do not stop the import.
  const std::vector<std::string> &getWarnings() const { return warnings; }

  OpBuilder &getBuilder() { return builder; }
  Value getIds() const { return ids; }
  Value getPositions() const { return positions; }
  /// The final hidden states of the tokens whose logits the call asks for
  /// (`logit_rows`), before the final norm and the LM head.
  Value selectLogitRows(Value hidden);
  int64_t getNumLayers() const { return numLayers; }

  /// Names the checkpoint module the next ops belong to (their location).
  void setScope(const Twine &scope);
  Location loc() const { return location; }

  //===--- Errors ---------------------------------------------------------===//
  /// Records the first error; later ones are dropped.
  void error(const Twine &message);
  bool failed() const { return !firstError.empty() || config.failed(); }

  //===--- Weights --------------------------------------------------------===//
  bool hasWeights() const { return !weights.empty(); }
  bool hasTensor(const Twine &name) const;
  /// The checkpoint tensor `name` of the `shape` the config implies.
  Value weight(const Twine &name, ArrayRef<int64_t> shape);
  /// An integer checkpoint tensor (an index table such as DeepSeek-V4's
  /// tid2eid); weight() requires floats.
  Value indexWeight(const Twine &name, ArrayRef<int64_t> shape);
  /// Like weight(), but the first of `names` the checkpoint has (the first
  /// when graph-only): for tensors with several spellings.
  Value weightAnyOf(ArrayRef<std::string> names, ArrayRef<int64_t> shape);
  /// `count` per-expert tensors per pattern ("{}" = expert index), each
  /// `[rows[i], cols]`, stacked into `[count, sum(rows), cols]`.
  Value stackedWeight(ArrayRef<std::string> patterns, int64_t count,
                      ArrayRef<int64_t> rows, int64_t cols);
  /// Element type of weights in a graph-only import (the config's dtype).
  Type getDefaultWeightType() const { return defaultWeightType; }

  //===--- State ----------------------------------------------------------===//
  /// Adds a state argument of `type` to `@forward`, named `<scope>.<role>`
  /// (the artifact's state layout uses the names).
  Value addState(Type type, StringRef role);
  /// Declares `updated` the new value of state argument `state`.
  void setState(Value state, Value updated);
  /// Element type of caches (the model dtype); recurrent states are f32.
  Type getCacheElementType() const { return cacheElementType; }

  //===--- Ops ------------------------------------------------------------===//
  Type f32() const { return builder.getF32Type(); }
  /// A `[B, T, dims...]` f32 activation type.
  RankedTensorType activation(ArrayRef<int64_t> dims) const;
  static int64_t lastDim(Value v);
  static int64_t dim(Value v, int64_t index);

  Value add(Value a, Value b);
  Value embed(Value table, Value ids, std::optional<double> scale = {});
  Value linear(Value x, Value w, Value bias = {});
  /// `name.weight` `[out, in]` (and `name.bias` when `bias`) applied to x.
  Value linear(Value x, const Twine &name, int64_t out, bool bias = false);
  Value rmsNorm(Value x, Value w, double eps, double offset = 0.0);
  /// `name` is the norm's weight tensor, of the size of x's last dim.
  Value rmsNorm(Value x, const Twine &name, double eps, double offset = 0.0);
  Value layerNorm(Value x, Value w, Value b, double eps);
  Value l2Norm(Value x, double eps);
  Value splitHeads(Value x, int64_t heads);
  Value mergeHeads(Value x);
  Value slice(Value x, int64_t offset, int64_t size);
  Value concat(ValueRange inputs);
  Value activate(Value x, ActivationKind kind);
  Value gate(Value x, Value g, ActivationKind kind);
  Value glu(Value g, Value u, GluKind kind, std::optional<double> alpha = {},
            std::optional<double> limit = {});
  Value softcap(Value x, double cap);
  Value transpose(Value x, ArrayRef<int64_t> permutation);

  template <typename OpTy, typename... Args>
  OpTy create(Args &&...args) {
    return OpTy::create(builder, location, std::forward<Args>(args)...);
  }

private:
  Type elementTypeOf(const TensorInfo &info);
  Value bindWeight(const Twine &name, ArrayRef<int64_t> shape, bool integer);

  MLIRContext *context;
  const WeightIndex &weights;
  mutable OpBuilder builder;
  Location location;
  OwningOpRef<ModuleOp> module;
  func::FuncOp forward;
  Value ids, positions, logitRows;
  int64_t numLayers = 0;
  Type defaultWeightType, cacheElementType;
  llvm::StringSet<> usedTensors;
  llvm::DenseMap<Value, Value> stateUpdates;
  std::vector<std::string> argNames;
  std::string firstError;
  std::vector<std::string> warnings;
};

} // namespace mlir::lm

#endif // LMC_IMPORT_MODELBUILDER_H
