//===- ChatTemplateAst.h - Syntax tree of a chat template -------*- C++ -*-===//
//
// What ChatTemplateParser.cpp builds and ChatTemplate.cpp interprets: jinja2's
// expression and statement nodes, as far as chat templates use them.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_CHATTEMPLATEAST_H
#define LMC_RT_CHATTEMPLATEAST_H

#include "ChatTemplateImpl.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace lmc::rt::ct {

//===----------------------------------------------------------------------===//
// Syntax tree
//===----------------------------------------------------------------------===//

enum class EK : uint8_t {
  Const,
  Name,
  Attr,   // kids[0].name
  Item,   // kids[0][kids[1]]
  Slice,  // kids[0]:kids[1]:kids[2], each may be null
  Call,   // kids[0](kids[1..], kwargs)
  Filter, // kids[0] | name(kids[1..], kwargs); kids[0] null in filter blocks
  Test,   // kids[0] is name(kids[1..], kwargs)
  Not,
  Neg,
  Pos,
  Binary,  // kids[0] name kids[1]
  Concat,  // kids[0] ~ kids[1] ~ ...
  Compare, // kids[0] ops[0] kids[1] ops[1] kids[2] ...
  And,
  Or,
  Cond, // kids[0] if kids[1] else kids[2] (may be null)
  List,
  Tuple,
  Dict, // kids = key, value, key, value, ...
};

struct Expr;
using ExprP = std::unique_ptr<Expr>;

struct Expr {
  EK kind;
  size_t offset;
  int height = 1;
  /// No variables, calls or context filters below: jinja2's optimizer
  /// evaluates such a node at compile time (see Renderer::eval).
  bool constant = false;
  Value value;
  std::string name;
  std::vector<ExprP> kids;
  std::vector<std::pair<std::string, ExprP>> kwargs;
  std::vector<std::string> ops;
  Expr(EK kind, size_t offset) : kind(kind), offset(offset) {}
};

struct Target {
  enum Kind { Name, Tuple, NsAttr } kind = Name;
  std::string name, attr;
  std::vector<Target> items;
  size_t offset = 0;
};

struct Stmt;
using StmtP = std::unique_ptr<Stmt>;
using Body = std::vector<StmtP>;

enum class SK : uint8_t {
  Output,
  Print,
  If,
  For,
  Set,
  SetBlock,
  Macro,
  Break,
  Continue,
  Scoped, // {% generation %}: a body with its own scope
  With,
  FilterBlock,
};

struct MacroDef {
  std::string name;
  std::vector<std::string> params;
  std::vector<ExprP> defaults; // for the last defaults.size() params
  Body body;
  bool catchVarargs = false;
  bool catchKwargs = false;
};

struct Stmt {
  SK kind;
  size_t offset;
  std::string text;
  ExprP expr;    // Print, Set, For iterable, SetBlock/FilterBlock filter
  ExprP cond;    // For: the `if` filter
  Target target; // Set, SetBlock, For
  std::vector<ExprP> conds; // If: one per branch
  std::vector<Body> bodies; // If: per branch (+ else); For: body, else
  std::vector<std::pair<Target, ExprP>> assigns; // With
  std::unique_ptr<MacroDef> macro;
  Stmt(SK kind, size_t offset) : kind(kind), offset(offset) {}
};

struct Program {
  Body body;
  std::vector<size_t> lineStarts;

  std::string source;

  /// "LINE:COL" of byte `offset` in `source`.
  std::string location(size_t offset) const;
  int line(size_t offset) const {
    return int(std::upper_bound(lineStarts.begin(), lineStarts.end(), offset) -
               lineStarts.begin());
  }
};

/// Parses `source` (newlines normalized, one trailing newline dropped, as
/// jinja2 does); false with `error` = "LINE:COL: message".
bool parseProgram(const std::string &source, Program &program,
                  std::string &error);

} // namespace lmc::rt::ct

#endif // LMC_RT_CHATTEMPLATEAST_H
