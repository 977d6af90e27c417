//===- Json.h - A small JSON reader -----------------------------*- C++ -*-===//
//
// The runtime reads safetensors headers, shard indexes, tokenizer.json and
// tokenizer_config.json itself (it may not depend on MLIR/LLVM): strict JSON,
// \uXXXX escapes decoded to UTF-8, with a depth limit so a hostile file
// cannot exhaust the stack.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_JSON_H
#define LMC_RT_JSON_H

#include <string>
#include <utility>
#include <vector>

namespace lmc::rt {

struct Json {
  enum class Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object
  } kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Json> array;
  std::vector<std::pair<std::string, Json>> object;

  const Json *get(const std::string &key) const;
};

/// Parses `text`; on failure returns false and sets `error`.
bool parseJson(const std::string &text, Json &out, std::string &error);

} // namespace lmc::rt

#endif // LMC_RT_JSON_H
