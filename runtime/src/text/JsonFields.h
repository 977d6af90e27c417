//===- JsonFields.h - Typed fields of tokenizer files -----------*- C++ -*-===//
//
// Readers of tokenizer.json and its companions name the file and the field
// at fault ("tokenizer.json: model.merges[3]: expected a string"); these
// helpers keep that uniform.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_TEXT_JSONFIELDS_H
#define LMC_RT_TEXT_JSONFIELDS_H

#include "Json.h"

#include <cmath>
#include <cstdint>
#include <string>

namespace lmc::rt::json {

inline bool isNull(const Json *v) { return !v || v->kind == Json::Kind::Null; }

inline bool fail(std::string &error, const std::string &where,
                 const std::string &what) {
  error = where + ": " + what;
  return false;
}

/// `object[key]` as a string; `required` fields must be present.
inline bool string(const Json &object, const char *key,
                   const std::string &where, std::string &out,
                   std::string &error, bool required = true) {
  const Json *v = object.get(key);
  if (isNull(v))
    return !required || fail(error, where + "." + key, "missing");
  if (v->kind != Json::Kind::String)
    return fail(error, where + "." + key, "expected a string");
  out = v->string;
  return true;
}

inline bool boolean(const Json &object, const char *key,
                    const std::string &where, bool &out, std::string &error) {
  const Json *v = object.get(key);
  if (isNull(v))
    return true; // the default stays
  if (v->kind != Json::Kind::Bool)
    return fail(error, where + "." + key, "expected true or false");
  out = v->boolean;
  return true;
}

/// An integer in [lo, hi].
inline bool integer(const Json &v, const std::string &where, int64_t lo,
                    int64_t hi, int64_t &out, std::string &error) {
  if (v.kind != Json::Kind::Number || v.number != std::floor(v.number) ||
      v.number < double(lo) || v.number > double(hi))
    return fail(error, where,
                "expected an integer in [" + std::to_string(lo) + ", " +
                    std::to_string(hi) + "]");
  out = int64_t(v.number);
  return true;
}

inline bool integer(const Json &object, const char *key,
                    const std::string &where, int64_t lo, int64_t hi,
                    int64_t &out, std::string &error) {
  const Json *v = object.get(key);
  if (isNull(v))
    return true;
  return integer(*v, where + "." + key, lo, hi, out, error);
}

/// Reads the `type` of a pipeline component (normalizer, pre-tokenizer,
/// decoder). A "Sequence" is expanded here: `add(entry, where)` is called on
/// each entry of its `listKey` list and `sequence` is set.
template <typename AddEntry>
bool component(const Json &config, const std::string &where,
               const char *listKey, std::string &type, bool &sequence,
               std::string &error, AddEntry add) {
  sequence = false;
  if (config.kind != Json::Kind::Object)
    return fail(error, where, "expected an object");
  if (!string(config, "type", where, type, error))
    return false;
  if (type != "Sequence")
    return true;
  sequence = true;
  std::string at = where + "." + listKey;
  const Json *list = config.get(listKey);
  if (!list || list->kind != Json::Kind::Array)
    return fail(error, at, "expected a list");
  for (size_t i = 0; i < list->array.size(); ++i)
    if (!add(list->array[i], at + "[" + std::to_string(i) + "]"))
      return false;
  return true;
}

} // namespace lmc::rt::json

#endif // LMC_RT_TEXT_JSONFIELDS_H
