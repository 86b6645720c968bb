// Splits a template into text and tag tokens the way jinja2's lexer does with
// trim_blocks=True, lstrip_blocks=True and keep_trailing_newline=False.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace awq::jinja {

enum class TokenType { Text, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, Eof };

struct Token {
  TokenType type;
  std::string value;  // text, name, decoded string literal, number spelling or operator
  int line = 0;
  int col = 0;
};

// Where a template error points: "<source_name>:<line>:<col>".
struct SourceInfo {
  std::string name;
  std::string text;  // newlines normalised, one trailing newline dropped
  std::vector<size_t> line_starts;
  void locate(size_t offset, int& line, int& col) const;
};

SourceInfo prepare_source(std::string_view raw, std::string name);

// Throws Error(Input) "<name>:<line>:<col>: <what>" on lexical errors.
std::vector<Token> tokenize(const SourceInfo& source);

[[noreturn]] void fail_at(const SourceInfo& source, int line, int col, const std::string& what);

}  // namespace awq::jinja
