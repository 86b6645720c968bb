#include "src/chat/lexer.h"

#include <algorithm>
#include <cctype>

#include "src/chat/py_text.h"
#include "src/common/error.h"

namespace awq::jinja {

void SourceInfo::locate(size_t offset, int& line, int& col) const {
  auto it = std::upper_bound(line_starts.begin(), line_starts.end(), offset);
  size_t index = static_cast<size_t>(it - line_starts.begin()) - 1;
  line = static_cast<int>(index) + 1;
  col = static_cast<int>(offset - line_starts[index]) + 1;
}

SourceInfo prepare_source(std::string_view raw, std::string name) {
  SourceInfo s;
  s.name = std::move(name);
  s.text.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {  // jinja2 normalises \r\n and \r to \n before lexing
    if (raw[i] == '\r') {
      s.text += '\n';
      if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
    } else {
      s.text += raw[i];
    }
  }
  if (!s.text.empty() && s.text.back() == '\n') s.text.pop_back();
  s.line_starts.push_back(0);
  for (size_t i = 0; i < s.text.size(); ++i) {
    if (s.text[i] == '\n') s.line_starts.push_back(i + 1);
  }
  return s;
}

void fail_at(const SourceInfo& source, int line, int col, const std::string& what) {
  input_error("{}:{}:{}: {}", source.name, line, col, what);
}

namespace {

class Lexer {
 public:
  explicit Lexer(const SourceInfo& source) : src_(source), s_(source.text) {}

  std::vector<Token> run() {
    while (pos_ < s_.size()) {
      size_t open = find_opener(pos_);
      if (open == std::string_view::npos) {
        emit(TokenType::Text, std::string(s_.substr(pos_)), pos_);
        break;
      }
      char kind = s_[open + 1];
      char sign = open + 2 < s_.size() && (s_[open + 2] == '-' || s_[open + 2] == '+') ? s_[open + 2] : 0;
      std::string text(s_.substr(pos_, open - pos_));
      strip_text_before_tag(text, kind, sign);
      if (!text.empty()) emit(TokenType::Text, std::move(text), pos_);
      pos_ = open + 2 + (sign ? 1 : 0);
      if (kind == '#') {
        skip_comment(open);
      } else {
        lex_tag(open, kind == '%');
      }
    }
    int line = 0, col = 0;
    src_.locate(s_.size(), line, col);
    tokens_.push_back(Token{TokenType::Eof, "", line, col});
    return std::move(tokens_);
  }

 private:
  size_t find_opener(size_t from) const {
    for (size_t i = s_.find('{', from); i != std::string_view::npos; i = s_.find('{', i + 1)) {
      if (i + 1 < s_.size() && (s_[i + 1] == '{' || s_[i + 1] == '%' || s_[i + 1] == '#')) return i;
    }
    return std::string_view::npos;
  }

  // "{%-" strips all whitespace before the tag; otherwise lstrip_blocks removes the
  // indentation of a block or comment tag that starts its line.
  void strip_text_before_tag(std::string& text, char kind, char sign) const {
    if (sign == '-') {
      text = py_strip(text, std::nullopt, false, true);
      return;
    }
    if (sign == '+' || kind == '{') return;
    size_t line_begin = text.rfind('\n');
    line_begin = line_begin == std::string::npos ? 0 : line_begin + 1;
    if (line_begin == 0 && !line_starting_) return;
    std::string_view tail = std::string_view(text).substr(line_begin);
    if (tail.empty()) return;
    for (char32_t c : utf8_decode(tail)) {
      if (!is_py_space(c)) return;
    }
    text.resize(line_begin);
  }

  void skip_comment(size_t open) {
    for (size_t i = pos_; i + 1 < s_.size(); ++i) {
      if (s_[i] == '-' && s_.substr(i + 1, 2) == "#}") {
        pos_ = i + 3;
        skip_whitespace_after_strip();
        return;
      }
      if (s_[i] == '+' && s_.substr(i + 1, 2) == "#}") {
        pos_ = i + 3;
        line_starting_ = false;
        return;
      }
      if (s_.substr(i, 2) == "#}") {
        pos_ = i + 2;
        finish_plain_block_end();
        return;
      }
    }
    fail(open, "missing end of comment tag");
  }

  void skip_whitespace_after_strip() {
    size_t end = pos_;
    while (end < s_.size()) {
      size_t len = 1;
      char32_t c = decode_at(end, len);
      if (!is_py_space(c)) break;
      end += len;
    }
    line_starting_ = end > pos_ ? s_[end - 1] == '\n' : false;
    pos_ = end;
  }

  void finish_plain_block_end() {  // trim_blocks: the first newline after a block tag goes
    if (pos_ < s_.size() && s_[pos_] == '\n') {
      ++pos_;
      line_starting_ = true;
    } else {
      line_starting_ = false;
    }
  }

  char32_t decode_at(size_t at, size_t& len) const {
    unsigned char c = static_cast<unsigned char>(s_[at]);
    len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    len = std::min(len, s_.size() - at);
    std::u32string u = utf8_decode(s_.substr(at, len));
    return u.empty() ? 0 : u[0];
  }

  bool at_tag_end(bool block) {
    std::string_view rest = s_.substr(pos_);
    std::string_view close = block ? "%}" : "}}";
    if (rest.size() >= 3 && rest[0] == '-' && rest.substr(1, 2) == close) {
      pos_ += 3;
      skip_whitespace_after_strip();
      return true;
    }
    if (block && rest.size() >= 3 && rest[0] == '+' && rest.substr(1, 2) == close) {
      pos_ += 3;
      line_starting_ = false;
      return true;
    }
    if (rest.substr(0, 2) == close) {
      pos_ += 2;
      if (block) {
        finish_plain_block_end();
      } else {
        line_starting_ = false;
      }
      return true;
    }
    return false;
  }

  void lex_tag(size_t open, bool block) {
    emit(block ? TokenType::BlockBegin : TokenType::VarBegin, "", open);
    if (block) reject_raw_block(open);
    std::string balance;
    while (true) {
      skip_tag_whitespace();
      if (pos_ >= s_.size()) fail(open, block ? "unexpected end of template, missing '%}'" : "unexpected end of template, missing '}}'");
      size_t start = pos_;
      if (balance.empty() && at_tag_end(block)) {
        emit(block ? TokenType::BlockEnd : TokenType::VarEnd, "", start);
        return;
      }
      char c = s_[pos_];
      if (std::isdigit(static_cast<unsigned char>(c))) {
        lex_number();
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) ++pos_;
        emit(TokenType::Name, std::string(s_.substr(start, pos_ - start)), start);
      } else if (c == '\'' || c == '"') {
        lex_string(c);
      } else {
        lex_operator(balance);
      }
    }
  }

  void reject_raw_block(size_t open) {
    size_t p = pos_;
    while (p < s_.size() && std::isspace(static_cast<unsigned char>(s_[p]))) ++p;
    if (s_.substr(p, 3) == "raw" && (p + 3 >= s_.size() || !std::isalnum(static_cast<unsigned char>(s_[p + 3])))) {
      fail(open, "unsupported tag 'raw'");
    }
  }

  void skip_tag_whitespace() {
    while (pos_ < s_.size()) {
      size_t len = 1;
      if (!is_py_space(decode_at(pos_, len))) break;
      pos_ += len;
    }
  }

  void lex_number() {
    size_t start = pos_;
    auto digits = [&] {
      while (pos_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[pos_])) ||
                                  (s_[pos_] == '_' && pos_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_ + 1]))))) {
        ++pos_;
      }
    };
    if (s_[pos_] == '0' && pos_ + 1 < s_.size() && std::strchr("xXoObB", s_[pos_ + 1])) {
      pos_ += 2;
      while (pos_ < s_.size() && (std::isxdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) ++pos_;
      emit(TokenType::Int, std::string(s_.substr(start, pos_ - start)), start);
      return;
    }
    digits();
    bool is_float = false;
    bool after_dot = start > 0 && s_[start - 1] == '.';  // "a.0.1" is two subscripts, not a float
    if (!after_dot && pos_ + 1 < s_.size() && s_[pos_] == '.' && std::isdigit(static_cast<unsigned char>(s_[pos_ + 1]))) {
      ++pos_;
      digits();
      is_float = true;
    }
    if (!after_dot && pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      size_t save = pos_++;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
        digits();
        is_float = true;
      } else {
        pos_ = save;
      }
    }
    emit(is_float ? TokenType::Float : TokenType::Int, std::string(s_.substr(start, pos_ - start)), start);
  }

  void lex_string(char quote) {
    size_t start = pos_++;
    while (pos_ < s_.size() && s_[pos_] != quote) pos_ += s_[pos_] == '\\' ? 2 : 1;
    if (pos_ >= s_.size()) fail(start, "unterminated string literal");
    std::string_view body = s_.substr(start + 1, pos_ - start - 1);
    ++pos_;
    try {
      emit(TokenType::String, decode_string_literal(body), start);
    } catch (const std::exception& e) {
      fail(start, e.what());
    }
  }

  void lex_operator(std::string& balance) {
    static const char* const two_char[] = {"//", "**", "==", "!=", ">=", "<="};
    size_t start = pos_;
    for (const char* op : two_char) {
      if (s_.substr(pos_, 2) == op) {
        pos_ += 2;
        emit(TokenType::Op, op, start);
        return;
      }
    }
    char c = s_[pos_];
    if (!std::strchr("+-/*%~[](){}><=.:|,;", c)) fail(start, fmt::format("unexpected character '{}'", c));
    ++pos_;
    if (c == '(' || c == '[' || c == '{') {
      balance += c == '(' ? ')' : c == '[' ? ']' : '}';
    } else if (c == ')' || c == ']' || c == '}') {
      if (balance.empty()) fail(start, fmt::format("unexpected '{}'", c));
      if (balance.back() != c) fail(start, fmt::format("unexpected '{}', expected '{}'", c, balance.back()));
      balance.pop_back();
    }
    emit(TokenType::Op, std::string(1, c), start);
  }

  void emit(TokenType type, std::string value, size_t offset) {
    Token t{type, std::move(value), 0, 0};
    src_.locate(offset, t.line, t.col);
    tokens_.push_back(std::move(t));
  }

  [[noreturn]] void fail(size_t offset, const std::string& what) const {
    int line = 0, col = 0;
    src_.locate(offset, line, col);
    fail_at(src_, line, col, what);
  }

  const SourceInfo& src_;
  std::string_view s_;
  size_t pos_ = 0;
  bool line_starting_ = true;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(const SourceInfo& source) { return Lexer(source).run(); }

}  // namespace awq::jinja
