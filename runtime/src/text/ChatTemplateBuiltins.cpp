//===- ChatTemplateBuiltins.cpp - Filters, tests and globals --------------===//
//
// jinja2's filters and tests, the globals transformers provides (range,
// dict, namespace, raise_exception, strftime_now) and the methods of dict,
// list and loop objects.
//
//===----------------------------------------------------------------------===//

#include "ChatTemplateImpl.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace lmc::rt::ct {

//===----------------------------------------------------------------------===//
// Globals and methods
//===----------------------------------------------------------------------===//

namespace {

/// Pairs from a dict or an iterable of pairs, for dict() and namespace().
bool pairsOf(Interp &in, const Value &v,
             std::vector<std::pair<Value, Value>> &out) {
  if (v.kind == Kind::Dict) {
    out = dictOf(v).items;
    return true;
  }
  std::vector<Value> items;
  if (!in.iterate(v, items))
    return false;
  for (const Value &item : items) {
    std::vector<Value> kv;
    if (!in.iterate(item, kv))
      return false;
    if (kv.size() != 2)
      return in.fail("dictionary update sequence element has length " +
                     std::to_string(kv.size()) + "; 2 is required");
    if (!in.dictSet(out, kv[0], kv[1]))
      return false;
  }
  return true;
}

std::string strftimeNow(const std::string &format, bool hasNow, int64_t now) {
  std::time_t t = hasNow ? std::time_t(now) : std::time(nullptr);
  std::tm tm{};
  if (hasNow)
    gmtime_r(&t, &tm);
  else
    localtime_r(&t, &tm);
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%' || i + 1 >= format.size()) {
      out += format[i];
      continue;
    }
    // Python's datetime handles %f, %z and %Z itself (naive: empty).
    char c = format[i + 1];
    size_t specEnd = i + 2;
    if ((c == '-' || c == '#' || c == '_' || c == '^' || c == '0') &&
        i + 2 < format.size())
      specEnd = i + 3;
    std::string spec = format.substr(i, specEnd - i);
    char conv = spec.back();
    if (conv == 'f') {
      out += "000000";
    } else if (conv == 'z' || conv == 'Z') {
    } else if (conv == '%') {
      out += '%';
    } else {
      char buf[256];
      size_t n = std::strftime(buf, sizeof buf, spec.c_str(), &tm);
      out.append(buf, n);
    }
    i = specEnd - 1;
  }
  return out;
}

} // namespace

bool Interp::callBuiltin(const FuncObj &fn, Args args, Value &out) {
  std::vector<Value> a;
  std::vector<bool> given;
  switch (fn.fn) {
  case Fn::Macro:
    return callMacro(fn, std::move(args), out);
  case Fn::Range: {
    if (!args.kw.empty())
      return fail("range() takes no keyword arguments");
    if (args.pos.empty() || args.pos.size() > 3)
      return fail("range expected at most 3 arguments, got " +
                  std::to_string(args.pos.size()));
    for (const Value &v : args.pos)
      if (!v.isIntLike())
        return fail(std::string("'") + typeName(v) +
                    "' object cannot be interpreted as an integer");
    int64_t start = 0, stop, stepBy = 1;
    if (args.pos.size() == 1) {
      stop = args.pos[0].asInt();
    } else {
      start = args.pos[0].asInt();
      stop = args.pos[1].asInt();
      if (args.pos.size() == 3)
        stepBy = args.pos[2].asInt();
    }
    if (stepBy == 0)
      return fail("range() arg 3 must not be zero");
    // Exact in 128 bits, where int64 differences cannot overflow.
    __int128 span =
        stepBy > 0 ? __int128(stop) - start : __int128(start) - stop;
    __int128 magnitude = stepBy > 0 ? __int128(stepBy) : -__int128(stepBy);
    __int128 count = span <= 0 ? 0 : (span + magnitude - 1) / magnitude;
    if (count > kMaxRange)
      return fail("Range too big. The sandbox blocks ranges larger than "
                  "MAX_RANGE (100000).");
    std::vector<Value> items;
    // Counting avoids overflowing past INT64_MAX on the last step.
    for (int64_t k = 0; k < int64_t(count); ++k)
      items.push_back(
          Value::integer(int64_t(__int128(start) + __int128(k) * stepBy)));
    if (!step(items.size()))
      return false;
    out = Value::list(std::move(items), Seq::Range);
    auto &l = static_cast<ListObj &>(*out.obj);
    l.start = start;
    l.stop = stop;
    l.step = stepBy;
    return true;
  }
  case Fn::Dict:
  case Fn::Namespace: {
    if (args.pos.size() > 1)
      return fail(std::string(fn.fn == Fn::Dict ? "dict" : "namespace") +
                  " expected at most 1 argument, got " +
                  std::to_string(args.pos.size()));
    std::vector<std::pair<Value, Value>> items;
    if (!args.pos.empty() && !pairsOf(*this, args.pos[0], items))
      return false;
    for (Kwarg &kw : args.kw)
      if (!dictSet(items, Value::str(kw.name), std::move(kw.value)))
        return false;
    if (fn.fn == Fn::Dict) {
      out = Value::dict(std::move(items));
      return true;
    }
    auto ns = std::make_shared<NamespaceObj>();
    for (auto &[k, v] : items) {
      if (k.kind != Kind::Str)
        return fail("keywords must be strings");
      if (!k.s.empty() && k.s[0] == '_')
        return fail("Chat templates cannot store underscore-prefixed "
                    "attributes on a namespace, but got '" +
                    k.s + "'. Please rename the attribute.");
      ns->attrs.emplace_back(k.s, std::move(v));
    }
    cyclic.push_back(ns);
    out = Value();
    out.kind = Kind::Namespace;
    out.obj = std::move(ns);
    return true;
  }
  case Fn::RaiseException: {
    if (!bind("raise_exception", args, {"message"}, 1, a, given))
      return false;
    std::string message;
    if (!toStr(a[0], message))
      return false;
    return raise(message);
  }
  case Fn::StrftimeNow: {
    if (!bind("strftime_now", args, {"format"}, 1, a, given))
      return false;
    if (a[0].kind != Kind::Str)
      return fail("strftime() argument 1 must be str, not " +
                  std::string(typeName(a[0])));
    if (a[0].s.size() > 4096)
      return fail("strftime format too long");
    out = Value::str(strftimeNow(a[0].s, hasNow, now));
    return true;
  }
  case Fn::StrMethod:
    return strMethod(*this, fn.name, fn.self.s, std::move(args), out);
  case Fn::DictMethod: {
    const DictObj &d = dictOf(fn.self);
    if (fn.name == "get") {
      if (!bind("get", args, {"key", "default"}, 1, a, given))
        return false;
      if (!isHashable(a[0]))
        return fail(std::string("unhashable type: '") + typeName(a[0]) + "'");
      for (const auto &[k, v] : d.items) {
        bool e;
        if (!equals(k, a[0], e))
          return false;
        if (e) {
          out = v;
          return true;
        }
      }
      out = given[1] ? a[1] : Value::none();
      return true;
    }
    if (!bind(fn.name.c_str(), args, {}, 0, a, given))
      return false;
    std::vector<Value> items;
    Seq seq = Seq::DictItems;
    for (const auto &[k, v] : d.items) {
      if (fn.name == "items")
        items.push_back(Value::list({k, v}, Seq::Tuple));
      else
        items.push_back(fn.name == "values" ? v : k);
    }
    if (fn.name == "copy") {
      out = Value::dict(d.items);
      return true;
    }
    if (fn.name == "keys")
      seq = Seq::DictKeys;
    else if (fn.name == "values")
      seq = Seq::DictValues;
    else if (fn.name != "items")
      return fail("unsupported dict method '" + fn.name + "'");
    out = Value::list(std::move(items), seq);
    return true;
  }
  case Fn::ListMethod: {
    const auto &items = listOf(fn.self).items;
    if (fn.name == "copy") {
      out = Value::list(items);
      return true;
    }
    if (!bind(fn.name.c_str(), args, {"value"}, 1, a, given))
      return false;
    int64_t count = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      bool e;
      if (!equals(items[i], a[0], e))
        return false;
      if (e && fn.name == "index") {
        out = Value::integer(int64_t(i));
        return true;
      }
      count += e;
    }
    if (fn.name == "index") {
      std::string r;
      toRepr(a[0], r);
      return fail(r + " is not in list");
    }
    out = Value::integer(count);
    return true;
  }
  case Fn::LoopCycle: {
    if (args.pos.empty())
      return fail("no items for cycling given");
    const LoopObj &l = loopOf(fn.self);
    out = args.pos[l.index % args.pos.size()];
    return true;
  }
  case Fn::LoopChanged: {
    LoopObj &l = loopOf(fn.self);
    bool same = l.hasChanged && l.lastChanged.size() == args.pos.size();
    for (size_t i = 0; same && i < args.pos.size(); ++i)
      if (!equals(l.lastChanged[i], args.pos[i], same))
        return false;
    l.lastChanged = args.pos;
    l.hasChanged = true;
    out = Value::boolean(!same);
    return true;
  }
  }
  return fail("unknown builtin");
}

//===----------------------------------------------------------------------===//
// Filters
//===----------------------------------------------------------------------===//

namespace {

const std::initializer_list<const char *> kFilters = {
    "abs",    "attr",        "batch",    "capitalize", "center",  "count",
    "d",      "default",     "dictsort", "e",          "escape",  "first",
    "float",  "forceescape", "format",   "indent",     "int",     "items",
    "join",   "last",        "length",   "list",       "lower",   "map",
    "max",    "min",         "reject",   "rejectattr", "replace", "reverse",
    "round",  "safe",        "select",   "selectattr", "slice",   "sort",
    "string", "sum",         "title",    "tojson",     "trim",    "truncate",
    "unique", "upper",       "wordcount"};
const std::initializer_list<const char *> kUnsupportedFilters = {
    "filesizeformat", "groupby", "pprint",   "random", "striptags",
    "urlencode",      "urlize",  "wordwrap", "xmlattr"};
const std::initializer_list<const char *> kTests = {
    "boolean",  "callable",    "defined", "divisibleby", "eq",       "equalto",
    "escaped",  "even",        "false",   "filter",      "float",    "ge",
    "gt",       "greaterthan", "in",      "integer",     "iterable", "le",
    "lessthan", "lower",       "lt",      "mapping",     "ne",       "none",
    "number",   "odd",         "sameas",  "sequence",    "string",   "test",
    "true",     "undefined",   "upper",   "==",          "!=",       "<",
    "<=",       ">",           ">="};

std::string htmlEscape(const std::string &s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&#34;";
      break;
    case '\'':
      out += "&#39;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

} // namespace

bool isKnownFilter(const std::string &name) { return isOneOf(name, kFilters); }
bool isKnownTest(const std::string &name) { return isOneOf(name, kTests); }
bool isContextFilter(const std::string &name) {
  return isOneOf(name, {"map", "select", "reject", "selectattr", "rejectattr"});
}
bool isUnsupportedFilter(const std::string &name) {
  return isOneOf(name, kUnsupportedFilters);
}

namespace {

/// jinja2's make_attrgetter: "a.b.0" walks getitem step by step.
bool attrPath(Interp &in, const Value &item, const Value &attribute,
              const Value *dflt, Value &out) {
  out = item;
  std::vector<Value> parts;
  if (attribute.kind == Kind::Str) {
    size_t start = 0;
    const std::string &s = attribute.s;
    while (true) {
      size_t dot = s.find('.', start);
      std::string part = s.substr(
          start, dot == std::string::npos ? std::string::npos : dot - start);
      bool digits = !part.empty() &&
                    std::all_of(part.begin(), part.end(),
                                [](char c) { return c >= '0' && c <= '9'; });
      parts.push_back(digits && part.size() < 18
                          ? Value::integer(std::atoll(part.c_str()))
                          : Value::str(part));
      if (dot == std::string::npos)
        break;
      start = dot + 1;
    }
  } else if (attribute.kind != Kind::None &&
             attribute.kind != Kind::Undefined) {
    parts.push_back(attribute);
  }
  for (const Value &part : parts) {
    Value next;
    if (!in.getItem(out, part, next))
      return false;
    out = std::move(next);
    if (dflt && out.isUndefined())
      out = *dflt;
  }
  return true;
}

Value ignoreCase(const Value &v) {
  return v.kind == Kind::Str ? Value::str(lowerStr(v.s)) : v;
}

/// Sorts `items` by `keys` with Python's `<`, stably; `reverse` keeps
/// equal items in order, as sorted(reverse=True) does.
bool sortBy(Interp &in, std::vector<Value> &items,
            const std::vector<Value> &keys, bool reverse) {
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  bool ok = true;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    if (!ok)
      return false;
    bool r;
    if (!in.compare("<", keys[reverse ? y : x], keys[reverse ? x : y], r)) {
      ok = false;
      return false;
    }
    return r;
  });
  if (!ok)
    return false;
  std::vector<Value> sorted;
  for (size_t i : order)
    sorted.push_back(items[i]);
  items = std::move(sorted);
  return true;
}

} // namespace

bool Interp::callFilter(const std::string &name, const Value &input, Args args,
                        Value &out) {
  std::vector<Value> a;
  std::vector<bool> given;
  auto bindf = [&](std::initializer_list<const char *> names, size_t required) {
    return bind(name.c_str(), args, names, required, a, given);
  };
  auto asStr = [&](const Value &v, std::string &s) { return toStr(v, s); };
  auto truth = [&](const Value &v) {
    bool t = false;
    truthy(v, t);
    return t;
  };
  if (!step())
    return false;

  if (name == "tojson") {
    // transformers: json.dumps(x, ensure_ascii=False, indent=indent,
    // separators=separators, sort_keys=sort_keys).
    if (!bindf({"ensure_ascii", "indent", "separators", "sort_keys"}, 0))
      return false;
    std::string indentText, itemSep, keySep = ": ";
    const std::string *indent = nullptr;
    if (given[1] && a[1].kind != Kind::None) {
      if (a[1].isIntLike())
        indentText = std::string(
            size_t(std::max<int64_t>(0, std::min<int64_t>(a[1].asInt(), 1000))),
            ' ');
      else if (a[1].kind == Kind::Str)
        indentText = a[1].s;
      else
        return fail("indent must be an int or a str");
      indent = &indentText;
    }
    itemSep = indent ? "," : ", ";
    if (given[2] && a[2].kind != Kind::None) {
      std::vector<Value> seps;
      if (!iterate(a[2], seps))
        return false;
      if (seps.size() != 2 || seps[0].kind != Kind::Str ||
          seps[1].kind != Kind::Str)
        return fail("separators must be a pair of strings");
      itemSep = seps[0].s;
      keySep = seps[1].s;
    }
    std::string text;
    if (!toJson(input, text, indent, itemSep, keySep, truth(a[3]), truth(a[0]),
                0))
      return false;
    out = Value::str(std::move(text));
    return true;
  }
  if (name == "length" || name == "count") {
    int64_t n;
    if (!bindf({}, 0) || !length(input, n))
      return false;
    out = Value::integer(n);
    return true;
  }
  if (name == "trim") {
    if (!bindf({"chars"}, 0))
      return false;
    std::string s;
    bool ok;
    std::vector<uint32_t> set = stripSet(*this, a[0], ok);
    if (!ok || !asStr(input, s))
      return false;
    out = Value::str(
        stripStr(s, a[0].kind == Kind::Str ? &set : nullptr, true, true));
    return true;
  }
  if (name == "upper" || name == "lower" || name == "title" ||
      name == "capitalize" || name == "string" || name == "safe" ||
      name == "e" || name == "escape" || name == "forceescape" ||
      name == "wordcount") {
    std::string s;
    if (!bindf({}, 0) || !asStr(input, s))
      return false;
    if (name == "upper")
      s = upperStr(s);
    else if (name == "lower")
      s = lowerStr(s);
    else if (name == "capitalize")
      s = capitalizeStr(s);
    else if (name == "e" || name == "escape" || name == "forceescape")
      s = htmlEscape(s);
    else if (name == "title") {
      // jinja2: each word (split at runs of whitespace and -([{<) is
      // item[0].upper() + item[1:].lower().
      auto separator = [](uint32_t c) {
        return isPySpace(c) || c == '-' || c == '(' || c == '{' || c == '[' ||
               c == '<';
      };
      std::string r;
      for (size_t i = 0; i < s.size();) {
        size_t len;
        uint32_t c = decodeAt(s, i, len);
        if (separator(c)) {
          r.append(s, i, len);
          i += len;
          continue;
        }
        size_t end = i + len;
        for (size_t l; end < s.size() && !separator(decodeAt(s, end, l));)
          end += l;
        r += upperStr(s.substr(i, len)) +
             lowerStr(s.substr(i + len, end - i - len));
        i = end;
      }
      s = r;
    } else if (name == "wordcount") {
      int64_t words = 0;
      bool in = false;
      for (uint32_t c : decodeUtf8(s)) {
        bool w = isWordCp(c);
        words += w && !in;
        in = w;
      }
      out = Value::integer(words);
      return true;
    } else if (name == "string" && input.kind == Kind::Str) {
      out = input;
      return true;
    }
    out = Value::str(std::move(s));
    return true;
  }
  if (name == "replace") {
    if (!bindf({"old", "new", "count"}, 2))
      return false;
    std::string s, o, w;
    if (!asStr(input, s) || !asStr(a[0], o) || !asStr(a[1], w))
      return false;
    int64_t count = given[2] && a[2].isIntLike() ? a[2].asInt() : -1;
    std::string r = replaceStr(s, o, w, count);
    if (!checkSize(r.size()))
      return false;
    out = Value::str(std::move(r));
    return true;
  }
  if (name == "default" || name == "d") {
    if (!bindf({"default_value", "boolean"}, 0))
      return false;
    Value dflt = given[0] ? a[0] : Value::str("");
    if (input.isUndefined() || (truth(a[1]) && !truth(input)))
      out = dflt;
    else
      out = input;
    return true;
  }
  if (name == "join") {
    if (!bindf({"d", "attribute"}, 0))
      return false;
    std::string sep;
    if (given[0] && !asStr(a[0], sep))
      return false;
    std::vector<Value> items;
    if (!iterate(input, items))
      return false;
    std::string r;
    for (size_t i = 0; i < items.size(); ++i) {
      Value item = items[i];
      if (given[1] && a[1].kind != Kind::None &&
          !attrPath(*this, items[i], a[1], nullptr, item))
        return false;
      std::string s;
      if (!asStr(item, s))
        return false;
      if (i)
        r += sep;
      r += s;
      if (!checkSize(r.size()))
        return false;
    }
    out = Value::str(std::move(r));
    return true;
  }
  if (name == "first" || name == "last") {
    if (!bindf({}, 0))
      return false;
    if (name == "first" && input.kind == Kind::Iter) {
      IterObj &it = iterOf(input);
      if (!it.error.empty() && it.pos >= it.errorAt)
        return fail(it.error);
      if (it.pos < it.items.size()) {
        out = it.items[it.pos++];
        return true;
      }
    } else {
      if (name == "last" && input.kind == Kind::Iter)
        return fail("'" + iterOf(input).typeName +
                    "' object is not reversible");
      std::vector<Value> items;
      if (!iterate(input, items))
        return false;
      if (!items.empty()) {
        out = name == "first" ? items.front() : items.back();
        return true;
      }
    }
    out = Value::undefined(std::string("No ") + name +
                           " item, sequence was empty.");
    return true;
  }
  if (name == "list") {
    std::vector<Value> items;
    if (!bindf({}, 0) || !iterate(input, items))
      return false;
    out = Value::list(std::move(items));
    return true;
  }
  if (name == "items") {
    if (!bindf({}, 0))
      return false;
    std::vector<Value> items;
    if (input.kind == Kind::Dict) {
      for (const auto &[k, v] : dictOf(input).items)
        items.push_back(Value::list({k, v}, Seq::Tuple));
    } else if (!input.isUndefined()) {
      return fail("Can only get item pairs from a mapping.");
    }
    out = makeIter(std::move(items));
    return true;
  }
  if (name == "dictsort") {
    if (!bindf({"case_sensitive", "by", "reverse"}, 0))
      return false;
    if (input.kind != Kind::Dict)
      return fail(std::string("'") + typeName(input) +
                  "' object has no attribute 'items'");
    int pos = 0;
    if (given[1]) {
      if (a[1].kind == Kind::Str && a[1].s == "value")
        pos = 1;
      else if (!(a[1].kind == Kind::Str && a[1].s == "key"))
        return fail("You can only sort by either \"key\" or \"value\"");
    }
    std::vector<Value> items, keys;
    for (const auto &[k, v] : dictOf(input).items) {
      items.push_back(Value::list({k, v}, Seq::Tuple));
      const Value &key = pos ? v : k;
      keys.push_back(truth(a[0]) ? key : ignoreCase(key));
    }
    if (!sortBy(*this, items, keys, truth(a[2])))
      return false;
    out = Value::list(std::move(items));
    return true;
  }
  if (name == "sort" || name == "unique" || name == "min" || name == "max") {
    bool isSort = name == "sort";
    if (isSort ? !bindf({"reverse", "case_sensitive", "attribute"}, 0)
               : !bindf({"case_sensitive", "attribute"}, 0))
      return false;
    bool caseSensitive = truth(a[isSort ? 1 : 0]);
    const Value &attribute = a[isSort ? 2 : 1];
    std::vector<Value> items, keys;
    if (!iterate(input, items))
      return false;
    for (const Value &item : items) {
      std::vector<Value> key(1);
      if (isSort && attribute.kind == Kind::Str &&
          attribute.s.find(',') != std::string::npos) {
        // sort(attribute="a,b") compares several attributes in turn.
        key.clear();
        size_t start = 0;
        while (true) {
          size_t comma = attribute.s.find(',', start);
          Value one;
          if (!attrPath(*this, item,
                        Value::str(
                            attribute.s.substr(start, comma == std::string::npos
                                                          ? std::string::npos
                                                          : comma - start)),
                        nullptr, one))
            return false;
          key.push_back(caseSensitive ? one : ignoreCase(one));
          if (comma == std::string::npos)
            break;
          start = comma + 1;
        }
        keys.push_back(Value::list(std::move(key)));
        continue;
      }
      if (!attrPath(*this, item, attribute, nullptr, key[0]))
        return false;
      Value k = caseSensitive ? key[0] : ignoreCase(key[0]);
      keys.push_back(isSort ? Value::list({k}) : k);
    }
    if (isSort) {
      if (!sortBy(*this, items, keys, truth(a[0])))
        return false;
      out = Value::list(std::move(items));
      return true;
    }
    if (name == "unique") {
      std::vector<Value> result, seen;
      for (size_t i = 0; i < items.size(); ++i) {
        if (!isHashable(keys[i]))
          return fail(std::string("unhashable type: '") + typeName(keys[i]) +
                      "'");
        bool dup = false;
        for (const Value &s : seen) {
          if (!equals(s, keys[i], dup))
            return false;
          if (dup)
            break;
        }
        if (!dup) {
          seen.push_back(keys[i]);
          result.push_back(items[i]);
        }
      }
      out = makeIter(std::move(result));
      return true;
    }
    if (items.empty()) {
      out = Value::undefined("No aggregated item, sequence was empty.");
      return true;
    }
    size_t best = 0;
    for (size_t i = 1; i < items.size(); ++i) {
      bool better;
      if (!compare(name == "min" ? "<" : ">", keys[i], keys[best], better))
        return false;
      if (better)
        best = i;
    }
    out = items[best];
    return true;
  }
  if (name == "map" || name == "select" || name == "reject" ||
      name == "selectattr" || name == "rejectattr") {
    std::vector<Value> items, result;
    if (truth(input) && !iterate(input, items))
      return false;
    auto it = std::make_shared<IterObj>();
    bool isMap = name == "map";
    bool lookupAttr = name == "selectattr" || name == "rejectattr";
    bool keepIf = name == "select" || name == "selectattr";
    if (isMap && args.pos.empty()) {
      // map(attribute=..., default=...)
      Value attribute, dflt;
      bool hasAttr = false, hasDefault = false;
      for (Kwarg &kw : args.kw) {
        if (kw.name == "attribute") {
          attribute = kw.value;
          hasAttr = true;
        } else if (kw.name == "default") {
          dflt = kw.value;
          hasDefault = true;
        } else {
          return fail("Unexpected keyword argument '" + kw.name + "'");
        }
      }
      if (!hasAttr && !items.empty())
        return fail("map requires a filter argument");
      for (const Value &item : items) {
        Value v;
        if (!attrPath(*this, item, attribute,
                      hasDefault && dflt.kind != Kind::None ? &dflt : nullptr,
                      v))
          return false;
        result.push_back(std::move(v));
      }
    } else if (!items.empty()) {
      size_t off = lookupAttr ? 1 : 0;
      if (lookupAttr && args.pos.empty())
        return fail("Missing parameter for attribute name");
      if (isMap && (args.pos.empty() || args.pos[0].kind != Kind::Str))
        return fail("map requires a filter argument");
      std::string fname;
      if (args.pos.size() > off) {
        if (args.pos[off].kind != Kind::Str)
          return fail("filter or test name must be a string");
        fname = args.pos[off].s;
      }
      Args rest;
      for (size_t i = off + 1; i < args.pos.size(); ++i)
        rest.pos.push_back(args.pos[i]);
      rest.kw = args.kw;
      if (isMap && !isKnownFilter(fname))
        return fail("No filter named '" + fname + "'.");
      if (!isMap && !fname.empty() && !isKnownTest(fname))
        return fail("No test named '" + fname + "'.");
      for (const Value &item : items) {
        // Errors are kept for when iteration reaches them (lazy filters).
        Value subject = item;
        bool ok =
            !lookupAttr || attrPath(*this, item, args.pos[0], nullptr, subject);
        Value mapped;
        bool keep = false;
        if (ok && isMap) {
          ok = callFilter(fname, subject, rest, mapped);
        } else if (ok && fname.empty()) {
          keep = truth(subject);
        } else if (ok) {
          ok = callTest(fname, subject, rest, keep);
        }
        if (!ok) {
          if (raised)
            return false;
          it->error = error;
          it->errorAt = result.size();
          failed = false;
          error.clear();
          break;
        }
        if (isMap)
          result.push_back(std::move(mapped));
        else if (keep == keepIf)
          result.push_back(item);
      }
    }
    it->items = std::move(result);
    out = Value();
    out.kind = Kind::Iter;
    out.obj = std::move(it);
    return true;
  }
  if (name == "reverse") {
    if (!bindf({}, 0))
      return false;
    if (input.kind == Kind::Str) {
      std::vector<uint32_t> cps = decodeUtf8(input.s);
      std::reverse(cps.begin(), cps.end());
      out = Value::str(encodeUtf8(cps, 0, cps.size()));
      return true;
    }
    std::vector<Value> items;
    if (!iterate(input, items))
      return false;
    std::reverse(items.begin(), items.end());
    if (input.kind == Kind::Iter) {
      out = Value::list(std::move(items));
      return true;
    }
    out = makeIter(std::move(items), input.kind == Kind::Dict
                                         ? "dict_reversekeyiterator"
                                         : "list_reverseiterator");
    return true;
  }
  if (name == "sum") {
    if (!bindf({"attribute", "start"}, 0))
      return false;
    std::vector<Value> items;
    if (!iterate(input, items))
      return false;
    Value total = given[1] ? a[1] : Value::integer(0);
    for (const Value &item : items) {
      Value v = item, next;
      if (given[0] && a[0].kind != Kind::None &&
          !attrPath(*this, item, a[0], nullptr, v))
        return false;
      if (!binary("+", total, v, next))
        return false;
      total = std::move(next);
    }
    out = total;
    return true;
  }
  if (name == "abs") {
    if (!bindf({}, 0))
      return false;
    if (input.kind == Kind::Float) {
      out = Value::number(std::fabs(input.f));
    } else if (input.isIntLike()) {
      if (input.asInt() == INT64_MIN)
        return fail("integer overflow");
      out = Value::integer(std::llabs(input.asInt()));
    } else {
      return fail(std::string("bad operand type for abs(): '") +
                  typeName(input) + "'");
    }
    return true;
  }
  if (name == "int") {
    if (!bindf({"default", "base"}, 0))
      return false;
    Value dflt = given[0] ? a[0] : Value::integer(0);
    int base = given[1] && a[1].isIntLike() ? int(a[1].asInt()) : 10;
    if (input.isUndefined())
      return fail(input.s);
    int64_t i;
    double d;
    if (input.isIntLike()) {
      out = Value::integer(input.asInt());
    } else if (input.kind == Kind::Float) {
      if (!std::isfinite(input.f))
        return fail(std::isnan(input.f)
                        ? "cannot convert float NaN to integer"
                        : "cannot convert float infinity to integer");
      if (std::fabs(input.f) >= 9.2e18)
        return fail("integer overflow");
      out = Value::integer(int64_t(std::trunc(input.f)));
    } else if (input.kind == Kind::Str && parsePyInt(input.s, base, i)) {
      out = Value::integer(i);
    } else if (input.kind == Kind::Str && parsePyFloat(input.s, d) &&
               std::isfinite(d) && std::fabs(d) < 9.2e18) {
      out = Value::integer(int64_t(std::trunc(d)));
    } else {
      out = dflt;
    }
    return true;
  }
  if (name == "float") {
    if (!bindf({"default"}, 0))
      return false;
    double d;
    if (input.isUndefined())
      return fail(input.s);
    if (input.isNumber())
      out = Value::number(input.asDouble());
    else if (input.kind == Kind::Str && parsePyFloat(input.s, d))
      out = Value::number(d);
    else
      out = given[0] ? a[0] : Value::number(0.0);
    return true;
  }
  if (name == "round") {
    if (!bindf({"precision", "method"}, 0))
      return false;
    int64_t precision = given[0] && a[0].isIntLike() ? a[0].asInt() : 0;
    std::string method = given[1] && a[1].kind == Kind::Str ? a[1].s : "common";
    if (method != "common" && method != "ceil" && method != "floor")
      return fail("method must be common, ceil or floor");
    if (input.isUndefined())
      return fail(input.s);
    if (!input.isNumber())
      return fail(std::string("type ") + typeName(input) +
                  " doesn't define __round__ method");
    if (method == "common" && input.isIntLike() && precision >= 0) {
      out = Value::integer(input.asInt());
      return true;
    }
    double x = input.asDouble();
    if (method != "common") {
      double scale = std::pow(10.0, double(precision));
      out = Value::number(
          (method == "ceil" ? std::ceil(x * scale) : std::floor(x * scale)) /
          scale);
      return true;
    }
    if (!std::isfinite(x) || precision > 300) {
      out = Value::number(x);
    } else if (precision >= 0) {
      // printf rounds the exact binary value half-to-even, as round() does.
      std::vector<char> buf(
          size_t(snprintf(nullptr, 0, "%.*f", int(precision), x)) + 1);
      snprintf(buf.data(), buf.size(), "%.*f", int(precision), x);
      out = Value::number(std::strtod(buf.data(), nullptr));
    } else if (precision < -400) {
      out = Value::number(std::copysign(0.0, x));
    } else {
      double scale = std::pow(10.0, double(-precision));
      out = Value::number(std::nearbyint(x / scale) * scale);
    }
    if (input.isIntLike()) {
      if (!(std::fabs(out.f) < 9.2e18))
        return fail("integer overflow");
      out = Value::integer(int64_t(out.f));
    }
    return true;
  }
  if (name == "indent") {
    if (!bindf({"width", "first", "blank"}, 0))
      return false;
    // jinja2 appends "\n" to the value itself, so only a str works.
    Value appended;
    if (!binary("+", input, Value::str("\n"), appended))
      return false;
    std::string s = input.s, ind = "    ";
    if (given[0]) {
      if (a[0].kind == Kind::Str)
        ind = a[0].s;
      else if (a[0].isIntLike())
        ind = std::string(
            size_t(std::max<int64_t>(0, std::min<int64_t>(a[0].asInt(), 1000))),
            ' ');
    }
    s += "\n";
    std::vector<std::string> lines = splitLines(s, false);
    std::string r;
    if (truth(a[2])) {
      for (size_t i = 0; i < lines.size(); ++i)
        r += (i ? "\n" + ind : "") + lines[i];
    } else {
      r = lines.empty() ? "" : lines[0];
      for (size_t i = 1; i < lines.size(); ++i) {
        r += "\n";
        if (!lines[i].empty())
          r += ind + lines[i];
        if (!checkSize(r.size()))
          return false;
      }
    }
    if (truth(a[1]))
      r = ind + r;
    out = Value::str(std::move(r));
    return checkSize(out.s.size());
  }
  if (name == "center") {
    if (!bindf({"width"}, 0))
      return false;
    std::string s;
    if (!asStr(input, s))
      return false;
    int64_t width = given[0] && a[0].isIntLike() ? a[0].asInt() : 80;
    out = Value::str(justify(s, width, " ", '^'));
    return checkSize(out.s.size());
  }
  if (name == "truncate") {
    if (!bindf({"length", "killwords", "end", "leeway"}, 0))
      return false;
    std::string s = input.s, end = "...";
    if (given[2] && !asStr(a[2], end))
      return false;
    if (input.kind != Kind::Str) {
      // jinja2 truncates the value itself: a short sized value comes back
      // unchanged, anything else fails as Python would.
      int64_t n;
      int64_t limit = given[0] && a[0].isIntLike() ? a[0].asInt() : 255;
      int64_t slack = given[3] && a[3].isIntLike() ? a[3].asInt() : 5;
      if (!length(input, n))
        return false;
      if (n - slack <= limit) {
        out = input;
        return true;
      }
      return fail(std::string("can only concatenate ") + typeName(input) +
                  " (not \"str\") to " + typeName(input));
    }
    int64_t len = given[0] && a[0].isIntLike() ? a[0].asInt() : 255;
    int64_t leeway = given[3] && a[3].isIntLike() ? a[3].asInt() : 5;
    int64_t endLen = int64_t(codepointCount(end));
    if (len < endLen)
      return fail("expected length >= " + std::to_string(endLen) + ", got " +
                  std::to_string(len));
    std::vector<uint32_t> cps = decodeUtf8(s);
    if (leeway < 0)
      return fail("expected leeway >= 0, got " + std::to_string(leeway));
    if (int64_t(cps.size()) - leeway <= len) {
      out = Value::str(s);
      return true;
    }
    std::string head = encodeUtf8(cps, 0, size_t(len - endLen));
    if (!truth(a[1])) {
      size_t space = head.rfind(' ');
      if (space != std::string::npos)
        head.resize(space);
    }
    out = Value::str(head + end);
    return true;
  }
  if (name == "batch" || name == "slice") {
    if (!bindf({name == "batch" ? "linecount" : "slices", "fill_with"}, 1))
      return false;
    if (!a[0].isIntLike() || a[0].asInt() <= 0)
      return fail(name + "() needs a positive count");
    std::vector<Value> items, groups;
    if (!iterate(input, items))
      return false;
    size_t count = size_t(a[0].asInt());
    bool fill = given[1] && a[1].kind != Kind::None;
    if (name == "batch") {
      for (size_t i = 0; i < items.size(); i += count) {
        std::vector<Value> group(items.begin() + i,
                                 items.begin() +
                                     std::min(items.size(), i + count));
        while (fill && group.size() < count)
          group.push_back(a[1]);
        groups.push_back(Value::list(std::move(group)));
      }
    } else {
      if (count > size_t(kMaxRange))
        return fail("slice count too large");
      size_t per = items.size() / count, extra = items.size() % count;
      size_t offset = 0;
      for (size_t k = 0; k < count; ++k) {
        size_t start = offset + k * per;
        if (k < extra)
          ++offset;
        size_t end = offset + (k + 1) * per;
        std::vector<Value> group(items.begin() + start, items.begin() + end);
        if (fill && k >= extra)
          group.push_back(a[1]);
        groups.push_back(Value::list(std::move(group)));
      }
    }
    out = makeIter(std::move(groups));
    return true;
  }
  if (name == "attr") {
    if (!bindf({"name"}, 1))
      return false;
    if (a[0].kind != Kind::Str)
      return fail("attribute name must be a string");
    if (input.isUndefined())
      return fail(input.s);
    if (!pythonAttr(input, a[0].s, out))
      out = noAttr(input, a[0].s);
    return true;
  }
  if (name == "format") {
    std::string s;
    if (!asStr(input, s))
      return false;
    if (!args.pos.empty() && !args.kw.empty())
      return fail("can't handle positional and keyword arguments at the "
                  "same time");
    Value params;
    if (!args.kw.empty()) {
      std::vector<std::pair<Value, Value>> items;
      for (Kwarg &kw : args.kw)
        items.emplace_back(Value::str(kw.name), kw.value);
      params = Value::dict(std::move(items));
    } else {
      params = Value::list(args.pos, Seq::Tuple);
    }
    std::string r;
    if (!percentFormat(*this, s, params, r))
      return false;
    out = Value::str(std::move(r));
    return true;
  }
  return fail("unsupported filter '" + name + "'");
}

//===----------------------------------------------------------------------===//
// Tests
//===----------------------------------------------------------------------===//

bool Interp::callTest(const std::string &name, const Value &input, Args args,
                      bool &out) {
  std::vector<Value> a;
  std::vector<bool> given;
  auto bindt = [&](std::initializer_list<const char *> names, size_t required) {
    return bind(name.c_str(), args, names, required, a, given);
  };
  if (!step())
    return false;
  if (name == "defined" || name == "undefined") {
    if (!bindt({}, 0))
      return false;
    out = input.isUndefined() == (name == "undefined");
    return true;
  }
  if (!bindt({"other"}, 0))
    return false;
  Kind k = input.kind;
  if (name == "none")
    out = k == Kind::None;
  else if (name == "boolean")
    out = k == Kind::Bool;
  else if (name == "true")
    out = k == Kind::Bool && input.b;
  else if (name == "false")
    out = k == Kind::Bool && !input.b;
  else if (name == "integer")
    out = k == Kind::Int;
  else if (name == "float")
    out = k == Kind::Float;
  else if (name == "number")
    out = input.isNumber();
  else if (name == "string")
    out = k == Kind::Str;
  else if (name == "mapping")
    out = k == Kind::Dict;
  else if (name == "sequence")
    out = k == Kind::Str || k == Kind::Dict || k == Kind::Undefined ||
          (k == Kind::List &&
           (listOf(input).seq == Seq::List || listOf(input).seq == Seq::Tuple ||
            listOf(input).seq == Seq::Range));
  else if (name == "iterable")
    out = k == Kind::Str || k == Kind::List || k == Kind::Dict ||
          k == Kind::Iter || k == Kind::Undefined || k == Kind::Loop;
  else if (name == "callable")
    out = k == Kind::Func || k == Kind::Undefined || k == Kind::Loop;
  else if (name == "escaped")
    out = false;
  else if (name == "lower" || name == "upper") {
    std::string s;
    Value m;
    if (!toStr(input, s) ||
        !strMethod(*this, name == "lower" ? "islower" : "isupper", s, Args(),
                   m))
      return false;
    out = m.b;
  } else if (name == "odd" || name == "even" || name == "divisibleby") {
    Value divisor = name == "divisibleby" ? a[0] : Value::integer(2);
    if (name == "divisibleby" && !given[0])
      return fail("divisibleby() missing required argument 'num'");
    Value mod;
    bool eq;
    if (!binary("%", input, divisor, mod) ||
        !equals(mod, Value::integer(name == "odd" ? 1 : 0), eq))
      return false;
    out = eq;
  } else if (name == "filter") {
    out = input.kind == Kind::Str && isKnownFilter(input.s);
  } else if (name == "test") {
    out = input.kind == Kind::Str && isKnownTest(input.s);
  } else if (name == "sameas") {
    bool eq = false;
    if (input.kind == a[0].kind) {
      if (input.kind == Kind::None || input.kind == Kind::Bool ||
          input.kind == Kind::Int)
        equals(input, a[0], eq);
      else if (input.kind == Kind::Undefined)
        eq = false;
      else
        eq = input.obj && input.obj == a[0].obj;
    }
    out = eq;
  } else if (name == "in") {
    if (!given[0])
      return fail("in() missing required argument 'seq'");
    return contains(a[0], input, out);
  } else if (name == "eq" || name == "equalto" || name == "==" ||
             name == "ne" || name == "!=") {
    if (!given[0])
      return fail(name + "() missing required argument");
    if (!equals(input, a[0], out))
      return false;
    if (name == "ne" || name == "!=")
      out = !out;
  } else {
    std::string op = name == "lt" || name == "lessthan" || name == "<" ? "<"
                     : name == "le" || name == "<="                    ? "<="
                     : name == "gt" || name == "greaterthan" || name == ">"
                         ? ">"
                     : name == "ge" || name == ">=" ? ">="
                                                    : "";
    if (op.empty())
      return fail("No test named '" + name + "'.");
    if (!given[0])
      return fail(name + "() missing required argument");
    return compare(op, input, a[0], out);
  }
  return true;
}

} // namespace lmc::rt::ct
