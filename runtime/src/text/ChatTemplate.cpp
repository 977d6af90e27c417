//===- ChatTemplate.cpp - Interpreter for chat templates ------------------===//
//
// Runs a parsed template with jinja2's compiled-code scoping, so that output
// matches transformers byte for byte: a for-loop body gets a fresh scope on
// every iteration (so `set` in a loop does not outlive the iteration; hence
// namespace()), `if` opens no scope, macros see the scope they were defined
// in, and a set block or {% generation %} body has its own scope. Python
// value semantics live in ChatTemplateValue.cpp, ChatTemplateText.cpp and
// ChatTemplateBuiltins.cpp.
//
//===----------------------------------------------------------------------===//

#include "ChatTemplate.h"
#include "ChatTemplateAst.h"
#include "ChatTemplateImpl.h"
#include "Json.h"

#include <algorithm>

namespace lmc::rt {
namespace ct {
namespace {

//===----------------------------------------------------------------------===//
// Interpreter
//===----------------------------------------------------------------------===//

using ScopeP = std::shared_ptr<Scope>;

class Renderer final : public Interp {
public:
  explicit Renderer(const Program &program) : program(program) {}

  enum class Flow { Normal, Break, Continue, Error };

  Flow execBody(const Body &body, const ScopeP &scope, std::string &out);
  bool invokeMacro(const FuncObj &fn, Args args, Value &out);

private:
  struct Depth {
    Renderer &r;
    bool ok;
    explicit Depth(Renderer &r) : r(r), ok(++r.evalDepth <= 2 * kMaxDepth) {
      if (!ok)
        r.fail("template recursion too deep");
    }
    ~Depth() { --r.evalDepth; }
  };

  Flow exec(const Stmt &s, const ScopeP &scope, std::string &out);
  Flow execFor(const Stmt &s, const ScopeP &scope, std::string &out);
  bool eval(const Expr &e, const ScopeP &scope, Value &out);
  bool evalArgs(const Expr &e, size_t first, const ScopeP &scope, Args &args);
  bool foldConstant(const Expr &e, const ScopeP &scope, Value &out);
  bool lookup(const std::string &name, const ScopeP &scope, Value &out);
  bool assign(const Target &t, const Value &v, Scope &scope);
  bool emit(std::string &out, const std::string &text) {
    if (out.size() + text.size() > kMaxOutput)
      return fail("output exceeds the 64 MiB limit");
    out += text;
    return true;
  }

  const Program &program;
  const Value *placeholder = nullptr; // the input of a filter block's chain
  bool folding = false; // evaluating a {{ }} at "compile time", as jinja2
};

/// jinja2's has_safe_repr: what its optimizer may inline as a constant.
static bool hasSafeRepr(const Value &v) {
  switch (v.kind) {
  case Kind::None:
  case Kind::Bool:
  case Kind::Int:
  case Kind::Float:
  case Kind::Str:
    return true;
  case Kind::List:
    if (listOf(v).seq != Seq::List && listOf(v).seq != Seq::Tuple)
      return listOf(v).seq == Seq::Range;
    for (const Value &item : listOf(v).items)
      if (!hasSafeRepr(item))
        return false;
    return true;
  case Kind::Dict:
    for (const auto &[key, value] : dictOf(v).items)
      if (!hasSafeRepr(key) || !hasSafeRepr(value))
        return false;
    return true;
  default:
    return false;
  }
}

static Value makeFunc(Fn fn, std::string name, Value self = Value()) {
  auto f = std::make_shared<FuncObj>();
  f->fn = fn;
  f->name = std::move(name);
  f->self = std::move(self);
  Value v;
  v.kind = Kind::Func;
  v.obj = std::move(f);
  return v;
}

bool Renderer::lookup(const std::string &name, const ScopeP &scope,
                      Value &out) {
  for (Scope *s = scope.get(); s; s = s->parent.get())
    if (Value *v = s->find(name)) {
      out = *v;
      return true;
    }
  static const std::pair<const char *, Fn> globals[] = {
      {"range", Fn::Range},
      {"dict", Fn::Dict},
      {"namespace", Fn::Namespace},
      {"raise_exception", Fn::RaiseException},
      {"strftime_now", Fn::StrftimeNow},
  };
  for (const auto &[globalName, fn] : globals)
    if (name == globalName) {
      out = makeFunc(fn, name);
      return true;
    }
  if (name == "lipsum" || name == "cycler" || name == "joiner")
    return fail("unsupported global '" + name + "'");
  out = Value::undefined("'" + name + "' is undefined");
  return true;
}

bool Renderer::foldConstant(const Expr &e, const ScopeP &scope, Value &out) {
  // jinja2's optimizer replaces a constant subexpression by its value when
  // evaluating it (through the sandbox) succeeds and the value has a safe
  // repr; otherwise the node runs as compiled.
  folding = true;
  bool ok = eval(e, scope, out);
  folding = false;
  if (ok && hasSafeRepr(out))
    return true;
  failed = false;
  error.clear();
  return false;
}

bool Renderer::evalArgs(const Expr &e, size_t first, const ScopeP &scope,
                        Args &args) {
  for (size_t i = first; i < e.kids.size(); ++i) {
    args.pos.emplace_back();
    if (!eval(*e.kids[i], scope, args.pos.back()))
      return false;
  }
  for (const auto &[name, expr] : e.kwargs) {
    Value v;
    if (!eval(*expr, scope, v))
      return false;
    args.kw.push_back(Kwarg{name, std::move(v)});
  }
  return true;
}

bool Renderer::eval(const Expr &e, const ScopeP &scope, Value &out) {
  Depth guard(*this);
  if (!guard.ok || !step())
    return false;
  if (e.constant && !folding && e.kind != EK::Const &&
      foldConstant(e, scope, out))
    return true;
  curOffset = e.offset;
  switch (e.kind) {
  case EK::Const:
    out = e.value;
    return true;
  case EK::Name:
    if (folding)
      return fail("not constant");
    return lookup(e.name, scope, out);
  case EK::Attr: {
    Value obj;
    if (!eval(*e.kids[0], scope, obj))
      return false;
    curOffset = e.offset;
    return getAttr(obj, e.name, out);
  }
  case EK::Item: {
    Value obj;
    if (!eval(*e.kids[0], scope, obj))
      return false;
    const Expr &key = *e.kids[1];
    if (key.kind == EK::Slice) {
      Value parts[3];
      for (int i = 0; i < 3; ++i) {
        parts[i] = Value::none();
        if (key.kids[i] && !eval(*key.kids[i], scope, parts[i]))
          return false;
      }
      curOffset = e.offset;
      return getSlice(obj, parts[0], parts[1], parts[2], folding, out);
    }
    Value k;
    if (!eval(key, scope, k))
      return false;
    curOffset = e.offset;
    return getItem(obj, k, out);
  }
  case EK::Slice:
    return fail("unexpected slice");
  case EK::Call: {
    if (folding)
      return fail("not constant");
    Value callee;
    Args args;
    if (!eval(*e.kids[0], scope, callee) || !evalArgs(e, 1, scope, args))
      return false;
    curOffset = e.offset;
    return call(callee, std::move(args), out);
  }
  case EK::Filter: {
    // Filters that take the context are never evaluated at compile time.
    if (folding && isContextFilter(e.name))
      return fail("not constant");
    Value input;
    if (e.kids[0]) {
      if (!eval(*e.kids[0], scope, input))
        return false;
    } else if (placeholder) {
      input = *placeholder;
    }
    Args args;
    if (!evalArgs(e, 1, scope, args))
      return false;
    curOffset = e.offset;
    return callFilter(e.name, input, std::move(args), out);
  }
  case EK::Test: {
    Value input;
    Args args;
    bool result;
    if (!eval(*e.kids[0], scope, input) || !evalArgs(e, 1, scope, args))
      return false;
    curOffset = e.offset;
    if (!callTest(e.name, input, std::move(args), result))
      return false;
    out = Value::boolean(result);
    return true;
  }
  case EK::Not: {
    Value v;
    bool t;
    if (!eval(*e.kids[0], scope, v) || !truthy(v, t))
      return false;
    out = Value::boolean(!t);
    return true;
  }
  case EK::Neg:
  case EK::Pos: {
    Value v;
    if (!eval(*e.kids[0], scope, v))
      return false;
    curOffset = e.offset;
    const char *op = e.kind == EK::Neg ? "-" : "+";
    if (v.isUndefined())
      return fail(v.s);
    if (v.kind == Kind::Float) {
      out = Value::number(e.kind == EK::Neg ? -v.f : v.f);
      return true;
    }
    if (!v.isIntLike())
      return fail(std::string("bad operand type for unary ") + op + ": '" +
                  typeName(v) + "'");
    int64_t i = v.asInt();
    if (e.kind == EK::Neg && i == INT64_MIN)
      return fail("integer overflow");
    out = Value::integer(e.kind == EK::Neg ? -i : i);
    return true;
  }
  case EK::Binary: {
    Value a, b;
    if (!eval(*e.kids[0], scope, a) || !eval(*e.kids[1], scope, b))
      return false;
    curOffset = e.offset;
    return binary(e.name, a, b, out);
  }
  case EK::Concat: {
    std::string text;
    for (const ExprP &k : e.kids) {
      Value v;
      std::string piece;
      if (!eval(*k, scope, v) || !toStr(v, piece))
        return false;
      if (!checkSize(text.size() + piece.size()))
        return false;
      text += piece;
    }
    out = Value::str(std::move(text));
    return true;
  }
  case EK::Compare: {
    Value left;
    if (!eval(*e.kids[0], scope, left))
      return false;
    for (size_t i = 0; i < e.ops.size(); ++i) {
      Value right;
      if (!eval(*e.kids[i + 1], scope, right))
        return false;
      curOffset = e.offset;
      const std::string &op = e.ops[i];
      bool r;
      if (op == "==" || op == "!=") {
        if (!equals(left, right, r))
          return false;
        r = op == "==" ? r : !r;
      } else if (op == "in" || op == "not in") {
        if (!contains(right, left, r))
          return false;
        r = op == "in" ? r : !r;
      } else if (!compare(op, left, right, r)) {
        return false;
      }
      if (!r) {
        out = Value::boolean(false);
        return true;
      }
      left = std::move(right);
    }
    out = Value::boolean(true);
    return true;
  }
  case EK::And:
  case EK::Or: {
    bool t;
    if (!eval(*e.kids[0], scope, out) || !truthy(out, t))
      return false;
    if (t == (e.kind == EK::Or))
      return true;
    return eval(*e.kids[1], scope, out);
  }
  case EK::Cond: {
    Value test;
    bool t;
    if (!eval(*e.kids[1], scope, test) || !truthy(test, t))
      return false;
    if (t)
      return eval(*e.kids[0], scope, out);
    if (e.kids[2])
      return eval(*e.kids[2], scope, out);
    out = Value::undefined("the inline if-expression on line " +
                           std::to_string(program.line(e.offset)) +
                           " evaluated to false and no else section was "
                           "defined.");
    return true;
  }
  case EK::List:
  case EK::Tuple: {
    std::vector<Value> items(e.kids.size());
    for (size_t i = 0; i < e.kids.size(); ++i)
      if (!eval(*e.kids[i], scope, items[i]))
        return false;
    out = Value::list(std::move(items),
                      e.kind == EK::List ? Seq::List : Seq::Tuple);
    return true;
  }
  case EK::Dict: {
    std::vector<std::pair<Value, Value>> items;
    for (size_t i = 0; i + 1 < e.kids.size(); i += 2) {
      Value k, v;
      if (!eval(*e.kids[i], scope, k) || !eval(*e.kids[i + 1], scope, v))
        return false;
      curOffset = e.offset;
      if (!dictSet(items, std::move(k), std::move(v)))
        return false;
    }
    out = Value::dict(std::move(items));
    return true;
  }
  }
  return fail("unknown expression");
}

bool Renderer::assign(const Target &t, const Value &v, Scope &scope) {
  if (t.kind == Target::Name) {
    scope.set(t.name, v);
    return true;
  }
  if (t.kind == Target::NsAttr) {
    Value ns;
    for (Scope *s = &scope; s; s = s->parent.get())
      if (Value *found = s->find(t.name)) {
        ns = *found;
        break;
      }
    if (ns.kind != Kind::Namespace)
      return fail("cannot assign attribute on non-namespace object");
    // Namespace attributes are the only values that outlive a loop
    // iteration, so bounding their depth bounds every value's.
    if (nestingDepth(v) > kMaxDepth)
      return fail("value nested too deeply");
    if (!t.attr.empty() && t.attr[0] == '_')
      return fail("Chat templates cannot store underscore-prefixed "
                  "attributes on a namespace, but got '" +
                  t.attr + "'. Please rename the attribute.");
    auto &attrs = static_cast<NamespaceObj &>(*ns.obj).attrs;
    for (auto &[name, value] : attrs)
      if (name == t.attr) {
        value = v;
        return true;
      }
    attrs.emplace_back(t.attr, v);
    return true;
  }
  std::vector<Value> items;
  if (!iterate(v, items))
    return false;
  if (items.size() < t.items.size())
    return fail("not enough values to unpack (expected " +
                std::to_string(t.items.size()) + ", got " +
                std::to_string(items.size()) + ")");
  if (items.size() > t.items.size())
    return fail("too many values to unpack (expected " +
                std::to_string(t.items.size()) + ")");
  for (size_t i = 0; i < items.size(); ++i)
    if (!assign(t.items[i], items[i], scope))
      return false;
  return true;
}

Renderer::Flow Renderer::execBody(const Body &body, const ScopeP &scope,
                                  std::string &out) {
  Depth guard(*this);
  if (!guard.ok)
    return Flow::Error;
  for (const StmtP &s : body) {
    Flow f = exec(*s, scope, out);
    if (f != Flow::Normal)
      return f;
  }
  return Flow::Normal;
}

Renderer::Flow Renderer::execFor(const Stmt &s, const ScopeP &scope,
                                 std::string &out) {
  Value iterable;
  std::vector<Value> all;
  if (!eval(*s.expr, scope, iterable))
    return Flow::Error;
  curOffset = s.offset;
  if (!iterate(iterable, all))
    return Flow::Error;
  // The `if` filter runs before the loop, so loop.length and loop.index
  // count only the items it keeps.
  auto items = std::make_shared<std::vector<Value>>();
  if (s.cond) {
    for (Value &item : all) {
      auto probe = std::make_shared<Scope>();
      probe->parent = scope;
      Value keep;
      bool t;
      if (!assign(s.target, item, *probe) || !eval(*s.cond, probe, keep) ||
          !truthy(keep, t))
        return Flow::Error;
      if (t)
        items->push_back(std::move(item));
    }
  } else {
    *items = std::move(all);
  }
  auto loop = std::make_shared<LoopObj>();
  loop->items = items;
  Value loopValue;
  loopValue.kind = Kind::Loop;
  loopValue.obj = loop;
  for (size_t i = 0; i < items->size(); ++i) {
    if (!step())
      return Flow::Error;
    // jinja2 compiles the body inline, so assignments in it start afresh
    // on every iteration.
    auto iterScope = std::make_shared<Scope>();
    iterScope->parent = scope;
    loop->index = i;
    iterScope->set("loop", loopValue);
    curOffset = s.offset;
    if (!assign(s.target, (*items)[i], *iterScope))
      return Flow::Error;
    Flow f = execBody(s.bodies[0], iterScope, out);
    if (f == Flow::Error)
      return f;
    if (f == Flow::Break)
      break;
  }
  if (items->empty() && !s.bodies[1].empty()) {
    auto elseScope = std::make_shared<Scope>();
    elseScope->parent = scope;
    Flow f = execBody(s.bodies[1], elseScope, out);
    if (f == Flow::Error)
      return f;
  }
  return Flow::Normal;
}

Renderer::Flow Renderer::exec(const Stmt &s, const ScopeP &scope,
                              std::string &out) {
  curOffset = s.offset;
  switch (s.kind) {
  case SK::Output:
    return emit(out, s.text) ? Flow::Normal : Flow::Error;
  case SK::Print: {
    Value v;
    std::string text;
    // jinja2 evaluates a {{ }} without variables or calls at compile time,
    // where a failing slice gives an Undefined; when that fails (or meets a
    // variable) it runs as usual.
    folding = true;
    bool folded = eval(*s.expr, scope, v);
    folding = false;
    if (folded)
      return toStr(v, text) && emit(out, text) ? Flow::Normal : Flow::Error;
    failed = false;
    error.clear();
    if (!eval(*s.expr, scope, v) || !toStr(v, text) || !emit(out, text))
      return Flow::Error;
    return Flow::Normal;
  }
  case SK::If:
    for (size_t i = 0; i < s.conds.size(); ++i) {
      Value v;
      bool t;
      if (!eval(*s.conds[i], scope, v) || !truthy(v, t))
        return Flow::Error;
      if (t)
        return execBody(s.bodies[i], scope, out);
    }
    if (s.bodies.size() > s.conds.size())
      return execBody(s.bodies.back(), scope, out);
    return Flow::Normal;
  case SK::For:
    return execFor(s, scope, out);
  case SK::Set: {
    Value v;
    if (!eval(*s.expr, scope, v))
      return Flow::Error;
    curOffset = s.offset;
    return assign(s.target, v, *scope) ? Flow::Normal : Flow::Error;
  }
  case SK::SetBlock:
  case SK::FilterBlock: {
    // A set block renders in its own scope; a filter block does not.
    std::string text;
    ScopeP inner = scope;
    if (s.kind == SK::SetBlock) {
      inner = std::make_shared<Scope>();
      inner->parent = scope;
    }
    if (execBody(s.bodies[0], inner, text) == Flow::Error)
      return Flow::Error;
    Value v = Value::str(std::move(text));
    if (s.expr) {
      const Value *saved = placeholder;
      placeholder = &v;
      Value filtered;
      bool ok = eval(*s.expr, scope, filtered);
      placeholder = saved;
      if (!ok)
        return Flow::Error;
      v = std::move(filtered);
    }
    if (s.kind == SK::SetBlock)
      return assign(s.target, v, *scope) ? Flow::Normal : Flow::Error;
    std::string printed;
    return toStr(v, printed) && emit(out, printed) ? Flow::Normal : Flow::Error;
  }
  case SK::Macro: {
    Value fn = makeFunc(Fn::Macro, s.macro->name);
    auto &f = static_cast<FuncObj &>(*fn.obj);
    f.macro = s.macro.get();
    f.closure = scope;
    cyclic.push_back(fn.obj);
    scope->set(s.macro->name, fn);
    return Flow::Normal;
  }
  case SK::Break:
    return Flow::Break;
  case SK::Continue:
    return Flow::Continue;
  case SK::Scoped: {
    auto inner = std::make_shared<Scope>();
    inner->parent = scope;
    std::string text;
    if (execBody(s.bodies[0], inner, text) == Flow::Error || !emit(out, text))
      return Flow::Error;
    return Flow::Normal;
  }
  case SK::With: {
    auto inner = std::make_shared<Scope>();
    inner->parent = scope;
    for (const auto &[target, expr] : s.assigns) {
      Value v;
      if (!eval(*expr, scope, v) || !assign(target, v, *inner))
        return Flow::Error;
    }
    return execBody(s.bodies[0], inner, out);
  }
  }
  return Flow::Normal;
}

bool Renderer::invokeMacro(const FuncObj &fn, Args args, Value &out) {
  Depth guard(*this);
  if (!guard.ok)
    return false;
  const MacroDef &m = *fn.macro;
  auto scope = std::make_shared<Scope>();
  scope->parent = fn.closure;
  size_t n = m.params.size();
  if (args.pos.size() > n && !m.catchVarargs)
    return fail("macro '" + m.name + "' takes not more than " +
                std::to_string(n) + " argument(s)");
  std::vector<bool> given(n, false);
  std::vector<Value> values(n);
  for (size_t i = 0; i < n && i < args.pos.size(); ++i) {
    values[i] = args.pos[i];
    given[i] = true;
  }
  std::vector<std::pair<Value, Value>> extraKw;
  for (Kwarg &kw : args.kw) {
    auto it = std::find(m.params.begin(), m.params.end(), kw.name);
    if (it == m.params.end()) {
      if (!m.catchKwargs)
        return fail("macro '" + m.name + "' takes no keyword argument '" +
                    kw.name + "'");
      extraKw.emplace_back(Value::str(kw.name), std::move(kw.value));
      continue;
    }
    size_t idx = it - m.params.begin();
    if (given[idx])
      return fail("macro '" + m.name + "' got multiple values for argument '" +
                  kw.name + "'");
    values[idx] = std::move(kw.value);
    given[idx] = true;
  }
  // Defaults are evaluated in the macro's scope, after the parameters
  // before them are bound.
  size_t firstDefault = n - m.defaults.size();
  for (size_t i = 0; i < n; ++i) {
    if (!given[i]) {
      if (i >= firstDefault) {
        if (!eval(*m.defaults[i - firstDefault], scope, values[i]))
          return false;
      } else {
        values[i] = Value::undefined("parameter '" + m.params[i] +
                                     "' was not provided");
      }
    }
    scope->set(m.params[i], values[i]);
  }
  if (m.catchVarargs) {
    std::vector<Value> rest;
    for (size_t i = n; i < args.pos.size(); ++i)
      rest.push_back(args.pos[i]);
    scope->set("varargs", Value::list(std::move(rest), Seq::Tuple));
  }
  if (m.catchKwargs)
    scope->set("kwargs", Value::dict(std::move(extraKw)));
  std::string text;
  if (execBody(m.body, scope, text) == Flow::Error)
    return false;
  out = Value::str(std::move(text));
  return true;
}

} // namespace

bool Interp::callMacro(const FuncObj &fn, Args args, Value &out) {
  return static_cast<Renderer &>(*this).invokeMacro(fn, std::move(args), out);
}

} // namespace ct

//===----------------------------------------------------------------------===//
// ChatTemplate
//===----------------------------------------------------------------------===//

ChatTemplate::ChatTemplate() = default;
ChatTemplate::~ChatTemplate() = default;

void ChatTemplate::setNow(int64_t secondsSinceEpoch) {
  hasNow = true;
  now = secondsSinceEpoch;
}

bool ChatTemplate::parse(const std::string &source, std::string &error) {
  program.reset();
  auto prog = std::make_shared<ct::Program>();
  if (!ct::parseProgram(source, *prog, error))
    return false;
  program = std::move(prog);
  return true;
}

bool ChatTemplate::render(const Json &context, std::string &out,
                          std::string &error) const {
  using namespace ct;
  if (!program) {
    error = "no template has been parsed";
    return false;
  }
  if (context.kind != Json::Kind::Object) {
    error = "the context must be a JSON object";
    return false;
  }
  Renderer r(*program);
  r.hasNow = hasNow;
  r.now = now;
  auto contextScope = std::make_shared<Scope>();
  for (const auto &[key, value] : context.object) {
    Value v;
    if (!r.fromJson(value, v)) {
      error = r.error;
      return false;
    }
    contextScope->set(key, std::move(v));
  }
  auto root = std::make_shared<Scope>();
  root->parent = contextScope;
  std::string text;
  if (r.execBody(program->body, root, text) == Renderer::Flow::Error ||
      r.failed) {
    error =
        r.raised ? r.error : program->location(r.errorOffset) + ": " + r.error;
    return false;
  }
  out = std::move(text);
  return true;
}

} // namespace lmc::rt
