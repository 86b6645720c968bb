#include "src/tokenizer/pre_tokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "src/common/error.h"
#include "src/tokenizer/byte_level.h"
#include "src/tokenizer/json_util.h"
#include "src/tokenizer/pattern.h"
#include "src/tokenizer/regex.h"
#include "src/tokenizer/unicode_props.h"
#include "src/tokenizer/utf8.h"

namespace awq {
namespace {

using Ranges = std::vector<std::pair<size_t, size_t>>;

constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Each code point for which `pred` holds is one match (HF's char-predicate patterns).
template <typename Pred>
void char_matches(std::string_view text, Pred pred, Ranges& out) {
  out.clear();
  for (size_t pos = 0; pos < text.size();) {
    size_t len = 0;
    const char32_t cp = utf8::decode(text, pos, len);
    if (cp != utf8::kInvalid && pred(cp)) out.emplace_back(pos, pos + len);
    pos += len;
  }
}

// Base for pre-tokenizers that split each piece at matches of something.
class MatchSplitter : public PreTokenizer {
 public:
  MatchSplitter(SplitBehavior behavior, bool invert) : behavior_(behavior), invert_(invert) {}
  void apply(std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    out.reserve(pieces.size() * 4);
    Ranges matches;
    for (auto& p : pieces) {
      find(p.text, matches);
      split_at_matches(std::move(p), matches, behavior_, invert_, out);
    }
    pieces = std::move(out);
  }

 protected:
  virtual void find(std::string_view text, Ranges& out) const = 0;

 private:
  SplitBehavior behavior_;
  bool invert_;
};

class SplitPreTokenizer : public MatchSplitter {
 public:
  SplitPreTokenizer(Pattern pattern, SplitBehavior behavior, bool invert)
      : MatchSplitter(behavior, invert), pattern_(std::move(pattern)) {}

 protected:
  void find(std::string_view text, Ranges& out) const override { pattern_.find_all(text, out); }

 private:
  Pattern pattern_;
};

class DigitsPreTokenizer : public MatchSplitter {
 public:
  explicit DigitsPreTokenizer(bool individual)
      : MatchSplitter(individual ? SplitBehavior::Isolated : SplitBehavior::Contiguous, false) {}

 protected:
  void find(std::string_view text, Ranges& out) const override { char_matches(text, unicode::is_numeric, out); }
};

class PunctuationPreTokenizer : public MatchSplitter {
 public:
  explicit PunctuationPreTokenizer(SplitBehavior behavior) : MatchSplitter(behavior, false) {}

 protected:
  void find(std::string_view text, Ranges& out) const override { char_matches(text, unicode::is_punctuation, out); }
};

class WhitespaceSplitPreTokenizer : public MatchSplitter {
 public:
  WhitespaceSplitPreTokenizer() : MatchSplitter(SplitBehavior::Removed, false) {}

 protected:
  void find(std::string_view text, Ranges& out) const override { char_matches(text, unicode::is_whitespace, out); }
};

// Keeps runs of word characters and runs of other non-space characters.
class WhitespacePreTokenizer : public MatchSplitter {
 public:
  WhitespacePreTokenizer() : MatchSplitter(SplitBehavior::Removed, true), regex_(R"(\w+|[^\w\s]+)", "Whitespace") {}

 protected:
  void find(std::string_view text, Ranges& out) const override { regex_.find_all(text, out); }

 private:
  Regex regex_;
};

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex) : add_prefix_space_(add_prefix_space) {
    if (use_regex) regex_ = std::make_unique<Regex>(kGpt2Pattern, "ByteLevel");
  }
  void apply(std::vector<Piece>& pieces) const override {
    std::vector<Piece> split;
    Ranges matches;
    for (auto& p : pieces) {
      if (add_prefix_space_ && (p.text.empty() || p.text[0] != ' ')) p.text.insert(0, 1, ' ');
      if (!regex_) {
        split.push_back(std::move(p));
        continue;
      }
      regex_->find_all(p.text, matches);
      split_at_matches(std::move(p), matches, SplitBehavior::Isolated, false, split);
    }
    for (auto& p : split) {
      std::string mapped;
      mapped.reserve(p.text.size() + p.text.size() / 2);
      byte_level::encode(p.text, mapped);
      p.text = std::move(mapped);
    }
    pieces = std::move(split);
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

enum class PrependScheme { Always, First, Never };

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}
  void apply(std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    Ranges matches;
    for (auto& p : pieces) {
      std::string text;
      for (char c : p.text) {
        if (c == ' ') text += replacement_; else text += c;
      }
      const bool starts = text.compare(0, replacement_.size(), replacement_) == 0;
      if (!starts && (scheme_ == PrependScheme::Always || (scheme_ == PrependScheme::First && p.at_origin))) {
        text.insert(0, replacement_);
      }
      p.text = std::move(text);
      if (!split_) {
        out.push_back(std::move(p));
        continue;
      }
      matches.clear();
      for (size_t pos = p.text.find(replacement_); pos != std::string::npos;
           pos = p.text.find(replacement_, pos + replacement_.size())) {
        matches.emplace_back(pos, pos + replacement_.size());
      }
      split_at_matches(std::move(p), matches, SplitBehavior::MergedWithNext, false, out);
    }
    pieces = std::move(out);
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> parts) : parts_(std::move(parts)) {}
  void apply(std::vector<Piece>& pieces) const override {
    for (const auto& p : parts_) p->apply(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

SplitBehavior parse_behavior(const std::string& name, std::string_view context) {
  if (name == "Removed") return SplitBehavior::Removed;
  if (name == "Isolated") return SplitBehavior::Isolated;
  if (name == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (name == "Contiguous") return SplitBehavior::Contiguous;
  input_error("{}: unknown split behavior '{}'", context, name);
}

std::unique_ptr<PreTokenizer> make_metaspace(const nlohmann::json& j, const std::string& where) {
  const std::string replacement = json_optional_string(j, "replacement").value_or("\xE2\x96\x81");
  size_t first_len = 0;
  utf8::decode(replacement, 0, first_len);
  if (replacement.empty() || first_len != replacement.size()) {
    input_error("{}: replacement must be one character", where);
  }
  PrependScheme scheme = PrependScheme::Always;
  if (const auto s = json_optional_string(j, "prepend_scheme")) {
    if (*s == "always") scheme = PrependScheme::Always;
    else if (*s == "first") scheme = PrependScheme::First;
    else if (*s == "never") scheme = PrependScheme::Never;
    else input_error("{}: unknown prepend_scheme '{}'", where, *s);
  } else if (!json_bool(j, "add_prefix_space", true, where)) {
    input_error("{}: add_prefix_space=false needs prepend_scheme \"never\"", where);
  }
  return std::make_unique<MetaspacePreTokenizer>(replacement, scheme, json_bool(j, "split", true, where));
}

}  // namespace

void split_at_matches(Piece&& piece, const std::vector<std::pair<size_t, size_t>>& matches,
                      SplitBehavior behavior, bool invert, std::vector<Piece>& out) {
  // (range, is_match) covering the whole text, as HF's find_matches yields.
  struct Span {
    size_t begin, end;
    bool is_match;
  };
  std::vector<Span> spans;
  const size_t n = piece.text.size();
  if (n == 0) return;
  size_t prev = 0;
  for (const auto& [b, e] : matches) {
    if (prev != b) spans.push_back({prev, b, invert});
    spans.push_back({b, e, !invert});
    prev = e;
  }
  if (prev != n) spans.push_back({prev, n, invert});

  std::vector<Span> merged;
  merged.reserve(spans.size());
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::Removed:
      for (const auto& s : spans)
        if (!s.is_match) merged.push_back(s);
      break;
    case SplitBehavior::Isolated:
      merged = spans;
      break;
    case SplitBehavior::MergedWithPrevious:
      for (const auto& s : spans) {
        if (s.is_match && !previous_match && !merged.empty()) merged.back().end = s.end;
        else merged.push_back(s);
        previous_match = s.is_match;
      }
      break;
    case SplitBehavior::MergedWithNext:
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->is_match && !previous_match && !merged.empty()) merged.back().begin = it->begin;
        else merged.push_back(*it);
        previous_match = it->is_match;
      }
      std::reverse(merged.begin(), merged.end());
      break;
    case SplitBehavior::Contiguous:
      for (const auto& s : spans) {
        if (s.is_match == previous_match && !merged.empty()) merged.back().end = s.end;
        else merged.push_back(s);
        previous_match = s.is_match;
      }
      break;
  }
  if (merged.size() == 1 && merged[0].begin == 0 && merged[0].end == n) {
    out.push_back(std::move(piece));
    return;
  }
  for (const auto& s : merged) {
    if (s.end > s.begin) out.push_back({piece.text.substr(s.begin, s.end - s.begin), piece.at_origin && s.begin == 0});
  }
}

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& j, std::string_view context) {
  if (j.is_null()) return nullptr;
  const std::string type = json_type(j, context);
  const std::string where = std::string(context) + "." + type;
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    for (const auto& p : json_array(j, "pretokenizers", where)) {
      if (auto t = make_pre_tokenizer(p, where)) parts.push_back(std::move(t));
    }
    return std::make_unique<SequencePreTokenizer>(std::move(parts));
  }
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelPreTokenizer>(json_bool(j, "add_prefix_space", true, where),
                                                   json_bool(j, "use_regex", true, where));
  }
  if (type == "Split") {
    return std::make_unique<SplitPreTokenizer>(Pattern(json_field(j, "pattern", where), where),
                                               parse_behavior(json_string(j, "behavior", where), where),
                                               json_bool(j, "invert", false, where));
  }
  if (type == "Metaspace") return make_metaspace(j, where);
  if (type == "Digits") return std::make_unique<DigitsPreTokenizer>(json_bool(j, "individual_digits", false, where));
  if (type == "Punctuation") {
    const auto behavior = json_optional_string(j, "behavior").value_or("Isolated");
    return std::make_unique<PunctuationPreTokenizer>(parse_behavior(behavior, where));
  }
  if (type == "Whitespace") return std::make_unique<WhitespacePreTokenizer>();
  if (type == "WhitespaceSplit") return std::make_unique<WhitespaceSplitPreTokenizer>();
  input_error("{}: unsupported pre_tokenizer type '{}'", context, type);
}

}  // namespace awq
