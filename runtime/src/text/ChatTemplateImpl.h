//===- ChatTemplateImpl.h - Chat template engine internals ------*- C++ -*-===//
//
// Shared by the engine's files: ChatTemplateParser.cpp (lexer, parser),
// ChatTemplate.cpp (interpreter), ChatTemplateValue.cpp (the Python object
// protocol), ChatTemplateText.cpp (Python str) and ChatTemplateBuiltins.cpp
// (filters, tests, globals, methods). Values model the Python objects a Jinja
// template sees under transformers: None, bool, int, float, str, list/tuple,
// dict, jinja2's Undefined and Namespace, macros and bound methods, and the
// one-shot generators that filters such as `map` and `select` return.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_CHATTEMPLATEIMPL_H
#define LMC_RT_CHATTEMPLATEIMPL_H

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace lmc::rt {
struct Json;
} // namespace lmc::rt

namespace lmc::rt::ct {

/// Limits that keep a hostile template from exhausting the stack, memory or
/// time. `kMaxRange` is jinja2's sandbox MAX_RANGE. A step is an expression
/// evaluated or a loop iteration: the 17 real templates of the tests take at
/// most a few thousand; 4M steps take 0.2 s here (2.6 s under ASan), which
/// is how long a template that never ends runs before it is refused.
constexpr int kMaxDepth = 256;
constexpr size_t kMaxOutput = size_t(64) << 20;
constexpr int64_t kMaxRange = 100000;
constexpr uint64_t kMaxSteps = 4000000;

enum class Kind : uint8_t {
  Undefined,
  None,
  Bool,
  Int,
  Float,
  Str,
  List, // list, tuple, range and dict views; see Seq
  Dict,
  Namespace,
  Func,
  Iter, // a generator: truthy, no len(), consumed by iteration
  Loop,
};

/// Which Python sequence a Kind::List value is; it changes repr and ==.
enum class Seq : uint8_t {
  List,
  Tuple,
  Range,
  DictKeys,
  DictValues,
  DictItems
};

struct Object {
  virtual ~Object() = default;
};

struct Value {
  Kind kind = Kind::Undefined;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  /// Str: the UTF-8 text. Undefined: the message an operation on it raises.
  std::string s;
  std::shared_ptr<Object> obj;

  static Value none() {
    Value v;
    v.kind = Kind::None;
    return v;
  }
  static Value boolean(bool x) {
    Value v;
    v.kind = Kind::Bool;
    v.b = x;
    return v;
  }
  static Value integer(int64_t x) {
    Value v;
    v.kind = Kind::Int;
    v.i = x;
    return v;
  }
  static Value number(double x) {
    Value v;
    v.kind = Kind::Float;
    v.f = x;
    return v;
  }
  static Value str(std::string x) {
    Value v;
    v.kind = Kind::Str;
    v.s = std::move(x);
    return v;
  }
  /// An Undefined whose use fails with `message`; `unsafe` marks the
  /// sandbox's refusal (calling it reports the message too).
  static Value undefined(std::string message, bool unsafe = false);
  static Value list(std::vector<Value> items, Seq seq = Seq::List);
  static Value dict(std::vector<std::pair<Value, Value>> items);

  bool isUndefined() const { return kind == Kind::Undefined; }
  bool isStr() const { return kind == Kind::Str; }
  /// int or bool, which Python treats as an int.
  bool isIntLike() const { return kind == Kind::Int || kind == Kind::Bool; }
  bool isNumber() const { return isIntLike() || kind == Kind::Float; }
  int64_t asInt() const { return kind == Kind::Bool ? int64_t(b) : i; }
  double asDouble() const { return kind == Kind::Float ? f : double(asInt()); }
};

struct UndefinedObj : Object {
  bool unsafe = false;
};

struct ListObj : Object {
  Seq seq = Seq::List;
  std::vector<Value> items;
  int64_t start = 0, stop = 0, step = 1; // Seq::Range only, for repr
  int depth = 1;                         // see nestingDepth
};

struct DictObj : Object {
  std::vector<std::pair<Value, Value>> items; // insertion order
  int depth = 1;                              // see nestingDepth
};

struct NamespaceObj : Object {
  std::vector<std::pair<std::string, Value>> attrs;
};

struct Scope;
struct MacroDef;
class Interp;

enum class Fn : uint8_t {
  Macro,
  Range,
  Dict,
  Namespace,
  RaiseException,
  StrftimeNow,
  StrMethod,
  DictMethod,
  ListMethod,
  LoopCycle,
  LoopChanged,
};

struct FuncObj : Object {
  Fn fn = Fn::Range;
  std::string name;
  Value self;                      // bound methods
  const MacroDef *macro = nullptr; // Fn::Macro
  std::shared_ptr<Scope> closure;  // Fn::Macro: the scope it was defined in
};

/// A generator. Filters compute it eagerly; an error met while computing
/// is kept in `error` and raised only when iteration reaches it, as lazy
/// evaluation would.
struct IterObj : Object {
  std::vector<Value> items;
  size_t pos = 0;
  std::string error;
  size_t errorAt = 0;
  std::string typeName = "generator";
};

struct LoopObj : Object {
  std::shared_ptr<std::vector<Value>> items;
  size_t index = 0;
  int depth = 1;
  std::vector<Value> lastChanged;
  bool hasChanged = false;
};

struct Scope {
  std::vector<std::pair<std::string, Value>> vars;
  std::shared_ptr<Scope> parent;

  Value *find(const std::string &name);
  void set(const std::string &name, Value value);
};

struct Kwarg {
  std::string name;
  Value value;
};

/// Call arguments, bound to a Python-style signature by `bind`.
struct Args {
  std::vector<Value> pos;
  std::vector<Kwarg> kw;
};

/// Typed views of a value's object; the kind must match.
inline const ListObj &listOf(const Value &v) {
  return static_cast<const ListObj &>(*v.obj);
}
inline const DictObj &dictOf(const Value &v) {
  return static_cast<const DictObj &>(*v.obj);
}
inline NamespaceObj &nsOf(const Value &v) {
  return static_cast<NamespaceObj &>(*v.obj);
}
inline const FuncObj &funcOf(const Value &v) {
  return static_cast<const FuncObj &>(*v.obj);
}
inline IterObj &iterOf(const Value &v) {
  return static_cast<IterObj &>(*v.obj);
}
inline LoopObj &loopOf(const Value &v) {
  return static_cast<LoopObj &>(*v.obj);
}

//===----------------------------------------------------------------------===//
// Python text (ChatTemplateText.cpp)
//===----------------------------------------------------------------------===//

/// Decodes UTF-8; an invalid byte becomes U+DC80+byte (Python's
/// surrogateescape) so that encoding gives the bytes back.
std::vector<uint32_t> decodeUtf8(const std::string &s);
/// Decodes the code point at byte `pos` (surrogateescape on invalid bytes);
/// `len` receives its byte length.
uint32_t decodeAt(const std::string &s, size_t pos, size_t &len);
void appendUtf8(uint32_t cp, std::string &out);
std::string encodeUtf8(const std::vector<uint32_t> &cps, size_t begin,
                       size_t end);
size_t codepointCount(const std::string &s);
bool isPySpace(uint32_t cp);
/// Whether `cp` may start (or, with `start` false, continue) a name.
bool isIdentifierCp(uint32_t cp, bool start);
/// How deeply lists and dicts nest in `v` (namespaces count as leaves).
/// Only namespace attributes outlive a loop iteration, so bounding this
/// where they are assigned bounds every value's depth, and with it the
/// recursion of destructors, repr and comparisons.
int nestingDepth(const Value &v);
/// Python's float.__repr__.
std::string formatFloat(double d);
inline std::string formatInt(int64_t i) { return std::to_string(i); }
/// Python's float // and %.
void floatDivMod(double x, double y, double &div, double &mod);
/// Python's int(text, base) and float(text); false if not a literal.
bool parsePyInt(const std::string &text, int base, int64_t &out);
bool parsePyFloat(const std::string &text, double &out);

/// Python's character classes (str.isalpha, ...) and case mappings
/// (str.upper, ...: full mappings, so "ß".upper() is "SS").
bool isLowerCp(uint32_t cp);
bool isUpperCp(uint32_t cp);
bool isTitleCp(uint32_t cp);
bool isCased(uint32_t cp);
bool isDecimalCp(uint32_t cp);
bool isDigitCp(uint32_t cp);
bool isNumericCp(uint32_t cp);
bool isAlphaCp(uint32_t cp);
/// What `\w` matches in Python's re (jinja2's wordcount filter).
bool isWordCp(uint32_t cp);
bool isPrintableCp(uint32_t cp);
std::string upperStr(const std::string &s);
std::string lowerStr(const std::string &s);
std::string casefoldStr(const std::string &s);
/// str.title(), str.capitalize() and str.swapcase().
std::string titleStr(const std::string &s);
std::string capitalizeStr(const std::string &s);
std::string swapcaseStr(const std::string &s);

/// str.strip's argument as code points (empty for None); `ok` false on a
/// type error, which is reported.
std::vector<uint32_t> stripSet(Interp &in, const Value &chars, bool &ok);
/// str.strip/lstrip/rstrip; whitespace when `set` is null.
std::string stripStr(const std::string &s, const std::vector<uint32_t> *set,
                     bool left, bool right);
/// str.split/rsplit; whitespace runs when `sep` is null.
std::vector<std::string> splitStr(const std::string &s, const Value *sep,
                                  int64_t maxsplit, bool fromRight);
std::vector<std::string> splitLines(const std::string &s, bool keepEnds);
std::string replaceStr(const std::string &s, const std::string &old,
                       const std::string &with, int64_t count);
/// str.ljust ('<'), rjust ('>') and center ('^').
std::string justify(const std::string &s, int64_t width,
                    const std::string &fill, char how);
/// printf-style `fmt % args`.
bool percentFormat(Interp &in, const std::string &fmt, const Value &args,
                   std::string &out);
/// Calls str method `name` on `self`.
bool strMethod(Interp &in, const std::string &name, const std::string &self,
               Args args, Value &out);

//===----------------------------------------------------------------------===//
// Python objects (ChatTemplateValue.cpp)
//===----------------------------------------------------------------------===//

Value makeIter(std::vector<Value> items, std::string typeName = "generator");
Value makeMethod(Fn fn, const std::string &name, const Value &self);
/// jinja2's object_type_repr, used in undefined-attribute messages.
std::string objectTypeRepr(const Value &v);
bool isOneOf(const std::string &name, std::initializer_list<const char *> set);
bool isHashable(const Value &v);
/// The Undefined the sandbox returns for a refused or missing attribute.
Value unsafeAttr(const std::string &name, const Value &obj);
Value noAttr(const Value &obj, const std::string &name);
/// The Python attribute `name` of `obj` (a method, a namespace attribute, a
/// loop property); false if it has none.
bool pythonAttr(const Value &obj, const std::string &name, Value &out);

//===----------------------------------------------------------------------===//
// The interpreter state Python semantics need (ChatTemplateValue.cpp)
//===----------------------------------------------------------------------===//

class Interp {
public:
  Interp() = default;
  Interp(const Interp &) = delete;
  Interp &operator=(const Interp &) = delete;
  /// Cuts the links of `cyclic` objects so that their memory is freed.
  ~Interp();

  /// Records a runtime error (the first one wins) and returns false.
  bool fail(const std::string &message);
  /// raise_exception(): its message is reported verbatim.
  bool raise(const std::string &message);
  /// Counts work so that nested loops over large data end with an error.
  bool step(uint64_t n = 1);

  // Python/jinja2 object protocol.
  bool getAttr(const Value &obj, const std::string &name, Value &out);
  bool getItem(const Value &obj, const Value &key, Value &out);
  /// obj[start:stop:step]. jinja2 compiles a slice to a plain subscript,
  /// which raises on a value that cannot be sliced; but when it folds a
  /// constant {{ }} at compile time it goes through the sandbox, which gives
  /// an Undefined instead (`folded`).
  bool getSlice(const Value &obj, const Value &start, const Value &stop,
                const Value &step, bool folded, Value &out);
  /// Inserts or replaces `key` in dict items, as a dict display does.
  bool dictSet(std::vector<std::pair<Value, Value>> &items, Value key,
               Value value);
  bool call(const Value &callee, Args args, Value &out);
  /// Iterates `v` into `out` (consuming a generator); fails if not iterable.
  bool iterate(const Value &v, std::vector<Value> &out);
  bool truthy(const Value &v, bool &out);
  bool length(const Value &v, int64_t &out);
  bool equals(const Value &a, const Value &b, bool &out, int depth = 0);
  /// Python's ordering operators (<, <=, >, >=); fails with TypeError's
  /// message when the operands are not comparable.
  bool compare(const std::string &op, const Value &a, const Value &b, bool &out,
               int depth = 0);
  bool contains(const Value &container, const Value &item, bool &out);
  /// Python str() and repr().
  bool toStr(const Value &v, std::string &out, int depth = 0);
  bool toRepr(const Value &v, std::string &out, int depth = 0);
  bool binary(const std::string &op, const Value &a, const Value &b,
              Value &out);
  bool toJson(const Value &v, std::string &out, const std::string *indent,
              const std::string &itemSep, const std::string &keySep,
              bool sortKeys, bool ensureAscii, int level, int depth = 0);

  bool callFilter(const std::string &name, const Value &input, Args args,
                  Value &out);
  bool callTest(const std::string &name, const Value &input, Args args,
                bool &out);
  bool callBuiltin(const FuncObj &fn, Args args, Value &out);
  /// Calls a macro (ChatTemplate.cpp).
  bool callMacro(const FuncObj &fn, Args args, Value &out);

  /// Binds `args` to parameters `names`; the first `required` are
  /// mandatory. Missing optional ones stay Undefined.
  bool bind(const char *function, Args &args,
            std::initializer_list<const char *> names, size_t required,
            std::vector<Value> &slots, std::vector<bool> &given);

  static const char *typeName(const Value &v);
  bool fromJson(const Json &json, Value &out, int depth = 0);
  bool checkSize(size_t bytes);

  /// Macros (whose closure scope holds them) and namespaces (which may
  /// hold themselves) can form reference cycles.
  std::vector<std::shared_ptr<Object>> cyclic;

  std::string error;
  bool raised = false;
  bool failed = false;
  size_t errorOffset = 0;
  size_t curOffset = 0;
  int evalDepth = 0; // nesting of eval, exec and macro calls
  uint64_t steps = 0;
  bool hasNow = false;
  int64_t now = 0;
};

/// Whether jinja2 knows filter/test `name` and this engine implements it.
bool isKnownFilter(const std::string &name);
bool isKnownTest(const std::string &name);
/// Filters that take jinja2's context (never evaluated at compile time).
bool isContextFilter(const std::string &name);
/// Filters jinja2 has that this engine does not implement.
bool isUnsupportedFilter(const std::string &name);

} // namespace lmc::rt::ct

#endif // LMC_RT_CHATTEMPLATEIMPL_H
