//===- Config.cpp - Typed, validating access to config.json ---------------===//

#include "lmc/Import/Config.h"

#include "Printable.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;
using namespace mlir::lm;
namespace json = llvm::json;

/// Multimodal wrappers keep the language model in `text_config`.
static const json::Object *descendToTextConfig(const json::Object *object) {
  if (const json::Object *text = object->getObject("text_config"))
    if (text->getString("model_type") || text->get("hidden_size"))
      return text;
  return object;
}

std::unique_ptr<ModelConfig> ModelConfig::load(StringRef path,
                                               std::string &error) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer) {
    error = (path + ": cannot read: " + buffer.getError().message()).str();
    return nullptr;
  }
  return parse(path, (*buffer)->getBuffer(), error);
}

std::unique_ptr<ModelConfig>
ModelConfig::parse(StringRef path, StringRef text, std::string &error) {
  llvm::Expected<json::Value> parsed = json::parse(text);
  if (!parsed) {
    error = (path + ": malformed JSON: " + llvm::toString(parsed.takeError()))
                .str();
    return nullptr;
  }
  json::Object *object = parsed->getAsObject();
  if (!object) {
    error = (path + ": expected a JSON object at the top level").str();
    return nullptr;
  }
  auto config = std::make_unique<ModelConfig>(path.str(), std::move(*object));
  if (config->modelType.empty()) {
    error = (path + ": field 'model_type': missing").str();
    return nullptr;
  }
  return config;
}

ModelConfig::ModelConfig(std::string path, json::Object obj)
    : path(std::move(path)),
      root(std::make_shared<json::Value>(std::move(obj))) {
  const json::Object *top = root->getAsObject();
  object = descendToTextConfig(top);
  nested = object != top;
  // A wrapper's text_config may omit its model_type; derive it from the
  // wrapper ("gemma3" -> "gemma3_text", "llama4" -> "llama4_text").
  if (auto type = object->getString("model_type"))
    modelType = type->str();
  else if (auto type = top->getString("model_type"))
    modelType = object == top ? type->str() : (*type + "_text").str();
}

const json::Value *ModelConfig::lookup(StringRef key) const {
  const json::Value *v = object->get(key);
  if (!v)
    v = defaults.get(key);
  if (!v || v->kind() == json::Value::Null)
    return nullptr;
  return v;
}

void ModelConfig::setDefault(StringRef key, json::Value value) {
  defaults[key] = std::move(value);
}

bool ModelConfig::has(StringRef key) const { return lookup(key) != nullptr; }

// Messages quote values from the file: printable() keeps them one line.
void ModelConfig::error(StringRef key, const Twine &message) {
  if (firstError.empty())
    firstError = lmc::rt::printable(
        (path + ": field '" + key + "': " + message).str(), kMaxMessage);
}

void ModelConfig::error(const Twine &message) {
  if (firstError.empty())
    firstError = lmc::rt::printable((path + ": " + message).str(), kMaxMessage);
}

bool ModelConfig::require(bool condition, StringRef key, const Twine &message) {
  if (!condition)
    error(key, message);
  return condition;
}

/// Prints a JSON value compactly for error messages.
static std::string show(const json::Value &v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << v;
  return s.size() > 40 ? s.substr(0, 40) + "..." : s;
}

/// The value as an integer: JSON integers, or floats with no fraction.
static std::optional<int64_t> asInteger(const json::Value &v) {
  if (auto i = v.getAsInteger())
    return *i;
  if (auto d = v.getAsNumber())
    if (std::isfinite(*d) && std::floor(*d) == *d && std::fabs(*d) < 9e15)
      return static_cast<int64_t>(*d);
  return std::nullopt;
}

/// The largest value an integer field may state: far above any published
/// model, and low enough that a corrupted file cannot make lmc allocate or
/// build without end. Sizes stay below 2^21 so that a weight's byte count
/// (experts x rows x columns x element bytes) cannot overflow int64.
int64_t ModelConfig::upperBound(StringRef key) {
  constexpr int64_t kMaxLayers = 4096;      // published: at most ~160
  constexpr int64_t kMaxExperts = 16384;    // published: at most 512
  constexpr int64_t kMaxTokens = INT32_MAX; // positions are 32-bit on devices
  constexpr int64_t kMaxSize = int64_t(1) << 21; // vocab, dims, heads
  return llvm::StringSwitch<int64_t>(key)
      // Repeated structure: each unit becomes IR.
      .Cases({"num_hidden_layers", "num_nextn_predict_layers",
              "hc_sinkhorn_iters"},
             kMaxLayers)
      .Cases({"num_local_experts", "n_routed_experts", "num_experts"},
             kMaxExperts)
      // Lengths along the sequence.
      .Cases({"max_position_embeddings", "sliding_window",
              "attention_chunk_size", "index_topk"},
             kMaxTokens)
      .Default(kMaxSize);
}

std::optional<int64_t> ModelConfig::checkBound(StringRef key, int64_t value) {
  int64_t bound = upperBound(key);
  if (value <= bound)
    return value;
  error(key, Twine(value) + " is more than lmc accepts (" + Twine(bound) + ")");
  return std::nullopt;
}

int64_t ModelConfig::getPositive(StringRef key) {
  const json::Value *v = lookup(key);
  if (!v) {
    error(key, "missing");
    return 1;
  }
  std::optional<int64_t> i = asInteger(*v);
  if (!i || *i <= 0) {
    error(key, "expected a positive integer, got " + show(*v));
    return 1;
  }
  return checkBound(key, *i).value_or(1);
}

int64_t ModelConfig::getPositive(StringRef key, int64_t fallback) {
  return has(key) ? getPositive(key) : fallback;
}

int64_t ModelConfig::getCount(StringRef key, int64_t fallback) {
  const json::Value *v = lookup(key);
  if (!v)
    return fallback;
  std::optional<int64_t> i = asInteger(*v);
  if (!i || *i < 0) {
    error(key, "expected a non-negative integer, got " + show(*v));
    return fallback;
  }
  return checkBound(key, *i).value_or(fallback);
}

double ModelConfig::getNumber(StringRef key, double fallback) {
  const json::Value *v = lookup(key);
  if (!v)
    return fallback;
  std::optional<double> d = v->getAsNumber();
  if (!d || !std::isfinite(*d)) {
    error(key, "expected a number, got " + show(*v));
    return fallback;
  }
  return *d;
}

double ModelConfig::getNumber(StringRef key) {
  if (!has(key)) {
    error(key, "missing");
    return 1.0;
  }
  return getNumber(key, 1.0);
}

bool ModelConfig::getBool(StringRef key, bool fallback) {
  const json::Value *v = lookup(key);
  if (!v)
    return fallback;
  std::optional<bool> b = v->getAsBoolean();
  if (!b) {
    error(key, "expected true or false, got " + show(*v));
    return fallback;
  }
  return *b;
}

std::string ModelConfig::getString(StringRef key, StringRef fallback) {
  const json::Value *v = lookup(key);
  if (!v)
    return fallback.str();
  std::optional<StringRef> s = v->getAsString();
  if (!s) {
    error(key, "expected a string, got " + show(*v));
    return fallback.str();
  }
  return s->str();
}

SmallVector<int64_t> ModelConfig::getIntList(StringRef key) {
  SmallVector<int64_t> result;
  const json::Value *v = lookup(key);
  if (!v)
    return result;
  const json::Array *array = v->getAsArray();
  if (!array) {
    error(key, "expected a list of integers, got " + show(*v));
    return result;
  }
  for (const json::Value &e : *array) {
    std::optional<int64_t> i = asInteger(e);
    if (!i) {
      error(key, "expected a list of integers, found " + show(e));
      return {};
    }
    if (int64_t bound = upperBound(key); *i < -bound || *i > bound) {
      error(key, "element " + Twine(*i) + " is outside what lmc accepts ([-" +
                     Twine(bound) + ", " + Twine(bound) + "])");
      return {};
    }
    result.push_back(*i);
  }
  return result;
}

SmallVector<std::string> ModelConfig::getStringList(StringRef key) {
  SmallVector<std::string> result;
  const json::Value *v = lookup(key);
  if (!v)
    return result;
  const json::Array *array = v->getAsArray();
  if (!array) {
    error(key, "expected a list of strings, got " + show(*v));
    return result;
  }
  for (const json::Value &e : *array) {
    std::optional<StringRef> s = e.getAsString();
    if (!s) {
      error(key, "expected a list of strings, found " + show(e));
      return {};
    }
    result.push_back(s->str());
  }
  return result;
}

const json::Object *ModelConfig::getObject(StringRef key) {
  const json::Value *v = lookup(key);
  if (!v)
    return nullptr;
  if (const json::Object *o = v->getAsObject())
    return o;
  error(key, "expected an object, got " + show(*v));
  return nullptr;
}
