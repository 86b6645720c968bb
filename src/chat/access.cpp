// Attribute and item access with the sandbox's lookup order, and the Python
// methods of str, dict and list that the immutable sandbox lets templates call.
#include <algorithm>

#include "src/chat/builtins.h"
#include "src/chat/py_text.h"

namespace awq::jinja {

void throw_undefined(const Value& undefined) {
  const std::string& hint = undefined.undefined_hint();
  throw TemplateError(hint.empty() ? "UndefinedError: value is undefined" : "UndefinedError: " + hint);
}

const Value* find_arg(const CallArgs& args, size_t index, std::string_view name) {
  if (index < args.positional.size()) return &args.positional[index];
  for (const auto& [k, v] : args.keywords) {
    if (k == name) return &v;
  }
  return nullptr;
}

Value arg_or(const CallArgs& args, size_t index, std::string_view name, Value fallback) {
  const Value* v = find_arg(args, index, name);
  return v ? *v : std::move(fallback);
}

namespace {

std::optional<std::string> optional_string(const CallArgs& args, size_t index, std::string_view name) {
  const Value* v = find_arg(args, index, name);
  if (!v || v->is_none()) return std::nullopt;
  if (!v->is_string()) throw TemplateError("TypeError: " + std::string(name) + " arg must be None or str");
  return v->as_string();
}

const std::string& string_arg(const CallArgs& args, size_t index, std::string_view name) {
  const Value* v = find_arg(args, index, name);
  if (!v || !v->is_string()) throw TemplateError("TypeError: " + std::string(name) + " must be a str");
  return v->as_string();
}

int64_t int_arg(const CallArgs& args, size_t index, std::string_view name, int64_t fallback) {
  const Value* v = find_arg(args, index, name);
  if (!v || v->is_none()) return fallback;
  if (!v->is(Value::Type::Int) && !v->is(Value::Type::Bool)) throw TemplateError("TypeError: " + std::string(name) + " must be an integer");
  return v->as_int();
}

Value string_list(std::vector<std::string> parts) {
  std::vector<Value> out;
  out.reserve(parts.size());
  for (auto& p : parts) out.emplace_back(std::move(p));
  return Value::list(std::move(out));
}

bool affix_match(const std::string& s, const Value& affix, bool prefix) {
  auto one = [&](const Value& a) {
    if (!a.is_string()) throw TemplateError("TypeError: startswith/endswith arg must be str or a tuple of str");
    const std::string& x = a.as_string();
    if (x.size() > s.size()) return false;
    return prefix ? s.compare(0, x.size(), x) == 0 : s.compare(s.size() - x.size(), x.size(), x) == 0;
  };
  if (affix.is(Value::Type::List) && affix.as_list().is_tuple) {
    return std::any_of(affix.as_list().items.begin(), affix.as_list().items.end(), one);
  }
  return one(affix);
}

bool all_chars(const std::string& s, bool (*pred)(char32_t)) {
  std::u32string u = utf8_decode(s);
  return !u.empty() && std::all_of(u.begin(), u.end(), pred);
}

std::optional<Value> string_method(const std::string& s, const std::string& name, CallArgs& a) {
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    return Value(py_strip(s, optional_string(a, 0, "chars"), name != "rstrip", name != "lstrip"));
  }
  if (name == "split" || name == "rsplit") {
    return string_list(py_split(s, optional_string(a, 0, "sep"), int_arg(a, 1, "maxsplit", -1), name == "rsplit"));
  }
  if (name == "splitlines") return string_list(py_splitlines(s));
  if (name == "startswith" || name == "endswith") {
    const Value* affix = find_arg(a, 0, "prefix");
    if (!affix) throw TemplateError("TypeError: " + name + "() takes at least 1 argument");
    return Value(affix_match(s, *affix, name == "startswith"));
  }
  if (name == "upper") return Value(py_upper(s));
  if (name == "lower") return Value(py_lower(s));
  if (name == "title") return Value(py_title(s));
  if (name == "capitalize") return Value(py_capitalize(s));
  if (name == "replace") {
    return Value(py_replace(s, string_arg(a, 0, "old"), string_arg(a, 1, "new"), int_arg(a, 2, "count", -1)));
  }
  if (name == "find" || name == "rfind" || name == "count") {
    const std::string& sub = string_arg(a, 0, "sub");
    if (name == "count") {
      if (sub.empty()) return Value(utf8_length(s) + 1);
      int64_t n = 0;
      for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
      return Value(n);
    }
    size_t p = name == "find" ? s.find(sub) : s.rfind(sub);
    return Value(p == std::string::npos ? int64_t{-1} : utf8_length(std::string_view(s).substr(0, p)));
  }
  if (name == "join") {
    std::string out;
    bool first = true;
    for (const Value& item : iterate(arg_or(a, 0, "iterable", Value()))) {
      if (!item.is_string()) throw TemplateError("TypeError: sequence item: expected str instance, " + type_name(item) + " found");
      if (!first) out += s;
      out += item.as_string();
      first = false;
    }
    return Value(std::move(out));
  }
  if (name == "removeprefix" || name == "removesuffix") {
    const std::string& affix = string_arg(a, 0, name == "removeprefix" ? "prefix" : "suffix");
    if (affix_match(s, Value(affix), name == "removeprefix")) {
      return Value(name == "removeprefix" ? s.substr(affix.size()) : s.substr(0, s.size() - affix.size()));
    }
    return Value(s);
  }
  if (name == "isspace") return Value(all_chars(s, is_py_space));
  if (name == "isdigit") return Value(all_chars(s, [](char32_t c) { return c >= '0' && c <= '9'; }));
  if (name == "islower") return Value(py_islower(s));
  if (name == "isupper") return Value(py_isupper(s));
  return std::nullopt;
}

bool is_string_method(const std::string& n) {
  static const char* const names[] = {"strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith",
                                      "endswith", "upper", "lower", "title", "capitalize", "replace", "find", "rfind",
                                      "count", "join", "removeprefix", "removesuffix", "isspace", "isdigit",
                                      "islower", "isupper"};
  return std::find(std::begin(names), std::end(names), n) != std::end(names);
}

Value dict_method(const Value& self, const std::string& name, CallArgs& a) {
  const Dict& d = self.as_dict();
  if (name == "get") {
    const Value& key = arg_or(a, 0, "key", Value());
    const Value* hit = key.is_string() ? d.find(key.as_string()) : nullptr;
    return hit ? *hit : arg_or(a, 1, "default", Value(nullptr));
  }
  std::vector<Value> out;
  for (const auto& [k, v] : d.items) {
    if (name == "keys") out.emplace_back(k);
    else if (name == "values") out.push_back(v);
    else out.push_back(Value::list({Value(k), v}, true));
  }
  return Value::list(std::move(out));
}

Value unsafe(const Value& obj, const std::string& name) {
  return Value::undefined("SecurityError: access to attribute '" + name + "' of '" + type_name(obj) +
                          "' object is unsafe.");
}

}  // namespace

std::optional<Value> bound_method(const Value& obj, const std::string& name) {
  if (obj.is_string() && is_string_method(name)) {
    return Value::callable("str." + name, [obj, name](CallArgs& a) { return *string_method(obj.as_string(), name, a); });
  }
  if (obj.is(Value::Type::Dict)) {
    if (name == "get" || name == "items" || name == "keys" || name == "values") {
      return Value::callable("dict." + name, [obj, name](CallArgs& a) { return dict_method(obj, name, a); });
    }
    if (name == "copy") return Value::callable("dict.copy", [obj](CallArgs&) { return obj; });
    if (name == "pop" || name == "popitem" || name == "setdefault" || name == "update" || name == "clear") {
      return unsafe(obj, name);
    }
  }
  if (obj.is(Value::Type::List)) {
    if (name == "index" || name == "count") {
      return Value::callable("list." + name, [obj, name](CallArgs& a) -> Value {
        const Value& x = arg_or(a, 0, "value", Value());
        const auto& items = obj.as_list().items;
        int64_t n = 0;
        for (size_t i = 0; i < items.size(); ++i) {
          if (!equals(items[i], x)) continue;
          if (name == "index") return Value(static_cast<int64_t>(i));
          ++n;
        }
        if (name == "index") throw TemplateError("ValueError: " + repr(x) + " is not in list");
        return Value(n);
      });
    }
    if (name == "append" || name == "extend" || name == "insert" || name == "pop" || name == "remove" ||
        name == "reverse" || name == "sort" || name == "clear") {
      return unsafe(obj, name);
    }
  }
  return std::nullopt;
}

static std::string object_label(const Value& v) { return type_name(v) + " object"; }

Value get_attribute(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) throw_undefined(obj);
  if (auto m = bound_method(obj, name)) return *m;
  if (obj.is(Value::Type::Dict)) {
    if (const Value* v = obj.as_dict().find(name)) return *v;
  } else if (obj.is(Value::Type::Namespace)) {
    if (const Value* v = obj.as_namespace().attrs.find(name)) return *v;
  }
  return Value::undefined("'" + object_label(obj) + "' has no attribute '" + name + "'");
}

Value get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) throw_undefined(obj);
  if (obj.is(Value::Type::Dict) && key.is_string()) {
    if (const Value* v = obj.as_dict().find(key.as_string())) return *v;
  }
  bool int_key = key.is(Value::Type::Int) || key.is(Value::Type::Bool);
  if (int_key && (obj.is(Value::Type::List) || obj.is_string())) {
    int64_t i = key.as_int();
    if (obj.is(Value::Type::List)) {
      const auto& items = obj.as_list().items;
      int64_t n = static_cast<int64_t>(items.size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return items[static_cast<size_t>(i)];
    } else {
      std::u32string u = utf8_decode(obj.as_string());
      int64_t n = static_cast<int64_t>(u.size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return Value(utf8_encode(u.substr(static_cast<size_t>(i), 1)));
    }
    return Value::undefined(object_label(obj) + " has no element " + std::to_string(key.as_int()));
  }
  if (key.is_string()) {
    if (auto m = bound_method(obj, key.as_string())) return *m;
    if (obj.is(Value::Type::Namespace)) {
      if (const Value* v = obj.as_namespace().attrs.find(key.as_string())) return *v;
    }
    return Value::undefined("'" + object_label(obj) + "' has no attribute '" + key.as_string() + "'");
  }
  return Value::undefined(object_label(obj) + " has no element " + repr(key));
}

}  // namespace awq::jinja
