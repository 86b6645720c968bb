// The parser's state, shared by the expression and statement halves.
#pragma once
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "src/chat/ast.h"
#include "src/chat/lexer.h"

namespace awq::jinja {

class Parser {
 public:
  Parser(const SourceInfo& source, const std::vector<Token>& tokens) : src_(source), tokens_(tokens) {}

  Body parse_all();

 private:
  // Token stream.
  const Token& cur() const { return tokens_[pos_]; }
  const Token& peek(size_t ahead = 1) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool is_op(std::string_view op) const { return cur().type == TokenType::Op && cur().value == op; }
  bool is_name(std::string_view name) const { return cur().type == TokenType::Name && cur().value == name; }
  bool skip_op(std::string_view op);
  bool skip_name(std::string_view name);
  void expect_op(std::string_view op);
  std::string expect_name();
  void expect_block_end();
  [[noreturn]] void fail(const Token& at, const std::string& what) const;
  static std::string describe(const Token& t);

  // Statements (parse_statement.cpp).
  Body parse_body(std::initializer_list<std::string_view> end_tags, std::string* which_end);
  StmtPtr parse_statement();
  StmtPtr parse_if(const Token& at);
  StmtPtr parse_for(const Token& at);
  StmtPtr parse_set(const Token& at);
  StmtPtr parse_macro(const Token& at);
  StmtPtr parse_call_block(const Token& at);
  StmtPtr parse_filter_block(const Token& at);
  std::vector<std::string> parse_assign_names(std::string_view until);
  std::vector<MacroParam> parse_params();
  ExprPtr parse_filter_chain(ExprPtr input);

  // Expressions (parse_expression.cpp), one function per precedence level as in jinja2.
  ExprPtr parse_tuple(bool with_condexpr, std::initializer_list<std::string_view> extra_end_names,
                      bool explicit_parentheses);
  ExprPtr parse_expression(bool with_condexpr = true);
  ExprPtr parse_condexpr();
  ExprPtr parse_or();
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_compare();
  ExprPtr parse_math1();
  ExprPtr parse_concat();
  ExprPtr parse_math2();
  ExprPtr parse_pow();
  ExprPtr parse_unary(bool with_filter);
  ExprPtr parse_primary();
  ExprPtr parse_postfix(ExprPtr node);
  ExprPtr parse_filter_expr(ExprPtr node);
  ExprPtr parse_subscript(ExprPtr node);
  ExprPtr parse_subscribed();
  ExprPtr parse_filter(ExprPtr node);
  ExprPtr parse_test(ExprPtr node);
  void parse_call_args(Expr& call);
  ExprPtr make(ExprKind kind, const Token& at) const;
  ExprPtr binary(std::string op, ExprPtr left, ExprPtr right, const Token& at) const;

  const SourceInfo& src_;
  const std::vector<Token>& tokens_;
  size_t pos_ = 0;
  int loop_depth_ = 0;
  int macro_depth_ = 0;
};

}  // namespace awq::jinja
