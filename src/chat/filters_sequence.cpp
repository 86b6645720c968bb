// Sequence and mapping filters of jinja2. Where jinja2 returns a generator
// (map, select, reverse, ...) this returns a list; iterating gives the same items.
#include <algorithm>

#include "src/chat/builtins.h"
#include "src/chat/filter_support.h"
#include "src/chat/interpreter.h"
#include "src/chat/py_text.h"

namespace awq::jinja {

Value lookup_attribute_path(const Value& item, const Value& path) {
  if (!path.is_string()) return get_item(item, path);
  Value cur = item;
  for (const std::string& part : py_split(path.as_string(), std::string("."), -1, false)) {
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    cur = get_item(cur, digits ? Value(static_cast<int64_t>(std::stoll(part))) : Value(part));
  }
  return cur;
}

Value fold_case(const Value& v) { return v.is_string() ? Value(py_lower(v.as_string())) : v; }

namespace {

Value f_first(const Value& v, CallArgs& a) {
  reject_extra_args(a, 0, {}, "first");
  auto items = iterate(v);
  return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
}

Value f_last(const Value& v, CallArgs& a) {
  reject_extra_args(a, 0, {}, "last");
  auto items = iterate(v);
  return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
}

Value f_list(const Value& v, CallArgs& a) {
  reject_extra_args(a, 0, {}, "list");
  return Value::list(iterate(v));
}

Value f_items(const Value& v, CallArgs& a) {
  reject_extra_args(a, 0, {}, "items");
  if (v.is_undefined()) return Value::list({});
  if (!v.is(Value::Type::Dict)) throw TemplateError("TypeError: can only get item pairs from a mapping.");
  std::vector<Value> out;
  for (const auto& [k, x] : v.as_dict().items) out.push_back(Value::list({Value(k), x}, true));
  return Value::list(std::move(out));
}

Value f_join(const Value& v, CallArgs& a) {
  reject_extra_args(a, 2, {"d", "attribute"}, "join");
  std::string sep = to_str(arg_or(a, 0, "d", Value("")));
  const Value* attribute = find_arg(a, 1, "attribute");
  std::string out;
  bool first = true;
  for (const Value& item : iterate(v)) {
    if (!first) out += sep;
    out += to_str(attribute && !attribute->is_none() ? lookup_attribute_path(item, *attribute) : item);
    first = false;
  }
  return Value(std::move(out));
}

CallArgs tail_args(const CallArgs& a, size_t from) {
  CallArgs rest;
  if (a.positional.size() > from) rest.positional.assign(a.positional.begin() + static_cast<long>(from), a.positional.end());
  rest.keywords = a.keywords;
  return rest;
}

Value f_map(const Value& v, CallArgs& a) {
  std::vector<Value> out;
  if (a.positional.empty()) {
    reject_extra_args(a, 0, {"attribute", "default"}, "map");
    const Value* attribute = find_arg(a, 99, "attribute");
    if (!attribute) throw TemplateError("FilterArgumentError: map requires a filter argument");
    Value fallback = arg_or(a, 99, "default", Value(nullptr));
    for (const Value& item : iterate(v)) {
      Value x = lookup_attribute_path(item, *attribute);
      out.push_back(x.is_undefined() && !fallback.is_none() ? fallback : x);
    }
    return Value::list(std::move(out));
  }
  std::string name = to_str(a.positional[0]);
  FilterFn fn = find_filter(name);
  if (!fn) throw TemplateError("unsupported filter '" + name + "' in map()");
  CallArgs rest = tail_args(a, 1);
  for (const Value& item : iterate(v)) {
    CallArgs each = rest;
    out.push_back(fn(item, each));
  }
  return Value::list(std::move(out));
}

// select/reject/selectattr/rejectattr: optional attribute, then a test name and its arguments.
Value select_items(const Value& v, CallArgs& a, bool by_attribute, bool keep_when) {
  size_t off = 0;
  Value attribute;
  if (by_attribute) {
    if (a.positional.empty()) throw TemplateError("FilterArgumentError: missing parameter for attribute name");
    attribute = a.positional[0];
    off = 1;
  }
  TestFn test = nullptr;
  CallArgs rest;
  if (a.positional.size() > off) {
    std::string name = to_str(a.positional[off]);
    test = find_test(name);
    if (!test) throw TemplateError("unsupported test '" + name + "'");
    rest = tail_args(a, off + 1);
  }
  std::vector<Value> out;
  for (const Value& item : iterate(v)) {
    Value subject = by_attribute ? lookup_attribute_path(item, attribute) : item;
    CallArgs each = rest;
    bool passed = test ? test(subject, each) : truthy(subject);
    if (passed == keep_when) out.push_back(item);
  }
  return Value::list(std::move(out));
}

Value f_select(const Value& v, CallArgs& a) { return select_items(v, a, false, true); }
Value f_reject(const Value& v, CallArgs& a) { return select_items(v, a, false, false); }
Value f_selectattr(const Value& v, CallArgs& a) { return select_items(v, a, true, true); }
Value f_rejectattr(const Value& v, CallArgs& a) { return select_items(v, a, true, false); }

Value sort_key(const Value& item, const Value* attribute, bool case_sensitive) {
  Value key = attribute && !attribute->is_none() ? lookup_attribute_path(item, *attribute) : item;
  return case_sensitive ? key : fold_case(key);
}

Value f_sort(const Value& v, CallArgs& a) {
  reject_extra_args(a, 3, {"reverse", "case_sensitive", "attribute"}, "sort");
  bool reverse = flag_arg(a, 0, "reverse", false);
  bool case_sensitive = flag_arg(a, 1, "case_sensitive", false);
  const Value* attribute = find_arg(a, 2, "attribute");
  std::vector<std::pair<Value, Value>> keyed;
  for (const Value& item : iterate(v)) keyed.emplace_back(sort_key(item, attribute, case_sensitive), item);
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    return reverse ? compare(y.first, x.first) < 0 : compare(x.first, y.first) < 0;
  });
  std::vector<Value> out;
  for (auto& kv : keyed) out.push_back(std::move(kv.second));
  return Value::list(std::move(out));
}

Value f_dictsort(const Value& v, CallArgs& a) {
  reject_extra_args(a, 3, {"case_sensitive", "by", "reverse"}, "dictsort");
  bool case_sensitive = flag_arg(a, 0, "case_sensitive", false);
  std::string by = to_str(arg_or(a, 1, "by", Value("key")));
  bool reverse = flag_arg(a, 2, "reverse", false);
  if (by != "key" && by != "value") throw TemplateError("FilterArgumentError: You can only sort by either \"key\" or \"value\"");
  if (!v.is(Value::Type::Dict)) throw TemplateError("TypeError: dictsort needs a mapping");
  std::vector<Value> pairs;
  for (const auto& [k, x] : v.as_dict().items) pairs.push_back(Value::list({Value(k), x}, true));
  size_t pos = by == "key" ? 0 : 1;
  std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& x, const Value& y) {
    Value kx = x.as_list().items[pos], ky = y.as_list().items[pos];
    if (!case_sensitive) {
      kx = fold_case(kx);
      ky = fold_case(ky);
    }
    return reverse ? compare(ky, kx) < 0 : compare(kx, ky) < 0;
  });
  return Value::list(std::move(pairs));
}

Value f_unique(const Value& v, CallArgs& a) {
  reject_extra_args(a, 2, {"case_sensitive", "attribute"}, "unique");
  bool case_sensitive = flag_arg(a, 0, "case_sensitive", false);
  const Value* attribute = find_arg(a, 1, "attribute");
  std::vector<Value> seen, out;
  for (const Value& item : iterate(v)) {
    Value key = sort_key(item, attribute, case_sensitive);
    if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, key); })) continue;
    seen.push_back(key);
    out.push_back(item);
  }
  return Value::list(std::move(out));
}

Value f_reverse(const Value& v, CallArgs& a) {
  reject_extra_args(a, 0, {}, "reverse");
  if (v.is_string()) {
    std::u32string u = utf8_decode(v.as_string());
    std::reverse(u.begin(), u.end());
    return Value(utf8_encode(u));
  }
  auto items = iterate(v);
  std::reverse(items.begin(), items.end());
  return Value::list(std::move(items));
}

Value min_max(const Value& v, CallArgs& a, bool want_max) {
  reject_extra_args(a, 2, {"case_sensitive", "attribute"}, want_max ? "max" : "min");
  bool case_sensitive = flag_arg(a, 0, "case_sensitive", false);
  const Value* attribute = find_arg(a, 1, "attribute");
  auto items = iterate(v);
  if (items.empty()) return Value::undefined(std::string("No aggregated item, sequence was empty."));
  size_t best = 0;
  for (size_t i = 1; i < items.size(); ++i) {
    int c = compare(sort_key(items[i], attribute, case_sensitive), sort_key(items[best], attribute, case_sensitive));
    if (want_max ? c > 0 : c < 0) best = i;
  }
  return items[best];
}

Value f_min(const Value& v, CallArgs& a) { return min_max(v, a, false); }
Value f_max(const Value& v, CallArgs& a) { return min_max(v, a, true); }

Value f_sum(const Value& v, CallArgs& a) {
  reject_extra_args(a, 2, {"attribute", "start"}, "sum");
  const Value* attribute = find_arg(a, 0, "attribute");
  Value total = arg_or(a, 1, "start", Value(0));
  for (const Value& item : iterate(v)) {
    total = binary_op("+", total, attribute && !attribute->is_none() ? lookup_attribute_path(item, *attribute) : item);
  }
  return total;
}

Value f_attr(const Value& v, CallArgs& a) {
  reject_extra_args(a, 1, {"name"}, "attr");
  return get_attribute(v, to_str(arg_or(a, 0, "name", Value(""))));
}

}  // namespace

FilterFn find_text_filter(std::string_view name);

FilterFn find_filter(std::string_view name) {
  static const std::pair<const char*, FilterFn> table[] = {
      {"first", f_first},   {"last", f_last},     {"list", f_list},           {"items", f_items},
      {"join", f_join},     {"map", f_map},       {"select", f_select},       {"reject", f_reject},
      {"selectattr", f_selectattr}, {"rejectattr", f_rejectattr}, {"sort", f_sort}, {"dictsort", f_dictsort},
      {"unique", f_unique}, {"reverse", f_reverse}, {"min", f_min},           {"max", f_max},
      {"sum", f_sum},       {"attr", f_attr},
  };
  for (const auto& [n, fn] : table) {
    if (name == n) return fn;
  }
  return find_text_filter(name);
}

}  // namespace awq::jinja
