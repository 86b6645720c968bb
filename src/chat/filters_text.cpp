// String and number filters of jinja2, plus transformers' tojson.
#include <cmath>
#include <cstdlib>

#include "src/chat/builtins.h"
#include "src/chat/filter_support.h"
#include "src/chat/py_text.h"

namespace awq::jinja {

bool flag_arg(const CallArgs& args, size_t index, const char* name, bool fallback) {
  const Value* v = find_arg(args, index, name);
  return v ? truthy(*v) : fallback;
}

void reject_extra_args(const CallArgs& args, size_t max_positional, std::initializer_list<const char*> keywords,
                       const char* filter) {
  if (args.positional.size() > max_positional) {
    throw TemplateError(std::string("TypeError: too many arguments for filter '") + filter + "'");
  }
  for (const auto& kv : args.keywords) {
    bool known = false;
    for (const char* k : keywords) known = known || kv.first == k;
    if (!known) throw TemplateError(std::string("TypeError: filter '") + filter + "' got an unexpected keyword argument '" + kv.first + "'");
  }
}

namespace {

Value f_upper(const Value& v, CallArgs& a) {
  reject_extra_args(a, 0, {}, "upper");
  return Value(py_upper(to_str(v)));
}
Value f_lower(const Value& v, CallArgs& a) {
  reject_extra_args(a, 0, {}, "lower");
  return Value(py_lower(to_str(v)));
}
Value f_capitalize(const Value& v, CallArgs& a) {
  reject_extra_args(a, 0, {}, "capitalize");
  return Value(py_capitalize(to_str(v)));
}

// jinja2's title: every run after one of "-", whitespace, "(", "{", "[", "<" starts a word.
Value f_title(const Value& v, CallArgs& a) {
  reject_extra_args(a, 0, {}, "title");
  std::u32string u = utf8_decode(to_str(v));
  auto separator = [](char32_t c) { return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || is_py_space(c); };
  std::string out;
  size_t i = 0;
  while (i < u.size()) {
    size_t j = i;
    bool sep = separator(u[i]);
    while (j < u.size() && separator(u[j]) == sep) ++j;
    std::u32string_view piece(u.data() + i, j - i);
    out += py_upper(utf8_encode(piece.substr(0, 1)));
    out += py_lower(utf8_encode(piece.substr(1)));
    i = j;
  }
  return Value(std::move(out));
}

Value f_trim(const Value& v, CallArgs& a) {
  reject_extra_args(a, 1, {"chars"}, "trim");
  const Value* chars = find_arg(a, 0, "chars");
  std::optional<std::string> set;
  if (chars && !chars->is_none()) set = to_str(*chars);
  return Value(py_strip(to_str(v), set, true, true));
}

Value f_replace(const Value& v, CallArgs& a) {
  reject_extra_args(a, 3, {"old", "new", "count"}, "replace");
  const Value* old = find_arg(a, 0, "old");
  const Value* repl = find_arg(a, 1, "new");
  if (!old || !repl) throw TemplateError("TypeError: replace filter needs old and new");
  Value count = arg_or(a, 2, "count", Value(nullptr));
  int64_t n = count.is_none() ? -1 : count.as_int();
  return Value(py_replace(to_str(v), to_str(*old), to_str(*repl), n));
}

Value f_string(const Value& v, CallArgs& a) {
  reject_extra_args(a, 0, {}, "string");
  return Value(to_str(v));
}

Value f_safe(const Value& v, CallArgs& a) {
  reject_extra_args(a, 0, {}, "safe");
  return v.is_string() ? v : Value(to_str(v));
}

Value f_escape(const Value& v, CallArgs& a) {
  reject_extra_args(a, 0, {}, "escape");
  std::string out;
  for (char c : to_str(v)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return Value(std::move(out));
}

Value f_indent(const Value& v, CallArgs& a) {
  reject_extra_args(a, 3, {"width", "first", "blank"}, "indent");
  Value width = arg_or(a, 0, "width", Value(4));
  std::string indention = width.is_string() ? width.as_string() : std::string(static_cast<size_t>(std::max<int64_t>(0, width.as_int())), ' ');
  bool first = flag_arg(a, 1, "first", false);
  bool blank = flag_arg(a, 2, "blank", false);
  std::vector<std::string> lines = py_splitlines(to_str(v) + "\n");
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      out += '\n';
      if (blank || !lines[i].empty()) out += indention;
    }
    out += lines[i];
  }
  return Value(first ? indention + out : out);
}

Value f_tojson(const Value& v, CallArgs& a) {
  reject_extra_args(a, 4, {"ensure_ascii", "indent", "separators", "sort_keys"}, "tojson");
  JsonDumpOptions o;
  o.ensure_ascii = flag_arg(a, 0, "ensure_ascii", false);
  o.sort_keys = flag_arg(a, 3, "sort_keys", false);
  Value indent = arg_or(a, 1, "indent", Value(nullptr));
  if (indent.is_string()) {
    o.has_indent = true;
    o.indent = indent.as_string();
  } else if (!indent.is_none()) {
    o.has_indent = true;
    o.indent = std::string(static_cast<size_t>(std::max<int64_t>(0, indent.as_int())), ' ');
  }
  o.item_separator = o.has_indent ? "," : ", ";
  Value separators = arg_or(a, 2, "separators", Value(nullptr));
  if (!separators.is_none()) {
    auto parts = iterate(separators);
    if (parts.size() != 2 || !parts[0].is_string() || !parts[1].is_string()) {
      throw TemplateError("tojson: separators must be a pair of strings");
    }
    o.item_separator = parts[0].as_string();
    o.key_separator = parts[1].as_string();
  }
  return Value(json_dumps(v, o));
}

Value f_wordcount(const Value& v, CallArgs& a) {
  reject_extra_args(a, 0, {}, "wordcount");
  int64_t words = 0;
  bool in_word = false;
  for (char32_t c : utf8_decode(to_str(v))) {
    bool w = is_py_word_char(c);
    if (w && !in_word) ++words;
    in_word = w;
  }
  return Value(words);
}

Value f_length(const Value& v, CallArgs& a) {
  reject_extra_args(a, 0, {}, "length");
  return Value(length(v));
}

Value f_default(const Value& v, CallArgs& a) {
  reject_extra_args(a, 2, {"default_value", "boolean"}, "default");
  bool boolean = flag_arg(a, 1, "boolean", false);
  if (v.is_undefined() || (boolean && !truthy(v))) return arg_or(a, 0, "default_value", Value(""));
  return v;
}

// Python's int()/float() on a string: surrounding whitespace and digit underscores allowed.
std::optional<double> parse_python_float(const std::string& s) {
  std::string t = py_strip(s, std::nullopt, true, true);
  std::erase(t, '_');
  if (t.empty() || t.find_first_of("xXpP") != std::string::npos) return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return std::nullopt;
  return d;
}

std::optional<int64_t> parse_python_int(const std::string& s, int base) {
  std::string t = py_strip(s, std::nullopt, true, true);
  std::erase(t, '_');
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(t.c_str(), &end, base);
  if (end != t.c_str() + t.size() || errno == ERANGE) return std::nullopt;
  return static_cast<int64_t>(v);
}

Value f_int(const Value& v, CallArgs& a) {
  reject_extra_args(a, 2, {"default", "base"}, "int");
  Value fallback = arg_or(a, 0, "default", Value(0));
  int base = static_cast<int>(arg_or(a, 1, "base", Value(10)).as_int());
  if (v.is(Value::Type::Int) || v.is(Value::Type::Bool)) return Value(v.as_int());
  if (v.is(Value::Type::Float)) {
    if (!std::isfinite(v.as_double())) throw TemplateError("OverflowError: cannot convert float infinity or NaN to integer");
    return Value(static_cast<int64_t>(std::trunc(v.as_double())));
  }
  if (v.is_string()) {
    if (auto i = parse_python_int(v.as_string(), base)) return Value(*i);
    if (auto d = parse_python_float(v.as_string()); d && std::isfinite(*d)) return Value(static_cast<int64_t>(std::trunc(*d)));
  }
  return fallback;
}

Value f_float(const Value& v, CallArgs& a) {
  reject_extra_args(a, 1, {"default"}, "float");
  if (v.is_number()) return Value(v.as_double());
  if (v.is_string()) {
    if (auto d = parse_python_float(v.as_string())) return Value(*d);
  }
  return arg_or(a, 0, "default", Value(0.0));
}

Value f_abs(const Value& v, CallArgs& a) {
  reject_extra_args(a, 0, {}, "abs");
  if (v.is(Value::Type::Float)) return Value(std::fabs(v.as_double()));
  if (v.is(Value::Type::Int) || v.is(Value::Type::Bool)) return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
  throw TemplateError("TypeError: bad operand type for abs(): '" + type_name(v) + "'");
}

Value f_round(const Value& v, CallArgs& a) {
  reject_extra_args(a, 2, {"precision", "method"}, "round");
  int64_t precision = arg_or(a, 0, "precision", Value(0)).as_int();
  std::string method = to_str(arg_or(a, 1, "method", Value("common")));
  if (method != "common" && method != "ceil" && method != "floor") {
    throw TemplateError("FilterArgumentError: method must be common, ceil or floor");
  }
  if (!v.is_number()) throw TemplateError("TypeError: round() needs a number, got '" + type_name(v) + "'");
  double scale = std::pow(10.0, static_cast<double>(precision));
  if (method != "common") {
    double x = v.as_double() * scale;
    return Value((method == "ceil" ? std::ceil(x) : std::floor(x)) / scale);
  }
  if (!v.is(Value::Type::Float)) return Value(v.as_int());
  double x = v.as_double();
  if (!std::isfinite(x) || precision < 0) return Value(precision < 0 ? std::nearbyint(x / scale) * scale : x);
  // printf rounds the exact binary value half-to-even, as Python's round() does.
  char buf[512];
  snprintf(buf, sizeof buf, "%.*f", static_cast<int>(std::min<int64_t>(precision, 300)), x);
  return Value(std::strtod(buf, nullptr));
}

}  // namespace

FilterFn find_text_filter(std::string_view name) {
  static const std::pair<const char*, FilterFn> table[] = {
      {"upper", f_upper},       {"lower", f_lower},         {"capitalize", f_capitalize}, {"title", f_title},
      {"trim", f_trim},         {"replace", f_replace},     {"string", f_string},         {"safe", f_safe},
      {"e", f_escape},          {"escape", f_escape},       {"indent", f_indent},         {"tojson", f_tojson},
      {"wordcount", f_wordcount}, {"length", f_length},     {"count", f_length},          {"default", f_default},
      {"d", f_default},         {"int", f_int},             {"float", f_float},           {"abs", f_abs},
      {"round", f_round},
  };
  for (const auto& [n, fn] : table) {
    if (name == n) return fn;
  }
  return nullptr;
}

}  // namespace awq::jinja
