// Statement execution and scoping.
#include "src/chat/interpreter.h"

#include "src/chat/builtins.h"
#include "src/common/error.h"

namespace awq::jinja {

const Value* Scope::find(const std::string& name) const {
  for (const Scope* s = this; s; s = s->parent.get()) {
    for (const auto& [k, v] : s->vars) {
      if (k == name) return &v;
    }
  }
  return nullptr;
}

void Scope::set(const std::string& name, Value v) {
  for (auto& [k, old] : vars) {
    if (k == name) {
      old = std::move(v);
      return;
    }
  }
  vars.emplace_back(name, std::move(v));
}

static ScopePtr child_of(const ScopePtr& parent) {
  auto s = std::make_shared<Scope>();
  s->parent = parent;
  return s;
}

void Interpreter::fail(int line, int col, const std::string& what) const { fail_at(src_, line, col, what); }

std::string Interpreter::render(const Body& body, const Dict& context) {
  auto root = std::make_shared<Scope>();
  root->vars = context.items;
  std::string out;
  exec_body(body, root, out);
  return out;
}

Interpreter::Flow Interpreter::exec_body(const Body& body, const ScopePtr& scope, std::string& out) {
  for (const auto& s : body) {
    Flow f = exec(*s, scope, out);
    if (f != Flow::Normal) return f;
  }
  return Flow::Normal;
}

static void assign_targets(const std::vector<std::string>& targets, const Value& v, Scope& scope) {
  if (targets.size() == 1) {
    scope.set(targets[0], v);
    return;
  }
  std::vector<Value> parts = iterate(v);
  if (parts.size() < targets.size()) {
    throw TemplateError("ValueError: not enough values to unpack (expected " + std::to_string(targets.size()) +
                        ", got " + std::to_string(parts.size()) + ")");
  }
  if (parts.size() > targets.size()) {
    throw TemplateError("ValueError: too many values to unpack (expected " + std::to_string(targets.size()) + ")");
  }
  for (size_t i = 0; i < targets.size(); ++i) scope.set(targets[i], parts[i]);
}

Interpreter::Flow Interpreter::exec(const Stmt& s, const ScopePtr& scope, std::string& out) {
  try {
    switch (s.kind) {
      case StmtKind::Text: out += s.text; return Flow::Normal;
      case StmtKind::Output: out += to_str(eval(*s.expr, scope)); return Flow::Normal;
      case StmtKind::If:
        return exec_body(truthy(eval(*s.expr, scope)) ? s.body : s.else_body, scope, out);
      case StmtKind::For: exec_for(s, scope, out); return Flow::Normal;
      case StmtKind::Set: assign_targets(s.targets, eval(*s.expr, scope), *scope); return Flow::Normal;
      case StmtKind::NamespaceSet: {
        const Value* ns = scope->find(s.targets[0]);
        if (!ns || !ns->is(Value::Type::Namespace)) {
          throw TemplateError("cannot assign attribute on non-namespace object");
        }
        Value v = eval(*s.expr, scope);
        if (!s.text.empty() && s.text[0] == '_') {
          throw TemplateError("SecurityError: chat templates cannot store underscore-prefixed attributes on a namespace");
        }
        ns->as_namespace().attrs.set(s.text, std::move(v));
        return Flow::Normal;
      }
      case StmtKind::SetBlock:
      case StmtKind::FilterBlock: {
        std::string text;
        exec_body(s.body, child_of(scope), text);
        Value body_value(std::move(text));
        const Value* saved = filter_input_;
        filter_input_ = &body_value;
        Value v = eval(*s.expr, scope);
        filter_input_ = saved;
        if (s.kind == StmtKind::SetBlock) {
          scope->set(s.targets[0], std::move(v));
        } else {
          out += to_str(v);
        }
        return Flow::Normal;
      }
      case StmtKind::Macro: exec_macro_definition(s, scope); return Flow::Normal;
      case StmtKind::CallBlock: exec_call_block(s, scope, out); return Flow::Normal;
      case StmtKind::Break: return Flow::Break;
      case StmtKind::Continue: return Flow::Continue;
      case StmtKind::Scope: exec_body(s.body, child_of(scope), out); return Flow::Normal;
    }
  } catch (const TemplateError& e) {
    fail(s.line, s.col, e.what());
  }
  return Flow::Normal;
}

void Interpreter::exec_for(const Stmt& s, const ScopePtr& scope, std::string& out) {
  Value iterable = eval(*s.expr, scope);
  if (iterable.is_undefined() || iterable.is_none() || iterable.is_number()) {
    if (!iterable.is_undefined()) throw TemplateError("TypeError: '" + type_name(iterable) + "' object is not iterable");
  }
  std::vector<Value> items = iterate(iterable);
  if (s.loop_filter) {
    std::vector<Value> kept;
    for (auto& item : items) {
      auto probe = child_of(scope);
      assign_targets(s.targets, item, *probe);
      if (truthy(eval(*s.loop_filter, probe))) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  if (items.empty()) {
    exec_body(s.else_body, child_of(scope), out);
    return;
  }
  const int64_t n = static_cast<int64_t>(items.size());
  for (int64_t i = 0; i < n; ++i) {
    auto iteration = child_of(scope);
    assign_targets(s.targets, items[static_cast<size_t>(i)], *iteration);
    Dict loop;
    loop.items.reserve(13);
    loop.items.emplace_back("index", Value(i + 1));
    loop.items.emplace_back("index0", Value(i));
    loop.items.emplace_back("revindex", Value(n - i));
    loop.items.emplace_back("revindex0", Value(n - i - 1));
    loop.items.emplace_back("first", Value(i == 0));
    loop.items.emplace_back("last", Value(i == n - 1));
    loop.items.emplace_back("length", Value(n));
    loop.items.emplace_back("depth", Value(1));
    loop.items.emplace_back("depth0", Value(0));
    if (i > 0) loop.items.emplace_back("previtem", items[static_cast<size_t>(i - 1)]);
    if (i + 1 < n) loop.items.emplace_back("nextitem", items[static_cast<size_t>(i + 1)]);
    loop.items.emplace_back("cycle", Value::callable("loop.cycle", [i](CallArgs& args) -> Value {
      if (args.positional.empty()) throw TemplateError("TypeError: no items for cycling given");
      return args.positional[static_cast<size_t>(i) % args.positional.size()];
    }));
    iteration->set("loop", Value::dict(std::move(loop)));
    if (exec_body(s.body, iteration, out) == Flow::Break) break;
  }
}

void Interpreter::exec_macro_definition(const Stmt& s, const ScopePtr& scope) {
  const Stmt* macro = &s;
  // The macro lives in the scope it closes over: a shared_ptr here would be a
  // cycle (scope -> macro -> scope) that is never freed.
  std::weak_ptr<Scope> closure = scope;
  scope->set(s.text, Value::callable(s.text, [this, macro, closure](CallArgs& args) {
    const ScopePtr defined_in = closure.lock();
    if (!defined_in) throw TemplateError("macro '" + macro->text + "' called after its scope ended");
    return call_macro(*macro, defined_in, args);
  }));
}

Value Interpreter::call_macro(const Stmt& macro, const ScopePtr& closure, CallArgs& args) {
  auto frame = child_of(closure);
  const auto& params = macro.params;
  if (args.positional.size() > params.size()) {
    throw TemplateError("TypeError: macro '" + macro.text + "' takes not more than " + std::to_string(params.size()) +
                        " argument(s)");
  }
  std::vector<bool> bound(params.size(), false);
  for (size_t i = 0; i < args.positional.size(); ++i) {
    frame->set(params[i].name, args.positional[i]);
    bound[i] = true;
  }
  for (auto& [key, v] : args.keywords) {
    size_t i = 0;
    while (i < params.size() && params[i].name != key) ++i;
    if (i == params.size()) {
      if (key == "caller") {  // a call block passes its body to the macro
        frame->set("caller", v);
        continue;
      }
      throw TemplateError("TypeError: macro '" + macro.text + "' takes no keyword argument '" + key + "'");
    }
    if (bound[i]) throw TemplateError("TypeError: macro '" + macro.text + "' got multiple values for argument '" + key + "'");
    frame->set(key, v);
    bound[i] = true;
  }
  for (size_t i = 0; i < params.size(); ++i) {
    if (bound[i]) continue;
    frame->set(params[i].name, params[i].default_value ? eval(*params[i].default_value, frame)
                                                       : Value::undefined("parameter '" + params[i].name + "' was not provided"));
  }
  std::string out;
  exec_body(macro.body, frame, out);
  return Value(std::move(out));
}

void Interpreter::exec_call_block(const Stmt& s, const ScopePtr& scope, std::string& out) {
  const Stmt* block = &s;
  ScopePtr call_site = scope;
  Value caller = Value::callable("caller", [this, block, call_site](CallArgs& args) {
    auto frame = child_of(call_site);
    for (size_t i = 0; i < block->params.size(); ++i) {
      const auto& p = block->params[i];
      const Value* given = find_arg(args, i, p.name);
      frame->set(p.name, given ? *given : p.default_value ? eval(*p.default_value, frame) : Value::undefined(p.name));
    }
    std::string text;
    exec_body(block->body, frame, text);
    return Value(std::move(text));
  });
  const Expr& call = *s.expr;
  Value callee = eval(*call.a, scope);
  if (!callee.is(Value::Type::Callable)) throw TemplateError("'call' block target is not a macro");
  CallArgs args = eval_args(call, scope);
  args.keywords.emplace_back("caller", caller);
  out += to_str(callee.as_callable().call(args));
}

}  // namespace awq::jinja
