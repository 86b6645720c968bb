// Helpers shared by the filter implementations.
#pragma once
#include <string>

#include "src/chat/value.h"

namespace awq::jinja {

// jinja2's make_attrgetter: "a.b.0" looks up each part with item access.
Value lookup_attribute_path(const Value& item, const Value& path);
// Lower-cases strings for the case-insensitive sorting/unique/min/max keys.
Value fold_case(const Value& v);
// Bool argument with Python truthiness, by position or keyword.
bool flag_arg(const CallArgs& args, size_t index, const char* name, bool fallback);
void reject_extra_args(const CallArgs& args, size_t max_positional, std::initializer_list<const char*> keywords,
                       const char* filter);

}  // namespace awq::jinja
