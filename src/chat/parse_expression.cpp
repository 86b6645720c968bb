// Expression grammar, level by level as jinja2's parser has it (note: unary
// minus binds tighter than **, and `is` tests attach at the unary level).
#include <charconv>
#include <cstdlib>

#include "src/chat/builtins.h"
#include "src/chat/parser_internal.h"

namespace awq::jinja {

ExprPtr Parser::make(ExprKind kind, const Token& at) const {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->line = at.line;
  e->col = at.col;
  return e;
}

ExprPtr Parser::binary(std::string op, ExprPtr left, ExprPtr right, const Token& at) const {
  auto e = make(ExprKind::Binary, at);
  e->name = std::move(op);
  e->a = std::move(left);
  e->b = std::move(right);
  return e;
}

ExprPtr Parser::parse_tuple(bool with_condexpr, std::initializer_list<std::string_view> extra_end_names,
                            bool explicit_parentheses) {
  const Token& start = cur();
  std::vector<ExprPtr> items;
  bool is_tuple = false;
  auto at_end = [&] {
    if (cur().type == TokenType::VarEnd || cur().type == TokenType::BlockEnd || is_op(")")) return true;
    for (auto name : extra_end_names) {
      if (is_name(name)) return true;
    }
    return false;
  };
  while (true) {
    if (!items.empty()) expect_op(",");
    if (at_end()) break;
    items.push_back(parse_expression(with_condexpr));
    if (is_op(",")) {
      is_tuple = true;
    } else {
      break;
    }
  }
  if (!is_tuple) {
    if (!items.empty()) return std::move(items[0]);
    if (!explicit_parentheses) fail(cur(), "expected an expression, got " + describe(cur()));
  }
  auto t = make(ExprKind::Tuple, start);
  t->items = std::move(items);
  return t;
}

ExprPtr Parser::parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

ExprPtr Parser::parse_condexpr() {
  ExprPtr expr = parse_or();
  while (is_name("if")) {
    const Token& at = next();
    auto cond = make(ExprKind::CondExpr, at);
    cond->a = parse_or();
    cond->b = std::move(expr);
    if (skip_name("else")) cond->c = parse_condexpr();
    expr = std::move(cond);
  }
  return expr;
}

ExprPtr Parser::parse_or() {
  ExprPtr left = parse_and();
  while (is_name("or")) {
    const Token& at = next();
    auto e = make(ExprKind::Or, at);
    e->a = std::move(left);
    e->b = parse_and();
    left = std::move(e);
  }
  return left;
}

ExprPtr Parser::parse_and() {
  ExprPtr left = parse_not();
  while (is_name("and")) {
    const Token& at = next();
    auto e = make(ExprKind::And, at);
    e->a = std::move(left);
    e->b = parse_not();
    left = std::move(e);
  }
  return left;
}

ExprPtr Parser::parse_not() {
  if (is_name("not")) {
    const Token& at = next();
    auto e = make(ExprKind::Not, at);
    e->a = parse_not();
    return e;
  }
  return parse_compare();
}

ExprPtr Parser::parse_compare() {
  const Token& start = cur();
  ExprPtr left = parse_math1();
  ExprPtr cmp;
  while (true) {
    std::string op;
    if (cur().type == TokenType::Op &&
        (cur().value == "==" || cur().value == "!=" || cur().value == "<" || cur().value == "<=" ||
         cur().value == ">" || cur().value == ">=")) {
      op = next().value;
    } else if (is_name("in")) {
      next();
      op = "in";
    } else if (is_name("not") && peek().type == TokenType::Name && peek().value == "in") {
      next();
      next();
      op = "not in";
    } else {
      break;
    }
    if (!cmp) {
      cmp = make(ExprKind::Compare, start);
      cmp->a = std::move(left);
    }
    cmp->ops.push_back(op);
    cmp->items.push_back(parse_math1());
  }
  return cmp ? std::move(cmp) : std::move(left);
}

ExprPtr Parser::parse_math1() {
  ExprPtr left = parse_concat();
  while (is_op("+") || is_op("-")) {
    const Token& at = next();
    left = binary(at.value, std::move(left), parse_concat(), at);
  }
  return left;
}

ExprPtr Parser::parse_concat() {
  ExprPtr left = parse_math2();
  while (is_op("~")) {
    const Token& at = next();
    left = binary("~", std::move(left), parse_math2(), at);
  }
  return left;
}

ExprPtr Parser::parse_math2() {
  ExprPtr left = parse_pow();
  while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
    const Token& at = next();
    left = binary(at.value, std::move(left), parse_pow(), at);
  }
  return left;
}

ExprPtr Parser::parse_pow() {
  ExprPtr left = parse_unary(true);
  while (is_op("**")) {
    const Token& at = next();
    left = binary("**", std::move(left), parse_unary(true), at);
  }
  return left;
}

ExprPtr Parser::parse_unary(bool with_filter) {
  ExprPtr node;
  if (is_op("-") || is_op("+")) {
    const Token& at = next();
    node = make(at.value == "-" ? ExprKind::Neg : ExprKind::Pos, at);
    node->a = parse_unary(false);
  } else {
    node = parse_primary();
  }
  node = parse_postfix(std::move(node));
  if (with_filter) node = parse_filter_expr(std::move(node));
  return node;
}

static int64_t parse_int_literal(std::string text) {
  std::erase(text, '_');
  int base = 10;
  size_t skip = 0;
  if (text.size() > 1 && text[0] == '0' && std::isalpha(static_cast<unsigned char>(text[1]))) {
    char b = static_cast<char>(std::tolower(static_cast<unsigned char>(text[1])));
    base = b == 'x' ? 16 : b == 'o' ? 8 : 2;
    skip = 2;
  }
  int64_t v = 0;
  auto res = std::from_chars(text.data() + skip, text.data() + text.size(), v, base);
  if (res.ec != std::errc() || res.ptr != text.data() + text.size()) throw TemplateError("bad integer literal");
  return v;
}

ExprPtr Parser::parse_primary() {
  const Token& t = cur();
  switch (t.type) {
    case TokenType::Name: {
      next();
      static const std::pair<const char*, int> constants[] = {
          {"true", 1}, {"True", 1}, {"false", 0}, {"False", 0}, {"none", 2}, {"None", 2}};
      for (const auto& [word, kind] : constants) {
        if (t.value == word) {
          auto e = make(ExprKind::Literal, t);
          e->literal = kind == 2 ? Value(nullptr) : Value(kind == 1);
          return e;
        }
      }
      if (t.value == "joiner" || t.value == "cycler" || t.value == "lipsum") {
        fail(t, "unsupported global '" + t.value + "'");
      }
      if (macro_depth_ > 0 && (t.value == "varargs" || t.value == "kwargs")) {
        fail(t, "unsupported: macro '" + t.value + "'");
      }
      auto e = make(ExprKind::Name, t);
      e->name = t.value;
      return e;
    }
    case TokenType::String: {
      auto e = make(ExprKind::Literal, t);
      std::string s;
      while (cur().type == TokenType::String) s += next().value;  // adjacent literals concatenate
      e->literal = Value(std::move(s));
      return e;
    }
    case TokenType::Int: {
      next();
      auto e = make(ExprKind::Literal, t);
      try {
        e->literal = Value(parse_int_literal(t.value));
      } catch (const std::exception&) {
        fail(t, "unsupported integer literal '" + t.value + "'");
      }
      return e;
    }
    case TokenType::Float: {
      next();
      auto e = make(ExprKind::Literal, t);
      std::string text = t.value;
      std::erase(text, '_');
      e->literal = Value(std::strtod(text.c_str(), nullptr));
      return e;
    }
    case TokenType::Op:
      if (t.value == "(") {
        next();
        ExprPtr inner = parse_tuple(true, {}, true);
        expect_op(")");
        return inner;
      }
      if (t.value == "[") {
        next();
        auto e = make(ExprKind::List, t);
        while (!is_op("]")) {
          if (!e->items.empty()) expect_op(",");
          if (is_op("]")) break;
          e->items.push_back(parse_expression());
        }
        expect_op("]");
        return e;
      }
      if (t.value == "{") {
        next();
        auto e = make(ExprKind::Dict, t);
        while (!is_op("}")) {
          if (!e->items.empty()) expect_op(",");
          if (is_op("}")) break;
          e->items.push_back(parse_expression());
          expect_op(":");
          e->items.push_back(parse_expression());
        }
        expect_op("}");
        return e;
      }
      break;
    default:
      break;
  }
  fail(t, "unexpected " + describe(t));
}

ExprPtr Parser::parse_postfix(ExprPtr node) {
  while (true) {
    if (is_op(".") || is_op("[")) {
      node = parse_subscript(std::move(node));
    } else if (is_op("(")) {
      auto call = make(ExprKind::Call, cur());
      call->a = std::move(node);
      parse_call_args(*call);
      node = std::move(call);
    } else {
      return node;
    }
  }
}

ExprPtr Parser::parse_filter_expr(ExprPtr node) {
  while (true) {
    if (is_op("|")) {
      node = parse_filter(std::move(node));
    } else if (is_name("is")) {
      node = parse_test(std::move(node));
    } else if (is_op("(")) {
      auto call = make(ExprKind::Call, cur());
      call->a = std::move(node);
      parse_call_args(*call);
      node = std::move(call);
    } else {
      return node;
    }
  }
}

ExprPtr Parser::parse_subscript(ExprPtr node) {
  const Token& at = next();
  if (at.value == ".") {
    const Token& attr = next();
    if (attr.type == TokenType::Name) {
      auto e = make(ExprKind::Getattr, at);
      e->a = std::move(node);
      e->name = attr.value;
      return e;
    }
    if (attr.type != TokenType::Int) fail(attr, "expected name or number after '.'");
    auto e = make(ExprKind::Getitem, at);
    e->a = std::move(node);
    e->b = make(ExprKind::Literal, attr);
    e->b->literal = Value(parse_int_literal(attr.value));
    return e;
  }
  auto e = make(ExprKind::Getitem, at);
  e->a = std::move(node);
  e->b = parse_subscribed();
  if (is_op(",")) fail(cur(), "unsupported: tuple subscripts");
  expect_op("]");
  return e;
}

ExprPtr Parser::parse_subscribed() {
  const Token& at = cur();
  ExprPtr start;
  if (!is_op(":")) {
    start = parse_expression();
    if (!is_op(":")) return start;
  }
  next();  // the first ':'
  auto slice = make(ExprKind::Slice, at);
  slice->items.push_back(std::move(start));
  slice->items.push_back(is_op(":") || is_op("]") || is_op(",") ? nullptr : parse_expression());
  if (skip_op(":")) {
    slice->items.push_back(is_op("]") || is_op(",") ? nullptr : parse_expression());
  } else {
    slice->items.push_back(nullptr);
  }
  return slice;
}

void Parser::parse_call_args(Expr& call) {
  expect_op("(");
  bool first = true;
  while (!is_op(")")) {
    if (!first) expect_op(",");
    first = false;
    if (is_op(")")) break;
    if (is_op("*") || is_op("**")) fail(cur(), "unsupported: *args/**kwargs in calls");
    if (cur().type == TokenType::Name && peek().type == TokenType::Op && peek().value == "=") {
      std::string key = next().value;
      next();
      call.kwargs.emplace_back(std::move(key), parse_expression());
    } else {
      if (!call.kwargs.empty()) fail(cur(), "invalid syntax for function call expression");
      call.items.push_back(parse_expression());
    }
  }
  expect_op(")");
}

ExprPtr Parser::parse_filter(ExprPtr node) {
  while (skip_op("|")) {
    const Token& at = cur();
    std::string name = expect_name();
    while (skip_op(".")) name += "." + expect_name();
    auto e = make(ExprKind::Filter, at);
    e->name = name;
    e->filter = find_filter(name);
    if (!e->filter) fail(at, "unsupported filter '" + name + "'");
    e->a = std::move(node);
    if (is_op("(")) parse_call_args(*e);
    node = std::move(e);
  }
  return node;
}

ExprPtr Parser::parse_test(ExprPtr node) {
  const Token& is_token = next();
  bool negated = skip_name("not");
  const Token& at = cur();
  std::string name = expect_name();
  while (skip_op(".")) name += "." + expect_name();
  auto e = make(ExprKind::Test, at);
  e->name = name;
  e->test = find_test(name);
  if (!e->test) fail(at, "unsupported test '" + name + "'");
  e->a = std::move(node);
  if (is_op("(")) {
    parse_call_args(*e);
  } else if ((cur().type == TokenType::Name || cur().type == TokenType::String || cur().type == TokenType::Int ||
              cur().type == TokenType::Float || is_op("(") || is_op("[") || is_op("{")) &&
             !is_name("else") && !is_name("or") && !is_name("and")) {
    if (is_name("is")) fail(cur(), "you cannot chain multiple tests with is");
    e->items.push_back(parse_postfix(parse_primary()));
  }
  if (!negated) return e;
  auto n = make(ExprKind::Not, is_token);
  n->a = std::move(e);
  return n;
}

}  // namespace awq::jinja
