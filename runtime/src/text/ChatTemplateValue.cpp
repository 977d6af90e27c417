//===- ChatTemplateValue.cpp - Python objects for chat templates ----------===//
//
// The object protocol jinja2 delegates to Python: truthiness, len(), ==,
// ordering, `in`, str() and repr(), arithmetic, json.dumps (transformers'
// tojson) and the sandbox's attribute and item lookup.
//
//===----------------------------------------------------------------------===//

#include "ChatTemplateImpl.h"
#include "Json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace lmc::rt::ct {

//===----------------------------------------------------------------------===//
// Values and scopes
//===----------------------------------------------------------------------===//

Value Value::undefined(std::string message, bool unsafe) {
  Value v;
  v.kind = Kind::Undefined;
  v.s = std::move(message);
  if (unsafe) {
    auto u = std::make_shared<UndefinedObj>();
    u->unsafe = true;
    v.obj = std::move(u);
  }
  return v;
}

int nestingDepth(const Value &v) {
  switch (v.kind) {
  case Kind::List:
    return static_cast<const ListObj &>(*v.obj).depth;
  case Kind::Dict:
    return static_cast<const DictObj &>(*v.obj).depth;
  case Kind::Iter: {
    int depth = 0;
    for (const Value &item : static_cast<const IterObj &>(*v.obj).items)
      depth = std::max(depth, nestingDepth(item));
    return depth + 1;
  }
  default:
    return 0;
  }
}

Value Value::list(std::vector<Value> items, Seq seq) {
  auto l = std::make_shared<ListObj>();
  l->seq = seq;
  for (const Value &item : items)
    l->depth = std::max(l->depth, nestingDepth(item) + 1);
  l->items = std::move(items);
  Value v;
  v.kind = Kind::List;
  v.obj = std::move(l);
  return v;
}

Value Value::dict(std::vector<std::pair<Value, Value>> items) {
  auto d = std::make_shared<DictObj>();
  for (const auto &[key, value] : items)
    d->depth = std::max(d->depth,
                        std::max(nestingDepth(key), nestingDepth(value)) + 1);
  d->items = std::move(items);
  Value v;
  v.kind = Kind::Dict;
  v.obj = std::move(d);
  return v;
}

Value *Scope::find(const std::string &name) {
  for (auto &[key, value] : vars)
    if (key == name)
      return &value;
  return nullptr;
}

void Scope::set(const std::string &name, Value value) {
  if (Value *v = find(name))
    *v = std::move(value);
  else
    vars.emplace_back(name, std::move(value));
}

Value makeIter(std::vector<Value> items, std::string typeName) {
  auto it = std::make_shared<IterObj>();
  it->items = std::move(items);
  it->typeName = std::move(typeName);
  Value v;
  v.kind = Kind::Iter;
  v.obj = std::move(it);
  return v;
}

Value makeMethod(Fn fn, const std::string &name, const Value &self) {
  auto f = std::make_shared<FuncObj>();
  f->fn = fn;
  f->name = name;
  f->self = self;
  Value v;
  v.kind = Kind::Func;
  v.obj = std::move(f);
  return v;
}

/// jinja2's object_type_repr, used in undefined-attribute messages.
std::string objectTypeRepr(const Value &v) {
  if (v.kind == Kind::None)
    return "None";
  if (v.kind == Kind::Namespace)
    return "transformers.utils.chat_template_utils.TemplateNamespace object";
  if (v.kind == Kind::Loop)
    return "jinja2.runtime.LoopContext object";
  if (v.kind == Kind::Func && funcOf(v).fn == Fn::Macro)
    return "jinja2.runtime.Macro object";
  return std::string(Interp::typeName(v)) + " object";
}

bool isOneOf(const std::string &name, std::initializer_list<const char *> set) {
  for (const char *s : set)
    if (name == s)
      return true;
  return false;
}

static const std::initializer_list<const char *> kStrMethods = {
    "capitalize",   "casefold",     "center",    "count",     "encode",
    "endswith",     "expandtabs",   "find",      "format",    "format_map",
    "index",        "isalnum",      "isalpha",   "isascii",   "isdecimal",
    "isdigit",      "isidentifier", "islower",   "isnumeric", "isprintable",
    "isspace",      "istitle",      "isupper",   "join",      "ljust",
    "lower",        "lstrip",       "maketrans", "partition", "removeprefix",
    "removesuffix", "replace",      "rfind",     "rindex",    "rjust",
    "rpartition",   "rsplit",       "rstrip",    "split",     "splitlines",
    "startswith",   "strip",        "swapcase",  "title",     "translate",
    "upper",        "zfill"};

const char *Interp::typeName(const Value &v) {
  switch (v.kind) {
  case Kind::Undefined:
    return "Undefined";
  case Kind::None:
    return "NoneType";
  case Kind::Bool:
    return "bool";
  case Kind::Int:
    return "int";
  case Kind::Float:
    return "float";
  case Kind::Str:
    return "str";
  case Kind::List:
    switch (listOf(v).seq) {
    case Seq::List:
      return "list";
    case Seq::Tuple:
      return "tuple";
    case Seq::Range:
      return "range";
    case Seq::DictKeys:
      return "dict_keys";
    case Seq::DictValues:
      return "dict_values";
    case Seq::DictItems:
      return "dict_items";
    }
    return "list";
  case Kind::Dict:
    return "dict";
  case Kind::Namespace:
    return "TemplateNamespace";
  case Kind::Func:
    return funcOf(v).fn == Fn::Macro ? "Macro" : "builtin_function_or_method";
  case Kind::Iter:
    return iterOf(v).typeName.c_str();
  case Kind::Loop:
    return "LoopContext";
  }
  return "object";
}

Interp::~Interp() {
  for (const std::shared_ptr<Object> &obj : cyclic) {
    if (auto *fn = dynamic_cast<FuncObj *>(obj.get()))
      fn->closure.reset();
    else if (auto *ns = dynamic_cast<NamespaceObj *>(obj.get()))
      ns->attrs.clear();
  }
}

bool Interp::fail(const std::string &message) {
  if (!failed) {
    failed = true;
    error = message;
    errorOffset = curOffset;
  }
  return false;
}

bool Interp::raise(const std::string &message) {
  if (!failed) {
    raised = true;
    failed = true;
    error = message;
    errorOffset = curOffset;
  }
  return false;
}

bool Interp::step(uint64_t n) {
  steps += n;
  if (steps > kMaxSteps)
    return fail("template exceeded its evaluation budget (a loop too long?)");
  return true;
}

bool Interp::checkSize(size_t bytes) {
  if (bytes > kMaxOutput)
    return fail("result exceeds the 64 MiB limit");
  return true;
}

bool Interp::fromJson(const Json &json, Value &out, int depth) {
  if (depth > kMaxDepth)
    return fail("context nested too deeply");
  switch (json.kind) {
  case Json::Kind::Null:
    out = Value::none();
    return true;
  case Json::Kind::Bool:
    out = Value::boolean(json.boolean);
    return true;
  case Json::Kind::Number: {
    // An integral number is a Python int (json.loads gives int for "3").
    double d = json.number;
    if (std::isfinite(d) && d == std::trunc(d) &&
        std::fabs(d) <= 9007199254740992.0)
      out = Value::integer(int64_t(d));
    else
      out = Value::number(d);
    return true;
  }
  case Json::Kind::String:
    out = Value::str(json.string);
    return true;
  case Json::Kind::Array: {
    std::vector<Value> items(json.array.size());
    for (size_t i = 0; i < items.size(); ++i)
      if (!fromJson(json.array[i], items[i], depth + 1))
        return false;
    out = Value::list(std::move(items));
    return true;
  }
  case Json::Kind::Object: {
    std::vector<std::pair<Value, Value>> items;
    for (const auto &[key, value] : json.object) {
      Value v;
      if (!fromJson(value, v, depth + 1) ||
          !dictSet(items, Value::str(key), std::move(v)))
        return false;
    }
    out = Value::dict(std::move(items));
    return true;
  }
  }
  return fail("bad JSON value");
}

bool Interp::bind(const char *function, Args &args,
                  std::initializer_list<const char *> names, size_t required,
                  std::vector<Value> &slots, std::vector<bool> &given) {
  size_t n = names.size();
  slots.assign(n, Value());
  given.assign(n, false);
  if (args.pos.size() > n)
    return fail(std::string(function) + "() takes at most " +
                std::to_string(n) + " argument(s) (" +
                std::to_string(args.pos.size()) + " given)");
  for (size_t i = 0; i < args.pos.size(); ++i) {
    slots[i] = std::move(args.pos[i]);
    given[i] = true;
  }
  for (Kwarg &kw : args.kw) {
    size_t idx = 0;
    for (const char *name : names) {
      if (kw.name == name)
        break;
      ++idx;
    }
    if (idx == n)
      return fail(std::string(function) +
                  "() got an unexpected keyword argument '" + kw.name + "'");
    if (given[idx])
      return fail(std::string(function) +
                  "() got multiple values for argument '" + kw.name + "'");
    slots[idx] = std::move(kw.value);
    given[idx] = true;
  }
  for (size_t i = 0; i < required; ++i)
    if (!given[i])
      return fail(std::string(function) + "() missing required argument '" +
                  names.begin()[i] + "'");
  return true;
}

//===----------------------------------------------------------------------===//
// Object protocol
//===----------------------------------------------------------------------===//

bool Interp::truthy(const Value &v, bool &out) {
  switch (v.kind) {
  case Kind::Undefined:
  case Kind::None:
    out = false;
    break;
  case Kind::Bool:
    out = v.b;
    break;
  case Kind::Int:
    out = v.i != 0;
    break;
  case Kind::Float:
    out = v.f != 0;
    break;
  case Kind::Str:
    out = !v.s.empty();
    break;
  case Kind::List:
    out = !listOf(v).items.empty();
    break;
  case Kind::Dict:
    out = !dictOf(v).items.empty();
    break;
  default:
    out = true;
  }
  return true;
}

bool Interp::length(const Value &v, int64_t &out) {
  switch (v.kind) {
  case Kind::Undefined:
    out = 0;
    return true;
  case Kind::Str:
    out = int64_t(codepointCount(v.s));
    return true;
  case Kind::List:
    out = int64_t(listOf(v).items.size());
    return true;
  case Kind::Dict:
    out = int64_t(dictOf(v).items.size());
    return true;
  case Kind::Loop:
    out = int64_t(loopOf(v).items->size());
    return true;
  default:
    return fail(std::string("object of type '") + typeName(v) +
                "' has no len()");
  }
}

bool Interp::iterate(const Value &v, std::vector<Value> &out) {
  out.clear();
  switch (v.kind) {
  case Kind::Undefined:
    return true;
  case Kind::Str: {
    // Charge the work first: each character becomes a value.
    if (!step(codepointCount(v.s)))
      return false;
    for (size_t i = 0; i < v.s.size();) {
      size_t len;
      decodeAt(v.s, i, len);
      out.push_back(Value::str(v.s.substr(i, len)));
      i += len;
    }
    break;
  }
  case Kind::List:
    out = listOf(v).items;
    break;
  case Kind::Dict:
    for (const auto &kv : dictOf(v).items)
      out.push_back(kv.first);
    break;
  case Kind::Iter: {
    IterObj &it = iterOf(v);
    size_t end = it.error.empty() ? it.items.size() : it.errorAt;
    for (; it.pos < end; ++it.pos)
      out.push_back(it.items[it.pos]);
    if (!it.error.empty())
      return fail(it.error);
    break;
  }
  default:
    return fail(std::string("'") + typeName(v) + "' object is not iterable");
  }
  return step(out.size());
}

bool Interp::equals(const Value &a, const Value &b, bool &out, int depth) {
  if (depth > kMaxDepth)
    return fail("value nested too deeply to compare");
  out = false;
  if (a.isNumber() && b.isNumber()) {
    if (a.kind == Kind::Float || b.kind == Kind::Float)
      out = a.asDouble() == b.asDouble();
    else
      out = a.asInt() == b.asInt();
    return true;
  }
  if (a.kind != b.kind)
    return true;
  switch (a.kind) {
  case Kind::Undefined:
  case Kind::None:
    out = true;
    return true;
  case Kind::Str:
    out = a.s == b.s;
    return true;
  case Kind::List: {
    const ListObj &x = listOf(a), &y = listOf(b);
    bool sameFamily =
        x.seq == y.seq ||
        ((x.seq == Seq::List) == (y.seq == Seq::List) && x.seq != Seq::Tuple &&
         y.seq != Seq::Tuple && x.seq != Seq::List);
    if (!sameFamily || x.items.size() != y.items.size())
      return true;
    for (size_t i = 0; i < x.items.size(); ++i) {
      bool e;
      if (!equals(x.items[i], y.items[i], e, depth + 1))
        return false;
      if (!e)
        return true;
    }
    out = true;
    return true;
  }
  case Kind::Dict: {
    const DictObj &x = dictOf(a), &y = dictOf(b);
    if (x.items.size() != y.items.size())
      return true;
    for (const auto &[k, v] : x.items) {
      bool found = false;
      for (const auto &[k2, v2] : y.items) {
        bool e;
        if (!equals(k, k2, e, depth + 1))
          return false;
        if (!e)
          continue;
        if (!equals(v, v2, e, depth + 1))
          return false;
        if (!e)
          return true;
        found = true;
        break;
      }
      if (!found)
        return true;
    }
    out = true;
    return true;
  }
  default:
    out = a.obj == b.obj;
    return true;
  }
}

bool Interp::compare(const std::string &op, const Value &a, const Value &b,
                     bool &out, int depth) {
  if (depth > kMaxDepth)
    return fail("value nested too deeply to compare");
  if (a.isUndefined())
    return fail(a.s);
  if (b.isUndefined())
    return fail(b.s);
  auto apply = [&](int c) {
    out = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
    return true;
  };
  if (a.isNumber() && b.isNumber()) {
    if (a.kind == Kind::Float || b.kind == Kind::Float) {
      double x = a.asDouble(), y = b.asDouble();
      if (std::isnan(x) || std::isnan(y)) {
        out = false;
        return true;
      }
      return apply(x < y ? -1 : x > y ? 1 : 0);
    }
    int64_t x = a.asInt(), y = b.asInt();
    return apply(x < y ? -1 : x > y ? 1 : 0);
  }
  if (a.kind == Kind::Str && b.kind == Kind::Str)
    return apply(a.s.compare(b.s));
  if (a.kind == Kind::List && b.kind == Kind::List &&
      listOf(a).seq == listOf(b).seq &&
      (listOf(a).seq == Seq::List || listOf(a).seq == Seq::Tuple)) {
    const auto &x = listOf(a).items, &y = listOf(b).items;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      bool e;
      if (!equals(x[i], y[i], e, depth + 1))
        return false;
      if (!e)
        return compare(op, x[i], y[i], out, depth + 1);
    }
    return apply(x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0);
  }
  return fail("'" + op + "' not supported between instances of '" +
              typeName(a) + "' and '" + typeName(b) + "'");
}

bool isHashable(const Value &v) {
  if (v.kind == Kind::List) {
    const ListObj &l = listOf(v);
    if (l.seq != Seq::Tuple)
      return l.seq == Seq::Range;
    for (const Value &item : l.items)
      if (!isHashable(item))
        return false;
    return true;
  }
  return v.kind != Kind::Dict;
}

bool Interp::dictSet(std::vector<std::pair<Value, Value>> &items, Value key,
                     Value value) {
  if (!isHashable(key))
    return fail(std::string("unhashable type: '") + typeName(key) + "'");
  for (auto &kv : items) {
    bool e;
    if (!equals(kv.first, key, e))
      return false;
    if (e) {
      kv.second = std::move(value);
      return true;
    }
  }
  items.emplace_back(std::move(key), std::move(value));
  return true;
}

bool Interp::contains(const Value &container, const Value &item, bool &out) {
  out = false;
  switch (container.kind) {
  case Kind::Str:
    if (item.kind != Kind::Str)
      return fail(std::string("'in <string>' requires string as left "
                              "operand, not ") +
                  typeName(item));
    out = container.s.find(item.s) != std::string::npos;
    return true;
  case Kind::Undefined:
    return true;
  case Kind::Dict:
    if (!isHashable(item))
      return fail(std::string("unhashable type: '") + typeName(item) + "'");
    for (const auto &kv : dictOf(container).items)
      if (!equals(kv.first, item, out) || out)
        return !failed;
    return true;
  case Kind::List:
    for (const Value &v : listOf(container).items)
      if (!equals(v, item, out) || out)
        return !failed;
    return true;
  case Kind::Iter: {
    IterObj &it = iterOf(container);
    size_t end = it.error.empty() ? it.items.size() : it.errorAt;
    while (it.pos < end) {
      if (!equals(it.items[it.pos++], item, out))
        return false;
      if (out)
        return true;
    }
    if (!it.error.empty())
      return fail(it.error);
    return true;
  }
  default:
    return fail(std::string("argument of type '") + typeName(container) +
                "' is not iterable");
  }
}

namespace {

static void reprString(const std::string &s, std::string &out) {
  std::vector<uint32_t> cps = decodeUtf8(s);
  bool single = std::find(cps.begin(), cps.end(), '\'') != cps.end();
  bool dbl = std::find(cps.begin(), cps.end(), '"') != cps.end();
  char quote = single && !dbl ? '"' : '\'';
  out += quote;
  for (uint32_t c : cps) {
    char buf[16];
    if (c == uint32_t(quote) || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (isPrintableCp(c)) {
      appendUtf8(c, out);
    } else {
      if (c <= 0xff)
        snprintf(buf, sizeof buf, "\\x%02x", c);
      else if (c <= 0xffff)
        snprintf(buf, sizeof buf, "\\u%04x", c);
      else
        snprintf(buf, sizeof buf, "\\U%08x", c);
      out += buf;
    }
  }
  out += quote;
}

} // namespace

bool Interp::toStr(const Value &v, std::string &out, int depth) {
  switch (v.kind) {
  case Kind::Undefined:
    out.clear();
    return true;
  case Kind::Str:
    out = v.s;
    return true;
  default:
    out.clear();
    return toRepr(v, out, depth);
  }
}

bool Interp::toRepr(const Value &v, std::string &out, int depth) {
  if (depth > kMaxDepth)
    return fail("value nested too deeply to print");
  if (!checkSize(out.size()))
    return false;
  switch (v.kind) {
  case Kind::Undefined:
    out += "Undefined";
    return true;
  case Kind::None:
    out += "None";
    return true;
  case Kind::Bool:
    out += v.b ? "True" : "False";
    return true;
  case Kind::Int:
    out += formatInt(v.i);
    return true;
  case Kind::Float:
    out += formatFloat(v.f);
    return true;
  case Kind::Str:
    reprString(v.s, out);
    return true;
  case Kind::List: {
    const ListObj &l = listOf(v);
    if (l.seq == Seq::Range) {
      out += "range(" + formatInt(l.start) + ", " + formatInt(l.stop);
      if (l.step != 1)
        out += ", " + formatInt(l.step);
      out += ")";
      return true;
    }
    const char *open = "[", *close = "]";
    if (l.seq == Seq::Tuple) {
      open = "(";
      close = l.items.size() == 1 ? ",)" : ")";
    } else if (l.seq == Seq::DictKeys) {
      open = "dict_keys([";
      close = "])";
    } else if (l.seq == Seq::DictValues) {
      open = "dict_values([";
      close = "])";
    } else if (l.seq == Seq::DictItems) {
      open = "dict_items([";
      close = "])";
    }
    out += open;
    for (size_t i = 0; i < l.items.size(); ++i) {
      if (i)
        out += ", ";
      if (!toRepr(l.items[i], out, depth + 1))
        return false;
    }
    out += close;
    return true;
  }
  case Kind::Dict: {
    out += "{";
    bool first = true;
    for (const auto &[key, value] : dictOf(v).items) {
      if (!first)
        out += ", ";
      first = false;
      if (!toRepr(key, out, depth + 1))
        return false;
      out += ": ";
      if (!toRepr(value, out, depth + 1))
        return false;
    }
    out += "}";
    return true;
  }
  case Kind::Namespace: {
    out += "<Namespace {";
    bool first = true;
    for (const auto &[key, value] : nsOf(v).attrs) {
      if (!first)
        out += ", ";
      first = false;
      reprString(key, out);
      out += ": ";
      if (!toRepr(value, out, depth + 1))
        return false;
    }
    out += "}>";
    return true;
  }
  case Kind::Func: {
    const FuncObj &f = funcOf(v);
    if (f.fn == Fn::Macro)
      out += "<Macro '" + f.name + "'>";
    else
      out += "<built-in method " + f.name + ">";
    return true;
  }
  case Kind::Iter:
    out += "<" + iterOf(v).typeName + " object>";
    return true;
  case Kind::Loop: {
    const LoopObj &l = loopOf(v);
    out += "<LoopContext " + std::to_string(l.index + 1) + "/" +
           std::to_string(l.items->size()) + ">";
    return true;
  }
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Attribute and item lookup (jinja2's SandboxedEnvironment.getattr/getitem)
//===----------------------------------------------------------------------===//

Value unsafeAttr(const std::string &name, const Value &obj) {
  return Value::undefined("access to attribute '" + name + "' of '" +
                              Interp::typeName(obj) + "' object is unsafe.",
                          true);
}
Value noAttr(const Value &obj, const std::string &name) {
  std::string repr = "'" + name + "'";
  return Value::undefined("'" + objectTypeRepr(obj) + "' has no attribute " +
                          repr);
}

/// The Python attribute `name` of `obj`, if it has one.
bool pythonAttr(const Value &obj, const std::string &name, Value &out) {
  if (name.size() > 1 && name[0] == '_' && name[1] == '_') {
    out = unsafeAttr(name, obj);
    return true;
  }
  switch (obj.kind) {
  case Kind::Str:
    if (isOneOf(name, kStrMethods)) {
      out = makeMethod(Fn::StrMethod, name, obj);
      return true;
    }
    return false;
  case Kind::Dict:
    if (isOneOf(name, {"copy", "fromkeys", "get", "items", "keys", "values"})) {
      out = makeMethod(Fn::DictMethod, name, obj);
      return true;
    }
    if (isOneOf(name, {"clear", "pop", "popitem", "setdefault", "update"})) {
      out = unsafeAttr(name, obj);
      return true;
    }
    return false;
  case Kind::List: {
    Seq seq = listOf(obj).seq;
    if (seq == Seq::List || seq == Seq::Tuple || seq == Seq::Range) {
      if (isOneOf(name, {"count", "index"}) ||
          (seq == Seq::List && name == "copy")) {
        out = makeMethod(Fn::ListMethod, name, obj);
        return true;
      }
      if (seq == Seq::List &&
          isOneOf(name, {"append", "clear", "extend", "insert", "pop", "remove",
                         "reverse", "sort"})) {
        out = unsafeAttr(name, obj);
        return true;
      }
    }
    if (seq == Seq::Range && isOneOf(name, {"start", "stop", "step"})) {
      const ListObj &l = listOf(obj);
      out = Value::integer(name == "start"  ? l.start
                           : name == "stop" ? l.stop
                                            : l.step);
      return true;
    }
    return false;
  }
  case Kind::Int:
  case Kind::Bool:
  case Kind::Float:
    if (name == "real" || name == "imag") {
      out = name == "imag" ? (obj.kind == Kind::Float ? Value::number(0.0)
                                                      : Value::integer(0))
            : obj.kind == Kind::Float ? obj
                                      : Value::integer(obj.asInt());
      return true;
    }
    return false;
  case Kind::Namespace:
    for (const auto &[key, value] : nsOf(obj).attrs)
      if (key == name) {
        out = value;
        return true;
      }
    return false;
  case Kind::Loop: {
    LoopObj &l = loopOf(obj);
    int64_t n = int64_t(l.items->size()), i = int64_t(l.index);
    if (name == "index")
      out = Value::integer(i + 1);
    else if (name == "index0")
      out = Value::integer(i);
    else if (name == "revindex")
      out = Value::integer(n - i);
    else if (name == "revindex0")
      out = Value::integer(n - i - 1);
    else if (name == "first")
      out = Value::boolean(i == 0);
    else if (name == "last")
      out = Value::boolean(i == n - 1);
    else if (name == "length")
      out = Value::integer(n);
    else if (name == "depth")
      out = Value::integer(l.depth);
    else if (name == "depth0")
      out = Value::integer(l.depth - 1);
    else if (name == "previtem")
      out = i > 0 ? (*l.items)[i - 1]
                  : Value::undefined("there is no previous item");
    else if (name == "nextitem")
      out = i + 1 < n ? (*l.items)[i + 1]
                      : Value::undefined("there is no next item");
    else if (name == "cycle")
      out = makeMethod(Fn::LoopCycle, name, obj);
    else if (name == "changed")
      out = makeMethod(Fn::LoopChanged, name, obj);
    else
      return false;
    return true;
  }
  default:
    return false;
  }
}

bool Interp::getAttr(const Value &obj, const std::string &name, Value &out) {
  if (obj.isUndefined())
    return fail(obj.s);
  if (pythonAttr(obj, name, out))
    return true;
  // Then obj[name]: only dicts answer a string key.
  if (obj.kind == Kind::Dict) {
    for (const auto &[key, value] : dictOf(obj).items)
      if (key.kind == Kind::Str && key.s == name) {
        out = value;
        return true;
      }
  }
  out = noAttr(obj, name);
  return true;
}

bool Interp::getItem(const Value &obj, const Value &key, Value &out) {
  if (obj.isUndefined())
    return fail(obj.s);
  auto noElement = [&]() {
    std::string keyRepr;
    if (!toRepr(key, keyRepr))
      return false;
    out = Value::undefined(objectTypeRepr(obj) + " has no element " + keyRepr);
    return true;
  };
  // obj[key] first.
  if (obj.kind == Kind::Dict) {
    if (!isHashable(key))
      return noElement();
    for (const auto &[k, v] : dictOf(obj).items) {
      bool e;
      if (!equals(k, key, e))
        return false;
      if (e) {
        out = v;
        return true;
      }
    }
  } else if ((obj.kind == Kind::Str ||
              (obj.kind == Kind::List &&
               (listOf(obj).seq == Seq::List || listOf(obj).seq == Seq::Tuple ||
                listOf(obj).seq == Seq::Range))) &&
             key.isIntLike()) {
    int64_t i = key.asInt();
    if (obj.kind == Kind::Str) {
      std::vector<uint32_t> cps = decodeUtf8(obj.s);
      int64_t n = int64_t(cps.size());
      if (i < 0)
        i += n;
      if (i >= 0 && i < n) {
        out = Value::str(encodeUtf8(cps, size_t(i), size_t(i) + 1));
        return true;
      }
    } else {
      const auto &items = listOf(obj).items;
      int64_t n = int64_t(items.size());
      if (i < 0)
        i += n;
      if (i >= 0 && i < n) {
        out = items[size_t(i)];
        return true;
      }
    }
    return noElement();
  }
  // Then the attribute, for a string key.
  if (key.kind == Kind::Str) {
    if (pythonAttr(obj, key.s, out))
      return true;
    out = noAttr(obj, key.s);
    return true;
  }
  return noElement();
}

bool Interp::getSlice(const Value &obj, const Value &start, const Value &stop,
                      const Value &step, bool folded, Value &out) {
  if (obj.isUndefined())
    return fail(obj.s);
  bool isSeq = obj.kind == Kind::Str ||
               (obj.kind == Kind::List && (listOf(obj).seq == Seq::List ||
                                           listOf(obj).seq == Seq::Tuple ||
                                           listOf(obj).seq == Seq::Range));
  auto bad = [&](const Value &v) {
    return v.kind != Kind::None && !v.isIntLike();
  };
  if (folded && (!isSeq || bad(start) || bad(stop) || bad(step))) {
    std::string r = "slice(";
    for (const Value *part : {&start, &stop, &step}) {
      if (!toRepr(*part, r))
        return false;
      r += part == &step ? ")" : ", ";
    }
    out = Value::undefined(objectTypeRepr(obj) + " has no element " + r);
    return true;
  }
  if (obj.kind == Kind::Dict)
    return fail("unhashable type: 'slice'");
  if (!isSeq)
    return fail(std::string("'") + typeName(obj) +
                "' object is not subscriptable");
  if (bad(start) || bad(stop) || bad(step))
    return fail("slice indices must be integers or None or have an "
                "__index__ method");
  int64_t st = step.kind == Kind::None ? 1 : step.asInt();
  if (st == 0)
    return fail("slice step cannot be zero");
  std::vector<uint32_t> cps;
  int64_t n;
  if (obj.kind == Kind::Str) {
    cps = decodeUtf8(obj.s);
    n = int64_t(cps.size());
  } else {
    n = int64_t(listOf(obj).items.size());
  }
  // PySlice_AdjustIndices.
  auto adjust = [&](const Value &v, int64_t dflt) {
    if (v.kind == Kind::None)
      return dflt;
    int64_t x = v.asInt();
    if (x < 0) {
      x += n;
      if (x < 0)
        x = st < 0 ? -1 : 0;
    } else if (x >= n) {
      x = st < 0 ? n - 1 : n;
    }
    return x;
  };
  int64_t b = adjust(start, st < 0 ? n - 1 : 0);
  int64_t e = adjust(stop, st < 0 ? -1 : n);
  std::vector<size_t> picks;
  for (int64_t i = b; st > 0 ? i < e : i > e;) {
    picks.push_back(size_t(i));
    if (__builtin_add_overflow(i, st, &i))
      break;
  }
  if (obj.kind == Kind::Str) {
    std::string s;
    for (size_t i : picks)
      appendUtf8(cps[i], s);
    out = Value::str(std::move(s));
    return true;
  }
  const ListObj &l = listOf(obj);
  std::vector<Value> items;
  for (size_t i : picks)
    items.push_back(l.items[i]);
  out = Value::list(std::move(items),
                    l.seq == Seq::Tuple ? Seq::Tuple : Seq::List);
  return true;
}

bool Interp::call(const Value &callee, Args args, Value &out) {
  if (callee.isUndefined())
    return fail(callee.s);
  if (callee.kind == Kind::Func) {
    const FuncObj &f = funcOf(callee);
    if (f.fn == Fn::Macro)
      return callMacro(f, std::move(args), out);
    return callBuiltin(f, std::move(args), out);
  }
  return fail(std::string("'") + typeName(callee) + "' object is not callable");
}

//===----------------------------------------------------------------------===//
// Arithmetic
//===----------------------------------------------------------------------===//

bool Interp::binary(const std::string &op, const Value &a, const Value &b,
                    Value &out) {
  if (a.isUndefined())
    return fail(a.s);
  if (b.isUndefined())
    return fail(b.s);
  auto unsupported = [&]() {
    return fail("unsupported operand type(s) for " + op + ": '" + typeName(a) +
                "' and '" + typeName(b) + "'");
  };
  if (a.isNumber() && b.isNumber()) {
    if (a.kind != Kind::Float && b.kind != Kind::Float && op != "/") {
      int64_t x = a.asInt(), y = b.asInt(), r = 0;
      if (op == "+") {
        if (__builtin_add_overflow(x, y, &r))
          return fail("integer overflow");
      } else if (op == "-") {
        if (__builtin_sub_overflow(x, y, &r))
          return fail("integer overflow");
      } else if (op == "*") {
        if (__builtin_mul_overflow(x, y, &r))
          return fail("integer overflow");
      } else if (op == "//" || op == "%") {
        if (y == 0)
          return fail(op == "//" ? "integer division or modulo by zero"
                                 : "integer modulo by zero");
        if (x == INT64_MIN && y == -1)
          return fail("integer overflow");
        int64_t q = x / y, m = x % y;
        if (m != 0 && ((m < 0) != (y < 0))) {
          m += y;
          --q;
        }
        r = op == "//" ? q : m;
      } else if (op == "**") {
        if (y < 0) {
          if (x == 0)
            return fail("0.0 cannot be raised to a negative power");
          out = Value::number(std::pow(double(x), double(y)));
          return true;
        }
        r = 1;
        int64_t base = x;
        for (int64_t e = y; e > 0; e >>= 1) {
          if ((e & 1) && __builtin_mul_overflow(r, base, &r))
            return fail("integer overflow");
          if (e > 1 && __builtin_mul_overflow(base, base, &base))
            return fail("integer overflow");
        }
      } else {
        return unsupported();
      }
      out = Value::integer(r);
      return true;
    }
    double x = a.asDouble(), y = b.asDouble();
    if (op == "+")
      out = Value::number(x + y);
    else if (op == "-")
      out = Value::number(x - y);
    else if (op == "*")
      out = Value::number(x * y);
    else if (op == "/") {
      if (y == 0)
        return fail(a.kind == Kind::Float || b.kind == Kind::Float
                        ? "float division by zero"
                        : "division by zero");
      out = Value::number(x / y);
    } else if (op == "//" || op == "%") {
      if (y == 0)
        return fail(op == "//" ? "float floor division by zero"
                               : "float modulo by zero");
      double div, mod;
      floatDivMod(x, y, div, mod);
      out = Value::number(op == "//" ? div : mod);
    } else if (op == "**") {
      if (x == 0 && y < 0)
        return fail("0.0 cannot be raised to a negative power");
      if (x < 0 && y != std::floor(y) && std::isfinite(y))
        return fail("unsupported: a complex result of **");
      double r = std::pow(x, y);
      if (std::isinf(r) && std::isfinite(x) && std::isfinite(y))
        return fail("(34, 'Numerical result out of range')");
      out = Value::number(r);
    } else {
      return unsupported();
    }
    return true;
  }
  if (op == "+") {
    if (a.kind == Kind::Str && b.kind == Kind::Str) {
      if (!checkSize(a.s.size() + b.s.size()))
        return false;
      out = Value::str(a.s + b.s);
      return true;
    }
    if (a.kind == Kind::List && b.kind == Kind::List &&
        listOf(a).seq == listOf(b).seq &&
        (listOf(a).seq == Seq::List || listOf(a).seq == Seq::Tuple)) {
      std::vector<Value> items = listOf(a).items;
      items.insert(items.end(), listOf(b).items.begin(), listOf(b).items.end());
      if (!checkSize(items.size() * sizeof(Value)))
        return false;
      out = Value::list(std::move(items), listOf(a).seq);
      return true;
    }
    if (a.kind == Kind::Str ||
        (a.kind == Kind::List &&
         (listOf(a).seq == Seq::List || listOf(a).seq == Seq::Tuple)))
      return fail(std::string("can only concatenate ") + typeName(a) +
                  " (not \"" + typeName(b) + "\") to " + typeName(a));
    return unsupported();
  }
  if (op == "*") {
    const Value *seq = a.isIntLike() ? &b : &a;
    const Value *count = a.isIntLike() ? &a : &b;
    if (!count->isIntLike())
      return unsupported();
    int64_t n = std::max<int64_t>(0, count->asInt());
    if (seq->kind == Kind::Str) {
      if (n && seq->s.size() > kMaxOutput / size_t(n))
        return checkSize(kMaxOutput + 1);
      std::string s;
      for (int64_t i = 0; i < n; ++i)
        s += seq->s;
      out = Value::str(std::move(s));
      return true;
    }
    if (seq->kind == Kind::List &&
        (listOf(*seq).seq == Seq::List || listOf(*seq).seq == Seq::Tuple)) {
      const auto &src = listOf(*seq).items;
      if (n && src.size() > kMaxOutput / sizeof(Value) / size_t(n))
        return checkSize(kMaxOutput + 1);
      std::vector<Value> items;
      for (int64_t i = 0; i < n; ++i)
        items.insert(items.end(), src.begin(), src.end());
      out = Value::list(std::move(items), listOf(*seq).seq);
      return true;
    }
    return unsupported();
  }
  if (op == "%" && a.kind == Kind::Str) {
    std::string s;
    if (!percentFormat(*this, a.s, b, s))
      return false;
    out = Value::str(std::move(s));
    return true;
  }
  return unsupported();
}

//===----------------------------------------------------------------------===//
// json.dumps
//===----------------------------------------------------------------------===//

namespace {
static void jsonString(const std::string &s, bool ensureAscii,
                       std::string &out) {
  out += '"';
  for (uint32_t c : decodeUtf8(s)) {
    char buf[16];
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    default:
      if (c < 0x20 || (ensureAscii && c >= 0x7f)) {
        if (c >= 0x10000) {
          uint32_t v = c - 0x10000;
          snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xd800 + (v >> 10),
                   0xdc00 + (v & 0x3ff));
        } else {
          snprintf(buf, sizeof buf, "\\u%04x", c);
        }
        out += buf;
      } else {
        appendUtf8(c, out);
      }
    }
  }
  out += '"';
}

static std::string jsonFloat(double d) {
  if (std::isnan(d))
    return "NaN";
  if (std::isinf(d))
    return d < 0 ? "-Infinity" : "Infinity";
  return formatFloat(d);
}
} // namespace

bool Interp::toJson(const Value &v, std::string &out, const std::string *indent,
                    const std::string &itemSep, const std::string &keySep,
                    bool sortKeys, bool ensureAscii, int level, int depth) {
  if (depth > kMaxDepth)
    return fail("value nested too deeply for JSON");
  if (!checkSize(out.size()))
    return false;
  auto newline = [&](int lvl) {
    out += '\n';
    for (int i = 0; i < lvl; ++i)
      out += *indent;
  };
  switch (v.kind) {
  case Kind::None:
    out += "null";
    return true;
  case Kind::Bool:
    out += v.b ? "true" : "false";
    return true;
  case Kind::Int:
    out += formatInt(v.i);
    return true;
  case Kind::Float:
    out += jsonFloat(v.f);
    return true;
  case Kind::Str:
    jsonString(v.s, ensureAscii, out);
    return true;
  case Kind::List: {
    Seq seq = listOf(v).seq;
    if (seq != Seq::List && seq != Seq::Tuple)
      break;
    const auto &items = listOf(v).items;
    if (items.empty()) {
      out += "[]";
      return true;
    }
    out += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i)
        out += itemSep;
      if (indent)
        newline(level + 1);
      if (!toJson(items[i], out, indent, itemSep, keySep, sortKeys, ensureAscii,
                  level + 1, depth + 1))
        return false;
    }
    if (indent)
      newline(level);
    out += ']';
    return true;
  }
  case Kind::Dict: {
    std::vector<std::pair<std::string, const Value *>> entries;
    for (const auto &[key, value] : dictOf(v).items) {
      std::string k;
      if (key.kind == Kind::Str)
        k = key.s;
      else if (key.kind == Kind::Float)
        k = jsonFloat(key.f);
      else if (key.kind == Kind::Int)
        k = formatInt(key.i);
      else if (key.kind == Kind::Bool)
        k = key.b ? "true" : "false";
      else if (key.kind == Kind::None)
        k = "null";
      else
        return fail(std::string("keys must be str, int, float, bool or "
                                "None, not ") +
                    typeName(key));
      entries.emplace_back(std::move(k), &value);
    }
    if (sortKeys) {
      for (const auto &[key, value] : dictOf(v).items)
        if (key.kind != Kind::Str)
          return fail("'<' not supported between instances of mixed key "
                      "types");
      std::stable_sort(
          entries.begin(), entries.end(),
          [](const auto &x, const auto &y) { return x.first < y.first; });
    }
    if (entries.empty()) {
      out += "{}";
      return true;
    }
    out += '{';
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i)
        out += itemSep;
      if (indent)
        newline(level + 1);
      jsonString(entries[i].first, ensureAscii, out);
      out += keySep;
      if (!toJson(*entries[i].second, out, indent, itemSep, keySep, sortKeys,
                  ensureAscii, level + 1, depth + 1))
        return false;
    }
    if (indent)
      newline(level);
    out += '}';
    return true;
  }
  default:
    break;
  }
  return fail(std::string("Object of type ") + typeName(v) +
              " is not JSON serializable");
}

} // namespace lmc::rt::ct
