// Python str semantics on UTF-8 strings: code-point indexing, str.isspace()
// whitespace, strip/split/splitlines, case mapping and repr() quoting.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace awq::jinja {

std::u32string utf8_decode(std::string_view s);
std::string utf8_encode(std::u32string_view s);
void utf8_append(std::string& out, char32_t c);
int64_t utf8_length(std::string_view s);  // len() in code points

bool is_py_space(char32_t c);  // str.isspace()
bool is_py_word_char(char32_t c);  // matches the regex \w: str.isalnum() or '_'

// str.strip / lstrip / rstrip; chars == nullopt strips whitespace.
std::string py_strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right);
// str.split / rsplit; sep == nullopt splits on whitespace runs.
std::vector<std::string> py_split(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit,
                                  bool from_right);
std::vector<std::string> py_splitlines(std::string_view s);
std::string py_replace(std::string_view s, std::string_view old, std::string_view repl, int64_t count);

std::string py_upper(std::string_view s);
std::string py_lower(std::string_view s);
std::string py_capitalize(std::string_view s);
std::string py_title(std::string_view s);  // str.title(): a word is a run of cased letters
bool py_islower(std::string_view s);
bool py_isupper(std::string_view s);

std::string py_repr_string(std::string_view s);

// Decodes a Jinja string literal body the way jinja2 does (Python "unicode-escape").
std::string decode_string_literal(std::string_view body);

}  // namespace awq::jinja
