//===- ModelSummary.cpp - Parameter and cache accounting ------------------===//

#include "lmc/Analysis/ModelSummary.h"

#include "lmc/Dialect/LM/LMOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Format.h"

using namespace mlir;
using namespace mlir::lm;

double ModelSummary::cacheValuesPerToken() const {
  double values = 0;
  for (const auto &[_, g] : states)
    if (g.window == 0)
      values += double(g.count) * g.valuesPerToken / g.tokensPerEntry;
  return values;
}

double ModelSummary::cacheBytesPerToken() const {
  double bytes = 0;
  for (const auto &[_, g] : states)
    if (g.window == 0)
      bytes += double(g.count) * g.valuesPerToken * g.elementBytes /
               g.tokensPerEntry;
  return bytes;
}

int64_t ModelSummary::windowBytesPerSequence() const {
  int64_t bytes = 0;
  for (const auto &[_, g] : states)
    bytes += g.count * g.valuesPerToken * g.window * g.elementBytes;
  return bytes;
}

int64_t ModelSummary::stateBytesPerSequence() const {
  int64_t bytes = 0;
  for (const auto &[_, g] : states)
    bytes += g.count * g.valuesPerSequence * g.elementBytes;
  return bytes;
}

/// The number of elements of a statically shaped tensor value.
static int64_t numElements(Value v) {
  return cast<RankedTensorType>(v.getType()).getNumElements();
}

/// The fraction of a weight's parameters one token reads: top_k/experts when
/// the weight only feeds routed experts, one row of an embedding table that
/// is only looked up (the convention of published "active" figures), 1
/// otherwise.
static double activeFraction(Value weight) {
  double fraction = 0;
  SmallVector<Value> worklist = {weight};
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (auto t = dyn_cast<TransposeOp>(user)) {
        worklist.push_back(t.getResult());
        continue;
      }
      if (auto embed = dyn_cast<EmbedOp>(user)) {
        if (use.getOperandNumber() == 0) {
          auto table = cast<RankedTensorType>(embed.getTable().getType());
          fraction = std::max(fraction, 1.0 / double(table.getDimSize(0)));
          continue;
        }
      }
      auto moe = dyn_cast<MoEExpertsOp>(user);
      bool expertWeight =
          moe && use.getOperandNumber() >= 3; // gate_up, down and biases
      if (!expertWeight)
        return 1.0;
      fraction = std::max(fraction,
                          double(moe.getTopK()) / double(moe.getNumExperts()));
    }
  }
  return fraction;
}

static int64_t elementBytes(Type t) {
  return std::max<int64_t>(1, t.getIntOrFloatBitWidth() / 8);
}

static int64_t getIntAttr(ModuleOp module, StringRef name) {
  if (auto a = module->getAttrOfType<IntegerAttr>(name))
    return a.getInt();
  return 0;
}

FailureOr<ModelSummary> mlir::lm::summarizeModel(ModuleOp module) {
  auto forward = module.lookupSymbol<func::FuncOp>("forward");
  if (!forward)
    return failure(); // callers report it their way

  ModelSummary s;
  if (auto type = module->getAttrOfType<StringAttr>("lm.model_type"))
    s.modelType = type.getValue().str();
  s.numLayers = getIntAttr(module, "lm.num_layers");
  s.hidden = getIntAttr(module, "lm.hidden_size");
  s.vocab = getIntAttr(module, "lm.vocab_size");

  // Tied weights appear once per use; count each name once.
  llvm::StringSet<> seen;
  forward.walk([&](Operation *op) {
    std::string key;
    if (auto w = dyn_cast<WeightOp>(op))
      key = w.getName().str();
    else if (auto w = dyn_cast<StackedWeightOp>(op))
      for (Attribute p : w.getPatterns())
        key += cast<StringAttr>(p).getValue().str() + ";";
    else
      return;
    if (!seen.insert(key).second)
      return;
    Value result = op->getResult(0);
    int64_t n = numElements(result);
    s.totalParams += n;
    s.activeParams += n * activeFraction(result);
  });

  for (Type t : forward.getArgumentTypes()) {
    Type element = getStateElementType(t);
    if (!element)
      continue;
    std::string key;
    llvm::raw_string_ostream os(key);
    os << t;
    StateGroup &g = s.states[key];
    g.type = key;
    ++g.count;
    g.valuesPerToken = getValuesPerToken(t);
    g.valuesPerSequence = getValuesPerSequence(t);
    g.elementBytes = elementBytes(element);
    if (auto kv = dyn_cast<KVCacheType>(t))
      g.window = kv.getWindow();
    if (auto keys = dyn_cast<KeyCacheType>(t))
      g.window = keys.getWindow();
    if (auto compressed = dyn_cast<CompressedCacheType>(t))
      g.tokensPerEntry = compressed.getRatio();
  }
  return s;
}

/// Prints a count with a unit suited to its size.
static void printCount(llvm::raw_ostream &os, double n) {
  if (n >= 1e9)
    os << llvm::format("%.2f B", n / 1e9);
  else if (n >= 1e6)
    os << llvm::format("%.2f M", n / 1e6);
  else if (n >= 1e3)
    os << llvm::format("%.2f K", n / 1e3);
  else
    os << llvm::format("%.0f", n);
}

void mlir::lm::printModelSummary(const ModelSummary &s, llvm::raw_ostream &os) {
  os << "model: " << s.modelType << " (" << s.numLayers << " layers, hidden "
     << s.hidden << ", vocab " << s.vocab << ")\n";
  os << "parameters: " << s.totalParams << " total (";
  printCount(os, s.totalParams);
  os << "), " << llvm::format("%.0f", s.activeParams)
     << " active per token (";
  printCount(os, s.activeParams);
  os << ")\n";
  os << "cache per token: " << llvm::format("%.1f", s.cacheValuesPerToken())
     << " values, " << llvm::format("%.1f", s.cacheBytesPerToken())
     << " bytes (layers that attend to the whole context)\n";
  os << "fixed state per sequence: "
     << s.windowBytesPerSequence() + s.stateBytesPerSequence() << " bytes ("
     << s.windowBytesPerSequence() << " in full sliding windows, "
     << s.stateBytesPerSequence() << " recurrent or pending)\n";
  for (const auto &[_, g] : s.states) {
    os << "  " << g.count << " x " << g.type << ": ";
    if (g.valuesPerToken) {
      if (g.valuesPerSequence)
        os << g.valuesPerSequence << " values per sequence + ";
      os << g.valuesPerToken << " values per ";
      if (g.tokensPerEntry > 1)
        os << g.tokensPerEntry << " tokens";
      else
        os << "token";
      if (g.window)
        os << ", at most " << g.window << " tokens";
    } else {
      os << g.valuesPerSequence << " values per sequence";
    }
    os << "\n";
  }
}
