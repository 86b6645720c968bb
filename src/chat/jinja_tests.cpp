// jinja2's built-in tests (`x is defined`, `x is divisibleby 3`, ...).
#include <cmath>

#include "src/chat/builtins.h"
#include "src/chat/filter_support.h"
#include "src/chat/interpreter.h"
#include "src/chat/py_text.h"

namespace awq::jinja {
namespace {

const Value& operand(const CallArgs& a, const char* test) {
  const Value* v = find_arg(a, 0, "other");
  if (!v) v = find_arg(a, 0, "value");
  if (!v) throw TemplateError(std::string("TypeError: test '") + test + "' needs an argument");
  return *v;
}

bool t_defined(const Value& v, CallArgs&) { return !v.is_undefined(); }
bool t_undefined(const Value& v, CallArgs&) { return v.is_undefined(); }
bool t_none(const Value& v, CallArgs&) { return v.is_none(); }
bool t_string(const Value& v, CallArgs&) { return v.is_string(); }
bool t_mapping(const Value& v, CallArgs&) { return v.is(Value::Type::Dict); }
bool t_number(const Value& v, CallArgs&) { return v.is_number(); }
bool t_integer(const Value& v, CallArgs&) { return v.is(Value::Type::Int); }
bool t_float(const Value& v, CallArgs&) { return v.is(Value::Type::Float); }
bool t_boolean(const Value& v, CallArgs&) { return v.is(Value::Type::Bool); }
bool t_true(const Value& v, CallArgs&) { return v.is(Value::Type::Bool) && v.as_bool(); }
bool t_false(const Value& v, CallArgs&) { return v.is(Value::Type::Bool) && !v.as_bool(); }
bool t_callable(const Value& v, CallArgs&) { return v.is(Value::Type::Callable); }
bool t_escaped(const Value&, CallArgs&) { return false; }  // no Markup strings with autoescape off
bool t_iterable(const Value& v, CallArgs&) {
  return v.is_undefined() || v.is_string() || v.is(Value::Type::List) || v.is(Value::Type::Dict);
}
bool t_sequence(const Value& v, CallArgs& a) { return t_iterable(v, a); }
bool t_lower(const Value& v, CallArgs&) { return py_islower(to_str(v)); }
bool t_upper(const Value& v, CallArgs&) { return py_isupper(to_str(v)); }

Value modulo(const Value& v, const Value& divisor) { return binary_op("%", v, divisor); }
bool t_odd(const Value& v, CallArgs&) { return equals(modulo(v, Value(2)), Value(1)); }
bool t_even(const Value& v, CallArgs&) { return equals(modulo(v, Value(2)), Value(0)); }
bool t_divisibleby(const Value& v, CallArgs& a) {
  const Value* num = find_arg(a, 0, "num");
  if (!num) throw TemplateError("TypeError: test 'divisibleby' needs a number");
  return equals(modulo(v, *num), Value(0));
}

bool t_eq(const Value& v, CallArgs& a) { return equals(v, operand(a, "eq")); }
bool t_ne(const Value& v, CallArgs& a) { return !equals(v, operand(a, "ne")); }
bool t_lt(const Value& v, CallArgs& a) { return compare(v, operand(a, "lt")) < 0; }
bool t_le(const Value& v, CallArgs& a) { return compare(v, operand(a, "le")) <= 0; }
bool t_gt(const Value& v, CallArgs& a) { return compare(v, operand(a, "gt")) > 0; }
bool t_ge(const Value& v, CallArgs& a) { return compare(v, operand(a, "ge")) >= 0; }
bool t_in(const Value& v, CallArgs& a) {
  const Value* seq = find_arg(a, 0, "seq");
  if (!seq) throw TemplateError("TypeError: test 'in' needs a sequence");
  return contains(*seq, v);
}
bool t_sameas(const Value& v, CallArgs& a) {
  const Value& other = operand(a, "sameas");
  if (v.type() != other.type()) return false;
  if (v.identity()) return v.identity() == other.identity();
  return equals(v, other);  // small ints, True/False/None are singletons in CPython
}
bool t_filter(const Value& v, CallArgs&) { return v.is_string() && find_filter(v.as_string()) != nullptr; }
bool t_test(const Value& v, CallArgs&) { return v.is_string() && find_test(v.as_string()) != nullptr; }

}  // namespace

TestFn find_test(std::string_view name) {
  static const std::pair<const char*, TestFn> table[] = {
      {"defined", t_defined}, {"undefined", t_undefined}, {"none", t_none}, {"string", t_string},
      {"mapping", t_mapping}, {"number", t_number}, {"integer", t_integer}, {"float", t_float},
      {"boolean", t_boolean}, {"true", t_true}, {"false", t_false}, {"callable", t_callable},
      {"escaped", t_escaped}, {"iterable", t_iterable}, {"sequence", t_sequence}, {"lower", t_lower},
      {"upper", t_upper}, {"odd", t_odd}, {"even", t_even}, {"divisibleby", t_divisibleby},
      {"eq", t_eq}, {"equalto", t_eq}, {"ne", t_ne}, {"lt", t_lt}, {"lessthan", t_lt}, {"le", t_le},
      {"gt", t_gt}, {"greaterthan", t_gt}, {"ge", t_ge}, {"in", t_in}, {"sameas", t_sameas},
      {"filter", t_filter}, {"test", t_test},
  };
  for (const auto& [n, fn] : table) {
    if (name == n) return fn;
  }
  return nullptr;
}

}  // namespace awq::jinja
