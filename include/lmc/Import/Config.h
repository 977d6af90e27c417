//===- Config.h - Typed, validating access to config.json -------*- C++ -*-===//
//
// A Hugging Face `config.json` seen through typed getters. A getter that
// finds a missing or ill-typed field records one error naming the file and
// the field, and returns a harmless default, so family importers read their
// fields in a straight line and check `failed()` once.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_IMPORT_CONFIG_H
#define LMC_IMPORT_CONFIG_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/JSON.h"

#include <memory>
#include <optional>
#include <string>

namespace mlir::lm {

class ModelConfig {
public:
  /// Parses `path`; on failure returns nullptr and sets `error`.
  static std::unique_ptr<ModelConfig> load(StringRef path, std::string &error);
  /// Parses `text`, the contents of `path`; like load().
  static std::unique_ptr<ModelConfig> parse(StringRef path, StringRef text,
                                            std::string &error);
  /// A config over an in-memory JSON object.
  ModelConfig(std::string path, llvm::json::Object object);

  /// The file this config came from, for messages.
  StringRef getPath() const { return path; }
  /// `model_type` of the text model (after descending into `text_config`).
  StringRef getModelType() const { return modelType; }

  /// True when the text model's fields come from a wrapper's `text_config`.
  bool isNested() const { return nested; }

  /// Values the family's config class defaults to, used for fields the file
  /// leaves out (wrapper text_configs often list only what differs).
  void setDefault(StringRef key, llvm::json::Value value);

  /// True when `key` is present and not null.
  bool has(StringRef key) const;

  /// A required positive integer.
  int64_t getPositive(StringRef key);
  /// An integer >= 0, `fallback` when absent or null.
  int64_t getCount(StringRef key, int64_t fallback);
  /// A positive integer, `fallback` when absent or null.
  int64_t getPositive(StringRef key, int64_t fallback);
  /// A number; `fallback` when absent or null.
  double getNumber(StringRef key, double fallback);
  /// A required number.
  double getNumber(StringRef key);
  bool getBool(StringRef key, bool fallback);
  std::string getString(StringRef key, StringRef fallback);
  /// A list of integers; empty when absent or null.
  SmallVector<int64_t> getIntList(StringRef key);
  /// A list of strings; empty when absent or null.
  SmallVector<std::string> getStringList(StringRef key);
  /// A nested object, or nullptr when absent or null.
  const llvm::json::Object *getObject(StringRef key);

  /// Records "PATH: field 'KEY': MESSAGE" unless an error was recorded already.
  void error(StringRef key, const Twine &message);
  /// Records `message` unless an error was recorded already.
  void error(const Twine &message);
  /// Checks `condition`; records an error for `key` when it does not hold.
  bool require(bool condition, StringRef key, const Twine &message);

  bool failed() const { return !firstError.empty(); }
  /// The longest error message, in bytes (a 100 KB value stays out of it).
  static constexpr size_t kMaxMessage = 2000;
  const std::string &getError() const { return firstError; }

  const llvm::json::Object &getObject() const { return *object; }

  /// The largest value lmc accepts for integer field `key` (every integer
  /// getter checks it).
  static int64_t upperBound(StringRef key);

private:
  const llvm::json::Value *lookup(StringRef key) const;
  /// `value`, or nullopt after recording an error when it exceeds the bound.
  std::optional<int64_t> checkBound(StringRef key, int64_t value);

  std::string path;
  std::shared_ptr<llvm::json::Value> root;
  const llvm::json::Object *object = nullptr;
  std::string modelType;
  bool nested = false;
  llvm::json::Object defaults;
  std::string firstError;
};

} // namespace mlir::lm

#endif // LMC_IMPORT_CONFIG_H
