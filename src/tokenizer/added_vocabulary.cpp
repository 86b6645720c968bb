#include "src/tokenizer/added_vocabulary.h"

#include <utf8proc.h>

#include <algorithm>

#include "src/tokenizer/normalizer.h"
#include "src/tokenizer/unicode_props.h"
#include "src/tokenizer/utf8.h"

namespace awq {
namespace {

bool is_word_char(char32_t cp) {
  if (cp == '_') return true;
  if (cp == utf8::kInvalid) return false;
  const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
         (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

char32_t last_char(std::string_view s) {
  size_t start = s.size() - 1;
  while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  size_t len = 0;
  return utf8::decode(s, start, len);
}

// Start of the whitespace run that ends `s`.
size_t trailing_space_start(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    size_t len = 0;
    if (!unicode::is_whitespace(utf8::decode(s, start, len))) break;
    end = start;
  }
  return end;
}

size_t leading_space_length(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    size_t len = 0;
    if (!unicode::is_whitespace(utf8::decode(s, pos, len))) break;
    pos += len;
  }
  return pos;
}

}  // namespace

void AddedVocabulary::Matcher::insert(std::string_view pattern, int token_index) {
  if (pattern.empty()) return;
  first_byte[static_cast<unsigned char>(pattern[0])] = true;
  int node = 0;
  for (char ch : pattern) {
    const auto c = static_cast<unsigned char>(ch);
    auto& kids = nodes[node].children;
    const auto it = std::find_if(kids.begin(), kids.end(), [c](const auto& k) { return k.first == c; });
    if (it != kids.end()) {
      node = it->second;
    } else {
      const int child = static_cast<int>(nodes.size());
      kids.emplace_back(c, child);  // `kids` is not used after the push below
      nodes.emplace_back();
      node = child;
    }
  }
  nodes[node].token = token_index;
}

size_t AddedVocabulary::Matcher::longest_at(std::string_view text, size_t pos, int& token_index) const {
  size_t best = 0;
  int node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const auto& kids = nodes[node].children;
    const auto it = std::find_if(kids.begin(), kids.end(), [c](const auto& k) { return k.first == c; });
    if (it == kids.end()) break;
    node = it->second;
    if (nodes[node].token >= 0) {
      best = i + 1 - pos;
      token_index = nodes[node].token;
    }
  }
  return best;
}

void AddedVocabulary::add(const AddedToken& token) {
  if (const auto it = by_content_.find(token.content); it != by_content_.end()) {
    tokens_[it->second] = token;
  } else {
    by_content_[token.content] = tokens_.size();
    tokens_.push_back(token);
  }
}

void AddedVocabulary::build(const Normalizer* normalizer) {
  raw_ = Matcher{};
  normalized_ = Matcher{};
  by_id_.clear();
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const auto& t = tokens_[i];
    by_id_.emplace_back(t.id, i);
    if (!t.normalized) {
      raw_.insert(t.content, static_cast<int>(i));
    } else {
      std::string pattern = t.content;
      if (normalizer) normalizer->normalize(pattern);
      normalized_.insert(pattern, static_cast<int>(i));
    }
  }
  std::sort(by_id_.begin(), by_id_.end());
}

void AddedVocabulary::split(std::string_view text, bool normalized_pass, std::vector<Segment>& out) const {
  out.clear();
  const Matcher& m = normalized_pass ? normalized_ : raw_;
  size_t start_offset = 0;
  for (size_t pos = 0; pos < text.size();) {
    int index = -1;
    const size_t len = m.first_byte[static_cast<unsigned char>(text[pos])] ? m.longest_at(text, pos, index) : 0;
    if (len == 0) {
      ++pos;
      continue;
    }
    const AddedToken& t = tokens_[index];
    size_t start = pos, stop = pos + len;
    pos = stop;
    if (encode_special_tokens && t.special) continue;
    if (t.single_word) {
      const bool space_before = start == 0 || !is_word_char(last_char(text.substr(0, start)));
      const bool space_after = stop == text.size() || !is_word_char([&] {
        size_t l = 0;
        return utf8::decode(text, stop, l);
      }());
      if (!space_before || !space_after) continue;
    }
    if (t.lstrip) start = std::max(trailing_space_start(text.substr(0, start)), start_offset);
    if (t.rstrip) stop += leading_space_length(text.substr(stop));
    if (start_offset < start) out.push_back({start_offset, start, -1});
    out.push_back({start, stop, t.id});
    start_offset = stop;
    pos = std::max(pos, stop);
  }
  if (start_offset < text.size()) out.push_back({start_offset, text.size(), -1});
}

const AddedToken* AddedVocabulary::find_id(int id) const {
  const auto it = std::lower_bound(by_id_.begin(), by_id_.end(), std::make_pair(id, size_t{0}));
  if (it == by_id_.end() || it->first != id) return nullptr;
  return &tokens_[it->second];
}

const AddedToken* AddedVocabulary::find_content(std::string_view content) const {
  const auto it = by_content_.find(content);
  return it == by_content_.end() ? nullptr : &tokens_[it->second];
}

int AddedVocabulary::max_id() const { return by_id_.empty() ? -1 : by_id_.back().first; }

}  // namespace awq
