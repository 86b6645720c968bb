// Statement grammar: text, {{ }} output and the supported {% %} tags.
#include "src/chat/builtins.h"
#include "src/chat/parser.h"
#include "src/chat/parser_internal.h"

namespace awq::jinja {

bool Parser::skip_op(std::string_view op) {
  if (!is_op(op)) return false;
  next();
  return true;
}

bool Parser::skip_name(std::string_view name) {
  if (!is_name(name)) return false;
  next();
  return true;
}

void Parser::expect_op(std::string_view op) {
  if (!skip_op(op)) fail(cur(), "expected '" + std::string(op) + "', got " + describe(cur()));
}

std::string Parser::expect_name() {
  if (cur().type != TokenType::Name) fail(cur(), "expected a name, got " + describe(cur()));
  return next().value;
}

void Parser::expect_block_end() {
  if (cur().type != TokenType::BlockEnd) fail(cur(), "expected end of statement block, got " + describe(cur()));
  next();
}

std::string Parser::describe(const Token& t) {
  switch (t.type) {
    case TokenType::Eof: return "end of template";
    case TokenType::BlockEnd: return "end of statement block";
    case TokenType::VarEnd: return "end of print statement";
    case TokenType::String: return "string";
    case TokenType::Text: return "template text";
    default: return "'" + t.value + "'";
  }
}

void Parser::fail(const Token& at, const std::string& what) const { fail_at(src_, at.line, at.col, what); }

Body Parser::parse_all() {
  Body body = parse_body({}, nullptr);
  if (cur().type != TokenType::Eof) fail(cur(), "unexpected " + describe(cur()));
  return body;
}

static std::string join_tags(std::initializer_list<std::string_view> tags) {
  std::string out;
  for (auto t : tags) out += (out.empty() ? "'" : ", '") + std::string(t) + "'";
  return out;
}

// Parses until "{% <one of end_tags>", leaving the stream on that tag's name.
Body Parser::parse_body(std::initializer_list<std::string_view> end_tags, std::string* which_end) {
  Body body;
  while (true) {
    const Token& t = cur();
    if (t.type == TokenType::Eof) {
      if (end_tags.size() == 0) return body;
      fail(t, "unexpected end of template, expected one of " + join_tags(end_tags));
    }
    if (t.type == TokenType::Text) {
      auto s = std::make_unique<Stmt>();
      s->kind = StmtKind::Text;
      s->text = next().value;
      body.push_back(std::move(s));
    } else if (t.type == TokenType::VarBegin) {
      next();
      auto s = std::make_unique<Stmt>();
      s->kind = StmtKind::Output;
      s->line = t.line;
      s->col = t.col;
      s->expr = parse_tuple(true, {}, false);
      if (cur().type != TokenType::VarEnd) fail(cur(), "expected end of print statement, got " + describe(cur()));
      next();
      body.push_back(std::move(s));
    } else if (t.type == TokenType::BlockBegin) {
      const Token& tag = peek();
      for (auto end : end_tags) {
        if (tag.type == TokenType::Name && tag.value == end) {
          next();
          *which_end = next().value;
          return body;
        }
      }
      body.push_back(parse_statement());
    } else {
      fail(t, "unexpected " + describe(t));
    }
  }
}

StmtPtr Parser::parse_statement() {
  next();  // {%
  const Token& tag = cur();
  if (tag.type != TokenType::Name) fail(tag, "tag name expected");
  next();
  const std::string& name = tag.value;
  if (name == "if") return parse_if(tag);
  if (name == "for") return parse_for(tag);
  if (name == "set") return parse_set(tag);
  if (name == "macro") return parse_macro(tag);
  if (name == "call") return parse_call_block(tag);
  if (name == "filter") return parse_filter_block(tag);
  if (name == "break" || name == "continue") {
    if (loop_depth_ == 0) fail(tag, "'" + name + "' outside of a loop");
    expect_block_end();
    auto s = std::make_unique<Stmt>();
    s->kind = name == "break" ? StmtKind::Break : StmtKind::Continue;
    return s;
  }
  if (name == "generation") {  // transformers' assistant-mask tag: renders its body unchanged
    expect_block_end();
    auto s = std::make_unique<Stmt>();
    s->kind = StmtKind::Scope;
    std::string end;
    s->body = parse_body({"endgeneration"}, &end);
    expect_block_end();
    return s;
  }
  static const char* const unsupported[] = {"block", "extends", "include", "import", "from", "with",
                                            "autoescape", "raw", "trans", "do"};
  for (const char* u : unsupported) {
    if (name == u) fail(tag, "unsupported tag '" + name + "'");
  }
  fail(tag, "unexpected tag '" + name + "'");
}

StmtPtr Parser::parse_if(const Token& at) {
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::If;
  s->line = at.line;
  s->col = at.col;
  s->expr = parse_tuple(false, {}, false);
  expect_block_end();
  std::string end;
  s->body = parse_body({"elif", "else", "endif"}, &end);
  if (end == "elif") {
    s->else_body.push_back(parse_if(tokens_[pos_ - 1]));
    return s;  // the nested if consumed the endif
  }
  if (end == "else") {
    expect_block_end();
    s->else_body = parse_body({"endif"}, &end);
  }
  expect_block_end();
  return s;
}

std::vector<std::string> Parser::parse_assign_names(std::string_view until) {
  std::vector<std::string> names;
  bool parens = skip_op("(");
  do {
    if (parens && is_op(")")) break;
    names.push_back(expect_name());
  } while (skip_op(","));
  if (parens) expect_op(")");
  if (!until.empty() && !is_name(until)) fail(cur(), "expected '" + std::string(until) + "', got " + describe(cur()));
  return names;
}

StmtPtr Parser::parse_for(const Token& at) {
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::For;
  s->line = at.line;
  s->col = at.col;
  s->targets = parse_assign_names("in");
  next();  // in
  s->expr = parse_tuple(false, {"recursive"}, false);
  if (skip_name("if")) s->loop_filter = parse_expression();
  if (is_name("recursive")) fail(cur(), "unsupported: recursive loops");
  expect_block_end();
  ++loop_depth_;
  std::string end;
  s->body = parse_body({"endfor", "else"}, &end);
  --loop_depth_;
  if (end == "else") {
    expect_block_end();
    s->else_body = parse_body({"endfor"}, &end);
  }
  expect_block_end();
  return s;
}

ExprPtr Parser::parse_filter_chain(ExprPtr input) {
  if (!is_op("|")) return input;
  return parse_filter(std::move(input));
}

StmtPtr Parser::parse_set(const Token& at) {
  auto s = std::make_unique<Stmt>();
  s->line = at.line;
  s->col = at.col;
  if (cur().type == TokenType::Name && peek().type == TokenType::Op && peek().value == ".") {
    s->kind = StmtKind::NamespaceSet;
    s->targets.push_back(next().value);
    next();
    s->text = expect_name();
    expect_op("=");
    s->expr = parse_tuple(true, {}, false);
    expect_block_end();
    return s;
  }
  s->targets = parse_assign_names("");
  if (skip_op("=")) {
    s->kind = StmtKind::Set;
    s->expr = parse_tuple(true, {}, false);
    expect_block_end();
    return s;
  }
  if (s->targets.size() != 1) fail(cur(), "expected '=' after assignment targets");
  s->kind = StmtKind::SetBlock;
  s->expr = parse_filter_chain(make(ExprKind::FilterInput, at));
  expect_block_end();
  std::string end;
  s->body = parse_body({"endset"}, &end);
  expect_block_end();
  return s;
}

std::vector<MacroParam> Parser::parse_params() {
  std::vector<MacroParam> params;
  expect_op("(");
  while (!is_op(")")) {
    if (!params.empty()) expect_op(",");
    if (is_op(")")) break;
    MacroParam p;
    p.name = expect_name();
    if (skip_op("=")) p.default_value = parse_expression();
    params.push_back(std::move(p));
  }
  expect_op(")");
  return params;
}

StmtPtr Parser::parse_macro(const Token& at) {
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::Macro;
  s->line = at.line;
  s->col = at.col;
  s->text = expect_name();
  s->params = parse_params();
  expect_block_end();
  ++macro_depth_;
  int saved_loop_depth = loop_depth_;
  loop_depth_ = 0;
  std::string end;
  s->body = parse_body({"endmacro"}, &end);
  loop_depth_ = saved_loop_depth;
  --macro_depth_;
  expect_block_end();
  return s;
}

StmtPtr Parser::parse_call_block(const Token& at) {
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::CallBlock;
  s->line = at.line;
  s->col = at.col;
  if (is_op("(")) s->params = parse_params();
  const Token& call_at = cur();
  s->expr = parse_expression();
  if (s->expr->kind != ExprKind::Call) fail(call_at, "expected a call expression after 'call'");
  expect_block_end();
  std::string end;
  ++macro_depth_;
  s->body = parse_body({"endcall"}, &end);
  --macro_depth_;
  expect_block_end();
  return s;
}

StmtPtr Parser::parse_filter_block(const Token& at) {
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::FilterBlock;
  s->line = at.line;
  s->col = at.col;
  // `{% filter upper|trim %}`: the first filter has no leading pipe.
  const Token& name_at = cur();
  std::string name = expect_name();
  auto first = make(ExprKind::Filter, name_at);
  first->name = name;
  first->filter = find_filter(name);
  if (!first->filter) fail(name_at, "unsupported filter '" + name + "'");
  first->a = make(ExprKind::FilterInput, at);
  if (is_op("(")) parse_call_args(*first);
  s->expr = parse_filter_chain(std::move(first));
  expect_block_end();
  std::string end;
  s->body = parse_body({"endfilter"}, &end);
  expect_block_end();
  return s;
}

Body parse_template(const SourceInfo& source, const std::vector<Token>& tokens) {
  return Parser(source, tokens).parse_all();
}

}  // namespace awq::jinja
