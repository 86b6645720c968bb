// Walks the syntax tree and writes the output, with jinja2's scoping: a for
// loop iteration, macro call, call/filter/set block body each get a fresh scope
// over the enclosing one; `if` does not.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "src/chat/ast.h"
#include "src/chat/lexer.h"
#include "src/chat/value.h"

namespace awq::jinja {

struct Scope {
  std::shared_ptr<Scope> parent;
  std::vector<std::pair<std::string, Value>> vars;
  const Value* find(const std::string& name) const;
  void set(const std::string& name, Value v);
};
using ScopePtr = std::shared_ptr<Scope>;

class Interpreter {
 public:
  explicit Interpreter(const SourceInfo& source) : src_(source) {}

  // Throws Error(Input) "<name>:<line>:<col>: <what>" for failures while rendering.
  std::string render(const Body& body, const Dict& context);

 private:
  enum class Flow { Normal, Break, Continue };

  Flow exec_body(const Body& body, const ScopePtr& scope, std::string& out);
  Flow exec(const Stmt& s, const ScopePtr& scope, std::string& out);
  void exec_for(const Stmt& s, const ScopePtr& scope, std::string& out);
  void exec_macro_definition(const Stmt& s, const ScopePtr& scope);
  void exec_call_block(const Stmt& s, const ScopePtr& scope, std::string& out);
  Value call_macro(const Stmt& macro, const ScopePtr& closure, CallArgs& args);

  Value eval(const Expr& e, const ScopePtr& scope);
  Value eval_name(const Expr& e, const ScopePtr& scope);
  Value eval_call(const Expr& e, const ScopePtr& scope);
  Value eval_slice(const Value& target, const Expr& slice, const ScopePtr& scope);
  CallArgs eval_args(const Expr& e, const ScopePtr& scope);
  Value global(const std::string& name);

  [[noreturn]] void fail(int line, int col, const std::string& what) const;

  const SourceInfo& src_;
  const Value* filter_input_ = nullptr;  // body text of the filter/set block being evaluated
};

// Binary operators, `in` and unpacking, with Python's semantics.
Value binary_op(const std::string& op, const Value& a, const Value& b);
bool contains(const Value& container, const Value& item);

}  // namespace awq::jinja
