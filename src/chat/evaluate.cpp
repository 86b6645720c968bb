// Expression evaluation and the global functions transformers' environment provides.
#include <ctime>

#include "src/chat/builtins.h"
#include "src/chat/interpreter.h"
#include "src/chat/py_text.h"

namespace awq::jinja {
namespace {

Value builtin_range(CallArgs& args) {
  if (!args.keywords.empty() || args.positional.empty() || args.positional.size() > 3) {
    throw TemplateError("TypeError: range expects 1 to 3 integer arguments");
  }
  for (const auto& a : args.positional) {
    if (!a.is(Value::Type::Int) && !a.is(Value::Type::Bool)) throw TemplateError("TypeError: range() arguments must be integers");
  }
  int64_t start = 0, stop = 0, step = 1;
  if (args.positional.size() == 1) {
    stop = args.positional[0].as_int();
  } else {
    start = args.positional[0].as_int();
    stop = args.positional[1].as_int();
    if (args.positional.size() == 3) step = args.positional[2].as_int();
  }
  if (step == 0) throw TemplateError("ValueError: range() arg 3 must not be zero");
  std::vector<Value> out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (out.size() >= 100000) throw TemplateError("OverflowError: range too big, maximum size for range is 100000");
    out.emplace_back(i);
  }
  return Value::list(std::move(out));
}

Dict dict_from_args(CallArgs& args, const char* what) {
  Dict d;
  if (args.positional.size() > 1) throw TemplateError(std::string("TypeError: ") + what + " expected at most 1 argument");
  if (!args.positional.empty()) {
    const Value& base = args.positional[0];
    if (base.is(Value::Type::Dict)) {
      d = base.as_dict();
    } else {
      for (const Value& pair : iterate(base)) {
        auto kv = iterate(pair);
        if (kv.size() != 2 || !kv[0].is_string()) throw TemplateError(std::string("unsupported ") + what + " argument");
        d.set(kv[0].as_string(), kv[1]);
      }
    }
  }
  for (auto& [k, v] : args.keywords) d.set(k, v);
  return d;
}

Value builtin_namespace(CallArgs& args) {
  Dict attrs = dict_from_args(args, "namespace()");
  for (const auto& kv : attrs.items) {
    if (!kv.first.empty() && kv.first[0] == '_') {
      throw TemplateError("SecurityError: chat templates cannot store underscore-prefixed attributes on a namespace");
    }
  }
  return Value::namespace_object(std::move(attrs));
}

Value builtin_strftime_now(CallArgs& args) {
  Value fmt = arg_or(args, 0, "format", Value());
  if (!fmt.is_string()) throw TemplateError("TypeError: strftime_now() expects a format string");
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buf[512];
  size_t n = std::strftime(buf, sizeof buf, fmt.as_string().c_str(), &local);
  return Value(std::string(buf, n));
}

}  // namespace

Value Interpreter::global(const std::string& name) {
  if (name == "range") return Value::callable(name, builtin_range);
  if (name == "namespace") return Value::callable(name, builtin_namespace);
  if (name == "dict") return Value::callable(name, [](CallArgs& a) { return Value::dict(dict_from_args(a, "dict()")); });
  if (name == "strftime_now") return Value::callable(name, builtin_strftime_now);
  if (name == "raise_exception") {
    return Value::callable(name, [](CallArgs& a) -> Value { throw TemplateError(to_str(arg_or(a, 0, "message", Value()))); });
  }
  return Value::undefined("'" + name + "' is undefined");
}

Value Interpreter::eval_name(const Expr& e, const ScopePtr& scope) {
  if (const Value* v = scope->find(e.name)) return *v;
  return global(e.name);
}

CallArgs Interpreter::eval_args(const Expr& e, const ScopePtr& scope) {
  CallArgs args;
  args.positional.reserve(e.items.size());
  for (const auto& item : e.items) args.positional.push_back(eval(*item, scope));
  for (const auto& [k, v] : e.kwargs) args.keywords.emplace_back(k, eval(*v, scope));
  return args;
}

Value Interpreter::eval_call(const Expr& e, const ScopePtr& scope) {
  Value callee = eval(*e.a, scope);
  if (callee.is_undefined()) throw_undefined(callee);
  if (!callee.is(Value::Type::Callable)) throw TemplateError("TypeError: '" + type_name(callee) + "' object is not callable");
  CallArgs args = eval_args(e, scope);
  return callee.as_callable().call(args);
}

static int64_t slice_bound(const Value& v, const char* what) {
  if (!v.is(Value::Type::Int) && !v.is(Value::Type::Bool)) {
    throw TemplateError(std::string("TypeError: slice ") + what + " must be an integer or None");
  }
  return v.as_int();
}

Value Interpreter::eval_slice(const Value& target, const Expr& slice, const ScopePtr& scope) {
  if (target.is_undefined()) throw_undefined(target);
  Value parts[3];
  for (int i = 0; i < 3; ++i) {
    if (slice.items[static_cast<size_t>(i)]) parts[i] = eval(*slice.items[static_cast<size_t>(i)], scope);
  }
  int64_t step = parts[2].is_undefined() || parts[2].is_none() ? 1 : slice_bound(parts[2], "step");
  if (step == 0) throw TemplateError("ValueError: slice step cannot be zero");
  bool is_string = target.is_string();
  if (!is_string && !target.is(Value::Type::List)) {
    throw TemplateError("TypeError: '" + type_name(target) + "' object is not subscriptable");
  }
  std::u32string chars = is_string ? utf8_decode(target.as_string()) : std::u32string();
  const int64_t len = is_string ? static_cast<int64_t>(chars.size()) : static_cast<int64_t>(target.as_list().items.size());
  auto bound = [&](const Value& v, int64_t fallback) {
    if (v.is_undefined() || v.is_none()) return fallback;
    int64_t b = slice_bound(v, "indices");
    if (b < 0) b += len;
    if (step > 0) return std::clamp<int64_t>(b, 0, len);
    return std::clamp<int64_t>(b, -1, len - 1);
  };
  int64_t start = bound(parts[0], step > 0 ? 0 : len - 1);
  int64_t stop = bound(parts[1], step > 0 ? len : -1);
  std::u32string out_chars;
  std::vector<Value> out_items;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (is_string) {
      out_chars.push_back(chars[static_cast<size_t>(i)]);
    } else {
      out_items.push_back(target.as_list().items[static_cast<size_t>(i)]);
    }
  }
  if (is_string) return Value(utf8_encode(out_chars));
  return Value::list(std::move(out_items), target.as_list().is_tuple);
}

Value Interpreter::eval(const Expr& e, const ScopePtr& scope) {
  try {
    switch (e.kind) {
      case ExprKind::Literal: return e.literal;
      case ExprKind::Name: return eval_name(e, scope);
      case ExprKind::FilterInput: return *filter_input_;
      case ExprKind::List:
      case ExprKind::Tuple: {
        std::vector<Value> items;
        items.reserve(e.items.size());
        for (const auto& item : e.items) items.push_back(eval(*item, scope));
        return Value::list(std::move(items), e.kind == ExprKind::Tuple);
      }
      case ExprKind::Dict: {
        Dict d;
        for (size_t i = 0; i < e.items.size(); i += 2) {
          Value key = eval(*e.items[i], scope);
          if (!key.is_string()) throw TemplateError("unsupported: dict literal keys must be strings");
          d.set(key.as_string(), eval(*e.items[i + 1], scope));
        }
        return Value::dict(std::move(d));
      }
      case ExprKind::Getattr: return get_attribute(eval(*e.a, scope), e.name);
      case ExprKind::Getitem: {
        Value target = eval(*e.a, scope);
        if (e.b->kind == ExprKind::Slice) return eval_slice(target, *e.b, scope);
        return get_item(target, eval(*e.b, scope));
      }
      case ExprKind::Slice: throw TemplateError("slice outside of a subscript");
      case ExprKind::Call: return eval_call(e, scope);
      case ExprKind::Filter: {
        Value target = eval(*e.a, scope);
        CallArgs args = eval_args(e, scope);
        return e.filter(target, args);
      }
      case ExprKind::Test: {
        Value target = eval(*e.a, scope);
        CallArgs args = eval_args(e, scope);
        return Value(e.test(target, args));
      }
      case ExprKind::Neg:
      case ExprKind::Pos: {
        Value v = eval(*e.a, scope);
        if (v.is_undefined()) throw_undefined(v);
        if (!v.is_number()) throw TemplateError("TypeError: bad operand type for unary " + std::string(e.kind == ExprKind::Neg ? "-" : "+") + ": '" + type_name(v) + "'");
        if (v.is(Value::Type::Float)) return Value(e.kind == ExprKind::Neg ? -v.as_double() : v.as_double());
        return Value(e.kind == ExprKind::Neg ? -v.as_int() : v.as_int());
      }
      case ExprKind::Not: return Value(!truthy(eval(*e.a, scope)));
      case ExprKind::Binary: {
        Value a = eval(*e.a, scope);
        return binary_op(e.name, a, eval(*e.b, scope));
      }
      case ExprKind::Compare: {
        Value left = eval(*e.a, scope);
        for (size_t i = 0; i < e.ops.size(); ++i) {
          Value right = eval(*e.items[i], scope);
          const std::string& op = e.ops[i];
          bool ok;
          if (op == "==") ok = equals(left, right);
          else if (op == "!=") ok = !equals(left, right);
          else if (op == "in") ok = contains(right, left);
          else if (op == "not in") ok = !contains(right, left);
          else {
            if (left.is_undefined()) throw_undefined(left);
            if (right.is_undefined()) throw_undefined(right);
            int c = compare(left, right);
            ok = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
          }
          if (!ok) return Value(false);
          left = std::move(right);
        }
        return Value(true);
      }
      case ExprKind::And: {
        Value a = eval(*e.a, scope);
        return truthy(a) ? eval(*e.b, scope) : a;
      }
      case ExprKind::Or: {
        Value a = eval(*e.a, scope);
        return truthy(a) ? a : eval(*e.b, scope);
      }
      case ExprKind::CondExpr:
        if (truthy(eval(*e.a, scope))) return eval(*e.b, scope);
        if (e.c) return eval(*e.c, scope);
        return Value::undefined("the inline if-expression evaluated to false and no else section was defined");
    }
  } catch (const TemplateError& err) {
    fail(e.line, e.col, err.what());
  }
  return Value();
}

}  // namespace awq::jinja
