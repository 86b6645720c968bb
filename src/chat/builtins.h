// jinja2's built-in filters and tests (with transformers' tojson), Python's
// str/dict/list methods as the immutable sandbox allows them, and attribute/item access.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "src/chat/ast.h"
#include "src/chat/value.h"

namespace awq::jinja {

FilterFn find_filter(std::string_view name);  // nullptr when unsupported
TestFn find_test(std::string_view name);

// obj.name / obj[key] with the sandbox's lookup order; attribute access on
// Undefined throws jinja2's UndefinedError.
Value get_attribute(const Value& obj, const std::string& name);
Value get_item(const Value& obj, const Value& key);

// The bound method obj.name, or nullopt if the type has no such method.
std::optional<Value> bound_method(const Value& obj, const std::string& name);

// Argument binding for builtins: positional index or keyword name, else fallback.
const Value* find_arg(const CallArgs& args, size_t index, std::string_view name);
Value arg_or(const CallArgs& args, size_t index, std::string_view name, Value fallback);

[[noreturn]] void throw_undefined(const Value& undefined);

}  // namespace awq::jinja
