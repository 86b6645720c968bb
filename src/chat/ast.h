// Syntax tree of a parsed template. Filters and tests are resolved to
// functions at parse time, so an unknown name is a located parse error.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "src/chat/value.h"

namespace awq::jinja {

using FilterFn = Value (*)(const Value& target, CallArgs& args);
using TestFn = bool (*)(const Value& target, CallArgs& args);

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind {
  Literal, Name, List, Tuple, Dict, Getattr, Getitem, Slice, Call, Filter, Test,
  Neg, Pos, Not, Binary, Compare, And, Or, CondExpr,
  FilterInput,  // the body text a `{% filter %}` or block `{% set %}` feeds into its filters
};

struct Expr {
  ExprKind kind;
  int line = 0;
  int col = 0;
  Value literal;
  std::string name;             // Name; Getattr attribute; Filter/Test name; Binary operator
  ExprPtr a, b, c;              // target/left/condition, right/index/then, else
  std::vector<ExprPtr> items;   // List/Tuple elements; Dict keys and values interleaved;
                                // Call/Filter/Test positional args; Slice start, stop, step (may be null)
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;  // Compare: one operator per item
  FilterFn filter = nullptr;
  TestFn test = nullptr;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class StmtKind { Text, Output, If, For, Set, NamespaceSet, SetBlock, Macro, CallBlock, FilterBlock, Break, Continue, Scope };

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // null: Undefined when not passed
};

struct Stmt {
  StmtKind kind;
  int line = 0;
  int col = 0;
  std::string text;                  // Text; Macro name; NamespaceSet attribute
  ExprPtr expr;                      // Output/If condition/For iterable/Set value/CallBlock call/filters
  ExprPtr loop_filter;               // For ... if <loop_filter>
  std::vector<std::string> targets;  // For/Set/SetBlock names (several when unpacking); NamespaceSet object
  Body body;
  Body else_body;                    // If else (an elif is a nested If); For else
  std::vector<MacroParam> params;    // Macro; CallBlock caller parameters
};

}  // namespace awq::jinja
