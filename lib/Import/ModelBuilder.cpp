//===- ModelBuilder.cpp - Building the lm graph of a model ----------------===//

#include "lmc/Import/ModelBuilder.h"
#include "lmc/Dialect/LM/ForwardAbi.h"

#include "Printable.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Regex.h"

using namespace mlir;
using namespace mlir::lm;

static constexpr int64_t kDyn = ShapedType::kDynamic;

/// The dtype a config declares for its weights (`torch_dtype` or `dtype`).
static Type configDType(ModelConfig &config, Builder &b) {
  std::string dtype = config.getString(
      "torch_dtype", config.getString("dtype", "bfloat16"));
  if (dtype == "float32")
    return b.getF32Type();
  if (dtype == "float16")
    return b.getF16Type();
  return b.getBF16Type();
}

ModelBuilder::ModelBuilder(MLIRContext *context, ModelConfig &config,
                           const WeightIndex &weights)
    : config(config), context(context), weights(weights), builder(context),
      location(UnknownLoc::get(context)) {
  defaultWeightType = configDType(config, builder);
  cacheElementType = defaultWeightType;
}

LogicalResult ModelBuilder::begin(int64_t vocab, int64_t hidden,
                                  int64_t layers) {
  // A config with an error holds fallback values where its fields failed;
  // building from them could only produce a model nobody described.
  int64_t maxPositions = config.getPositive("max_position_embeddings", 4096);
  if (config.failed())
    return failure();
  numLayers = layers;
  location = NameLoc::get(builder.getStringAttr("model"));
  module = ModuleOp::create(location);
  Builder &b = builder;
  (*module)->setAttr("lm.model_type",
                     b.getStringAttr(config.getModelType()));
  (*module)->setAttr("lm.vocab_size", b.getI64IntegerAttr(vocab));
  (*module)->setAttr("lm.hidden_size", b.getI64IntegerAttr(hidden));
  (*module)->setAttr("lm.num_layers", b.getI64IntegerAttr(layers));
  (*module)->setAttr("lm.max_position_embeddings",
                     b.getI64IntegerAttr(maxPositions));
  if (!weights.empty())
    (*module)->setAttr("lm.weights", b.getStringAttr(weights.getSource()));

  auto tokens = RankedTensorType::get({kDyn, kDyn}, b.getI64Type());
  auto logits = RankedTensorType::get({kDyn, kDyn, vocab}, b.getF32Type());
  builder.setInsertionPointToEnd(module->getBody());
  forward = func::FuncOp::create(
      builder, location, abi::kForward,
      b.getFunctionType({tokens, tokens, tokens}, {logits}));
  argNames = {abi::kInputIds.str(), abi::kPositions.str(),
              abi::kLogitRows.str()};
  Block *entry = forward.addEntryBlock();
  ids = entry->getArgument(0);
  positions = entry->getArgument(1);
  logitRows = entry->getArgument(2);
  builder.setInsertionPointToEnd(entry);
  return success();
}

void ModelBuilder::setScope(const Twine &scope) {
  location = NameLoc::get(builder.getStringAttr(scope));
}

void ModelBuilder::error(const Twine &message) {
  if (firstError.empty())
    firstError =
        lmc::rt::printable(message.str(), ModelConfig::kMaxMessage);
}

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

bool ModelBuilder::hasTensor(const Twine &name) const {
  return weights.lookup(name.str()) != nullptr;
}

Type ModelBuilder::elementTypeOf(const TensorInfo &info) {
  Builder &b = builder;
  return llvm::StringSwitch<Type>(info.dtype)
      .Case("F64", b.getF64Type())
      .Case("F32", b.getF32Type())
      .Case("F16", b.getF16Type())
      .Case("BF16", b.getBF16Type())
      .Case("F8_E4M3", b.getType<Float8E4M3FNType>())
      .Case("F8_E5M2", b.getType<Float8E5M2Type>())
      .Case("F8_E8M0", b.getType<Float8E8M0FNUType>())
      // GGUF block-quantised weights are dequantised to f32 at load.
      .Cases({"Q4_0", "Q4_1", "Q8_0"}, b.getF32Type())
      .Cases({"I64", "U64"}, b.getI64Type())
      .Cases({"I32", "U32"}, b.getI32Type())
      .Cases({"I16", "U16"}, b.getI16Type())
      .Cases({"I8", "U8", "BOOL"}, b.getI8Type())
      .Default(Type());
}

/// "[a, b, c]" for messages.
static std::string showShape(ArrayRef<int64_t> shape) {
  return "[" + llvm::join(llvm::map_range(shape, [](int64_t d) {
                            return std::to_string(d);
                          }),
                          ", ") +
         "]";
}

Value ModelBuilder::weight(const Twine &name, ArrayRef<int64_t> shape) {
  return bindWeight(name, shape, /*integer=*/false);
}

Value ModelBuilder::indexWeight(const Twine &name, ArrayRef<int64_t> shape) {
  return bindWeight(name, shape, /*integer=*/true);
}

Value ModelBuilder::bindWeight(const Twine &nameTwine, ArrayRef<int64_t> shape,
                               bool integer) {
  std::string name = nameTwine.str();
  Type element = integer ? builder.getI64Type() : defaultWeightType;
  if (!weights.empty()) {
    const TensorInfo *info = weights.lookup(name);
    if (!info) {
      error(weights.getSource() + ": missing tensor '" + name + "' (expected " +
            showShape(shape) + " from " + config.getPath() + ")");
    } else {
      usedTensors.insert(name);
      if (ArrayRef<int64_t>(info->shape) != shape)
        error(info->file + ": tensor '" + name + "' has shape " +
              showShape(info->shape) + ", expected " + showShape(shape) +
              " from " + config.getPath());
      element = elementTypeOf(*info);
      if (integer != element.isSignlessInteger()) {
        error(info->file + ": tensor '" + name + "' has dtype " + info->dtype +
              ", expected " + (integer ? "an integer" : "a float") + " type");
        element = integer ? builder.getI64Type() : defaultWeightType;
      }
    }
  }
  for (int64_t d : shape)
    if (d <= 0) {
      error(config.getPath() + ": inconsistent dimensions: tensor '" + name +
            "' would have shape " + showShape(shape));
      shape = {1};
      break;
    }
  return create<WeightOp>(RankedTensorType::get(shape, element), name);
}

Value ModelBuilder::weightAnyOf(ArrayRef<std::string> names,
                                ArrayRef<int64_t> shape) {
  for (const std::string &name : names)
    if (hasTensor(name))
      return weight(name, shape);
  return weight(names.front(), shape);
}

Value ModelBuilder::stackedWeight(ArrayRef<std::string> patterns, int64_t count,
                                  ArrayRef<int64_t> rows, int64_t cols) {
  assert(patterns.size() == rows.size() && "one row count per pattern");
  Type element = defaultWeightType;
  int64_t totalRows = 0;
  for (auto [pattern, r] : llvm::zip(patterns, rows)) {
    totalRows += r;
    if (weights.empty())
      continue;
    for (int64_t e = 0; e < count; ++e) {
      std::string name = pattern;
      name.replace(name.find("{}"), 2, std::to_string(e));
      const TensorInfo *info = weights.lookup(name);
      if (!info) {
        error(weights.getSource() + ": missing tensor '" + name +
              "' (expected " + showShape({r, cols}) + " from " +
              config.getPath() + ")");
        continue;
      }
      usedTensors.insert(name);
      if (ArrayRef<int64_t>(info->shape) != ArrayRef<int64_t>{r, cols})
        error(info->file + ": tensor '" + name + "' has shape " +
              showShape(info->shape) + ", expected " + showShape({r, cols}) +
              " from " + config.getPath());
      Type t = elementTypeOf(*info);
      if (!isa<FloatType>(t))
        error(info->file + ": tensor '" + name + "' has dtype " + info->dtype +
              ", expected a float type");
      else if (e > 0 && t != element)
        error(info->file + ": tensor '" + name + "' has dtype " + info->dtype +
              ", unlike the other experts");
      else
        element = t;
    }
  }
  if (count <= 0 || totalRows <= 0 || cols <= 0) {
    error(config.getPath() + ": inconsistent dimensions: expert tensors '" +
          patterns.front() + "' would have shape " +
          showShape({count, totalRows, cols}));
    count = totalRows = cols = 1;
  }
  SmallVector<Attribute> names;
  for (const std::string &p : patterns)
    names.push_back(builder.getStringAttr(p));
  return create<StackedWeightOp>(
      RankedTensorType::get({count, totalRows, cols}, element),
      builder.getArrayAttr(names), builder.getI64IntegerAttr(count));
}

//===----------------------------------------------------------------------===//
// State
//===----------------------------------------------------------------------===//

Value ModelBuilder::addState(Type type, StringRef role) {
  Block &entry = forward.getBody().front();
  std::string name = role.str();
  if (auto named = dyn_cast<NameLoc>(location))
    name = (named.getName().getValue() + "." + role).str();
  assert(!llvm::is_contained(argNames, name) && "state names must be unique");
  argNames.push_back(name);
  return entry.addArgument(type, location);
}

void ModelBuilder::setState(Value state, Value updated) {
  stateUpdates[state] = updated;
}

//===----------------------------------------------------------------------===//
// Finishing
//===----------------------------------------------------------------------===//

/// Tensors a checkpoint may carry that no forward pass reads: multi-token
/// prediction heads, layers past num_hidden_layers, rotary caches.
static bool isIgnorable(StringRef name, int64_t numLayers) {
  if (name.starts_with("mtp.") || name.contains("rotary_emb.inv_freq"))
    return true;
  static const llvm::Regex layer("layers\\.([0-9]+)\\.");
  SmallVector<StringRef> match;
  if (layer.match(name, &match)) {
    int64_t index = 0;
    if (!match[1].getAsInteger(10, index) && index >= numLayers)
      return true;
  }
  return false;
}

OwningOpRef<ModuleOp> ModelBuilder::finish(Value logits, std::string &error) {
  Block &entry = forward.getBody().front();
  SmallVector<Value> results = {logits};
  if (logits && logitRows.use_empty())
    this->error("internal: the logits are not those of the logit rows");
  for (BlockArgument arg : entry.getArguments().drop_front(3)) {
    Value updated = stateUpdates.lookup(arg);
    if (!updated) {
      this->error("internal: state argument #" + Twine(arg.getArgNumber()) +
                  " is never updated");
      updated = arg;
    }
    results.push_back(updated);
  }
  func::ReturnOp::create(builder, location, results);
  forward.setFunctionType(builder.getFunctionType(
      entry.getArgumentTypes(), ValueRange(results).getTypes()));
  for (auto [i, name] : llvm::enumerate(argNames))
    forward.setArgAttr(i, abi::kName, builder.getStringAttr(name));

  if (config.failed())
    error = config.getError();
  else if (!firstError.empty())
    error = firstError;
  if (!error.empty())
    return nullptr;

  // Verification failures here are importer bugs or inconsistent configs;
  // report the first diagnostic as the error.
  std::string diagnostic;
  {
    ScopedDiagnosticHandler handler(context, [&](Diagnostic &d) {
      if (diagnostic.empty()) {
        llvm::raw_string_ostream os(diagnostic);
        os << d.getLocation() << ": " << d;
      }
      return success();
    });
    if (mlir::failed(verify(*module))) {
      error = config.getPath().str() + ": inconsistent model: " + diagnostic;
      return nullptr;
    }
  }

  unsigned unused = 0;
  std::string firstUnused;
  for (const auto &entry : weights.getTensors()) {
    StringRef name = entry.getKey();
    if (usedTensors.contains(name) || isIgnorable(name, numLayers))
      continue;
    if (unused++ == 0)
      firstUnused = name.str();
  }
  if (unused)
    warnings.push_back(weights.getSource().str() + ": " + std::to_string(unused) +
                       " tensor(s) not used by the model, e.g. '" +
                       firstUnused + "'");
  return std::move(module);
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

RankedTensorType ModelBuilder::activation(ArrayRef<int64_t> dims) const {
  SmallVector<int64_t> shape = {kDyn, kDyn};
  shape.append(dims.begin(), dims.end());
  return RankedTensorType::get(shape, builder.getF32Type());
}

int64_t ModelBuilder::lastDim(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return t.getDimSize(t.getRank() - 1);
}

int64_t ModelBuilder::dim(Value v, int64_t index) {
  auto t = cast<RankedTensorType>(v.getType());
  return t.getDimSize(index < 0 ? index + t.getRank() : index);
}

/// `like` with its last dimension replaced by `last`.
static RankedTensorType withLastDim(Value like, int64_t last) {
  auto t = cast<RankedTensorType>(like.getType());
  SmallVector<int64_t> shape(t.getShape());
  shape.back() = last;
  return RankedTensorType::get(shape, t.getElementType());
}

Value ModelBuilder::add(Value a, Value b) {
  return create<arith::AddFOp>(a, b);
}

Value ModelBuilder::embed(Value table, Value tokenIds,
                          std::optional<double> scale) {
  auto op = create<EmbedOp>(activation({dim(table, 1)}), table, tokenIds,
                            FloatAttr());
  if (scale)
    op.setScaleAttr(builder.getF64FloatAttr(*scale));
  return op;
}

Value ModelBuilder::selectLogitRows(Value hidden) {
  auto type = cast<RankedTensorType>(hidden.getType());
  return create<SelectRowsOp>(activation({type.getDimSize(2)}), hidden,
                              logitRows);
}

Value ModelBuilder::linear(Value x, Value w, Value bias) {
  return create<LinearOp>(withLastDim(x, dim(w, 0)), x, w, bias);
}

Value ModelBuilder::linear(Value x, const Twine &name, int64_t out, bool bias) {
  std::string base = name.str();
  Value w = weight(base + ".weight", {out, lastDim(x)});
  Value b = bias ? weight(base + ".bias", {out}) : Value();
  return linear(x, w, b);
}

Value ModelBuilder::rmsNorm(Value x, Value w, double eps, double offset) {
  return create<RMSNormOp>(x.getType(), x, w, builder.getF64FloatAttr(eps),
                           builder.getF64FloatAttr(offset));
}

Value ModelBuilder::rmsNorm(Value x, const Twine &name, double eps,
                            double offset) {
  return rmsNorm(x, weight(name, {lastDim(x)}), eps, offset);
}

Value ModelBuilder::layerNorm(Value x, Value w, Value b, double eps) {
  return create<LayerNormOp>(x.getType(), x, w, b,
                             builder.getF64FloatAttr(eps));
}

Value ModelBuilder::l2Norm(Value x, double eps) {
  return create<L2NormOp>(x, builder.getF64FloatAttr(eps));
}

Value ModelBuilder::splitHeads(Value x, int64_t heads) {
  int64_t channels = lastDim(x);
  if (heads <= 0 || channels % heads != 0) {
    error(config.getPath() + ": inconsistent dimensions: " +
          Twine(channels) + " channels do not split into " + Twine(heads) +
          " heads");
    heads = 1;
  }
  return create<SplitHeadsOp>(activation({heads, channels / heads}), x);
}

Value ModelBuilder::mergeHeads(Value x) {
  return create<MergeHeadsOp>(activation({dim(x, 2) * dim(x, 3)}), x);
}

Value ModelBuilder::slice(Value x, int64_t offset, int64_t size) {
  return create<SliceOp>(withLastDim(x, size), x, offset, size);
}

Value ModelBuilder::concat(ValueRange inputs) {
  int64_t total = 0;
  for (Value v : inputs)
    total += lastDim(v);
  return create<ConcatOp>(withLastDim(inputs.front(), total), inputs);
}

Value ModelBuilder::activate(Value x, ActivationKind kind) {
  return create<ActivationOp>(x, ActivationKindAttr::get(context, kind));
}

Value ModelBuilder::gate(Value x, Value g, ActivationKind kind) {
  return create<GateOp>(x.getType(), x, g,
                        ActivationKindAttr::get(context, kind));
}

Value ModelBuilder::glu(Value g, Value u, GluKind kind,
                        std::optional<double> alpha,
                        std::optional<double> limit) {
  auto op = create<GluOp>(g, u, GluKindAttr::get(context, kind), FloatAttr(),
                          FloatAttr());
  if (alpha)
    op.setAlphaAttr(builder.getF64FloatAttr(*alpha));
  if (limit)
    op.setLimitAttr(builder.getF64FloatAttr(*limit));
  return op;
}

Value ModelBuilder::softcap(Value x, double cap) {
  return create<SoftcapOp>(x, builder.getF64FloatAttr(cap));
}

Value ModelBuilder::transpose(Value x, ArrayRef<int64_t> permutation) {
  auto t = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape;
  for (int64_t p : permutation)
    shape.push_back(t.getDimSize(p));
  return create<TransposeOp>(RankedTensorType::get(shape, t.getElementType()),
                             x, permutation);
}
