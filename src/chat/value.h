// The data model of the Jinja interpreter: Python values as jinja2 sees them.
// Lists and dicts are immutable and shared (the sandbox forbids mutating them),
// namespaces are mutable and shared, and Undefined is distinct from None.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace awq::jinja {

class Value;

// A failure while rendering (jinja2's TemplateError and the Python exceptions it lets through);
// the interpreter adds the template location and turns it into Error(Input).
struct TemplateError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct List {
  std::vector<Value> items;
  bool is_tuple = false;  // only changes how it prints: (1, 2) instead of [1, 2]
};

// Insertion-ordered like a Python dict; keys are strings (all that chat templates use).
struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  const Value* find(std::string_view key) const;
  void set(std::string key, Value value);
};

struct Namespace {
  Dict attrs;
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keywords;
};

// Macros, globals such as range() and bound methods such as "abc".strip.
struct Callable {
  std::string name;
  std::function<Value(CallArgs&)> call;
};

struct UndefinedTag {
  std::string hint;  // why it is undefined, for the error when it is used
};

class Value {
 public:
  enum class Type { Undefined, None, Bool, Int, Float, String, List, Dict, Namespace, Callable };

  Value() : v_(UndefinedTag{}) {}
  Value(std::nullptr_t) : v_(nullptr) {}
  Value(bool b) : v_(b) {}
  Value(int i) : v_(int64_t{i}) {}
  Value(int64_t i) : v_(i) {}
  Value(double f) : v_(f) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(const char* s) : v_(std::string(s)) {}

  static Value undefined(std::string hint) { return Value(Storage(UndefinedTag{std::move(hint)})); }
  static Value list(std::vector<Value> items, bool is_tuple = false);
  static Value dict(Dict d);
  static Value namespace_object(Dict attrs);
  static Value callable(std::string name, std::function<Value(CallArgs&)> fn);

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is(Type t) const { return type() == t; }
  bool is_undefined() const { return is(Type::Undefined); }
  bool is_none() const { return is(Type::None); }
  bool is_string() const { return is(Type::String); }
  bool is_number() const { return is(Type::Int) || is(Type::Float) || is(Type::Bool); }

  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const;  // Int or Bool
  double as_double() const;  // Int, Bool or Float
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const List& as_list() const { return *std::get<std::shared_ptr<const List>>(v_); }
  const Dict& as_dict() const { return *std::get<std::shared_ptr<const Dict>>(v_); }
  Namespace& as_namespace() const { return *std::get<std::shared_ptr<Namespace>>(v_); }
  const Callable& as_callable() const { return *std::get<std::shared_ptr<const Callable>>(v_); }
  const std::string& undefined_hint() const { return std::get<UndefinedTag>(v_).hint; }

  // Identity of shared objects (the `sameas` test); scalars compare by value.
  const void* identity() const;

 private:
  using Storage = std::variant<UndefinedTag, std::nullptr_t, bool, int64_t, double, std::string,
                               std::shared_ptr<const List>, std::shared_ptr<const Dict>,
                               std::shared_ptr<Namespace>, std::shared_ptr<const Callable>>;
  explicit Value(Storage s) : v_(std::move(s)) {}
  Storage v_;
};

// Python semantics.
bool truthy(const Value& v);
std::string to_str(const Value& v);  // str(v); Undefined prints as ""
std::string repr(const Value& v);    // repr(v)
std::string type_name(const Value& v);
bool equals(const Value& a, const Value& b);
// <0, 0, >0 like Python's ordering; throws for unorderable types.
int compare(const Value& a, const Value& b);
std::string format_float(double d);  // float.__repr__

// Items iterated by `for`, `|list` and friends: list items, dict keys, string characters.
std::vector<Value> iterate(const Value& v);
// len(); throws for values without one.
int64_t length(const Value& v);

Value from_json(const nlohmann::ordered_json& j);

// json.dumps as transformers' tojson filter calls it.
struct JsonDumpOptions {
  bool ensure_ascii = false;
  bool sort_keys = false;
  std::string indent;        // used when has_indent
  bool has_indent = false;
  std::string item_separator = ", ";
  std::string key_separator = ": ";
};
std::string json_dumps(const Value& v, const JsonDumpOptions& options);

}  // namespace awq::jinja
