// Python semantics of + - * / // % ** ~ and `in` on template values.
#include <cmath>

#include "src/chat/builtins.h"
#include "src/chat/interpreter.h"

namespace awq::jinja {
namespace {

[[noreturn]] void unsupported_operands(const std::string& op, const Value& a, const Value& b) {
  throw TemplateError("TypeError: unsupported operand type(s) for " + op + ": '" + type_name(a) + "' and '" +
                      type_name(b) + "'");
}

void check_overflow(bool overflow) {
  if (overflow) throw TemplateError("unsupported: integer result does not fit in 64 bits");
}

Value repeat(const Value& seq, int64_t times) {
  if (seq.is_string()) {
    std::string out;
    for (int64_t i = 0; i < times; ++i) out += seq.as_string();
    return Value(std::move(out));
  }
  std::vector<Value> out;
  for (int64_t i = 0; i < times; ++i) {
    out.insert(out.end(), seq.as_list().items.begin(), seq.as_list().items.end());
  }
  return Value::list(std::move(out), seq.as_list().is_tuple);
}

bool is_int_like(const Value& v) { return v.is(Value::Type::Int) || v.is(Value::Type::Bool); }

Value arithmetic(const std::string& op, const Value& a, const Value& b) {
  if (!a.is_number() || !b.is_number()) unsupported_operands(op, a, b);
  bool both_int = is_int_like(a) && is_int_like(b);
  if (both_int && op != "/" && op != "**") {
    int64_t x = a.as_int(), y = b.as_int(), r = 0;
    if (op == "+" || op == "-" || op == "*") {
      check_overflow(op == "+" ? __builtin_add_overflow(x, y, &r)
                               : op == "-" ? __builtin_sub_overflow(x, y, &r) : __builtin_mul_overflow(x, y, &r));
      return Value(r);
    }
    if (y == 0) throw TemplateError(op == "//" ? "ZeroDivisionError: integer division or modulo by zero"
                                               : "ZeroDivisionError: integer modulo by zero");
    int64_t q = x / y, m = x % y;
    if (m != 0 && ((m < 0) != (y < 0))) {  // Python floors toward negative infinity
      q -= 1;
      m += y;
    }
    return Value(op == "//" ? q : m);
  }
  if (both_int && op == "**" && b.as_int() >= 0) {
    int64_t base = a.as_int(), result = 1;
    for (int64_t e = b.as_int(); e > 0; --e) check_overflow(__builtin_mul_overflow(result, base, &result));
    return Value(result);
  }
  double x = a.as_double(), y = b.as_double();
  if (op == "+") return Value(x + y);
  if (op == "-") return Value(x - y);
  if (op == "*") return Value(x * y);
  if (op == "**") return Value(std::pow(x, y));
  if (y == 0.0) throw TemplateError(op == "/" ? "ZeroDivisionError: division by zero" : "ZeroDivisionError: float modulo");
  if (op == "/") return Value(x / y);
  // CPython's float_divmod, so // and % agree with Python to the last bit.
  double mod = std::fmod(x, y);
  double div = (x - mod) / y;
  if (mod != 0.0) {
    if ((y < 0) != (mod < 0)) {
      mod += y;
      div -= 1.0;
    }
  } else {
    mod = std::copysign(0.0, y);
  }
  if (op == "%") return Value(mod);
  double floor_div = std::copysign(0.0, x / y);
  if (div != 0.0) {
    floor_div = std::floor(div);
    if (div - floor_div > 0.5) floor_div += 1.0;
  }
  return Value(floor_div);
}

}  // namespace

Value binary_op(const std::string& op, const Value& a, const Value& b) {
  if (op == "~") return Value(to_str(a) + to_str(b));
  if (a.is_undefined()) throw_undefined(a);
  if (b.is_undefined()) throw_undefined(b);
  if (op == "+") {
    if (a.is_string() && b.is_string()) return Value(a.as_string() + b.as_string());
    if (a.is(Value::Type::List) && b.is(Value::Type::List) && a.as_list().is_tuple == b.as_list().is_tuple) {
      std::vector<Value> items = a.as_list().items;
      items.insert(items.end(), b.as_list().items.begin(), b.as_list().items.end());
      return Value::list(std::move(items), a.as_list().is_tuple);
    }
    if (a.is_string() || b.is_string()) {
      throw TemplateError("TypeError: can only concatenate str (not \"" + type_name(a.is_string() ? b : a) + "\") to str");
    }
  }
  if (op == "*") {
    bool a_seq = a.is_string() || a.is(Value::Type::List);
    bool b_seq = b.is_string() || b.is(Value::Type::List);
    if (a_seq && is_int_like(b)) return repeat(a, b.as_int());
    if (b_seq && is_int_like(a)) return repeat(b, a.as_int());
  }
  if (op == "%" && a.is_string()) throw TemplateError("unsupported: printf-style string formatting with %");
  return arithmetic(op, a, b);
}

bool contains(const Value& container, const Value& item) {
  switch (container.type()) {
    case Value::Type::Undefined: return false;
    case Value::Type::String:
      if (!item.is_string()) {
        throw TemplateError("TypeError: 'in <string>' requires string as left operand, not " + type_name(item));
      }
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Type::List:
      for (const auto& v : container.as_list().items) {
        if (equals(v, item)) return true;
      }
      return false;
    case Value::Type::Dict: return item.is_string() && container.as_dict().find(item.as_string()) != nullptr;
    default: throw TemplateError("TypeError: argument of type '" + type_name(container) + "' is not iterable");
  }
}

}  // namespace awq::jinja
