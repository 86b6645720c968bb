// Incremental decoding in the manner of HF's DecodeStream: text is released
// only once decoding the window yields more text than before and does not end
// in U+FFFD (an unfinished UTF-8 sequence or byte-fallback run).
#include "src/tokenizer/tokenizer.h"

namespace awq {
namespace {

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";

bool ends_unfinished(std::string_view s) { return s.ends_with(kReplacementChar); }

}  // namespace

StreamDecoder::StreamDecoder(const Tokenizer& tok, bool skip_special_tokens)
    : tok_(tok), skip_special_(skip_special_tokens) {}

std::string StreamDecoder::push(int id) {
  if (prefix_.empty() && !window_.empty()) {
    std::string p = tok_.decode(window_, skip_special_);
    if (!ends_unfinished(p)) {
      prefix_ = std::move(p);
      prefix_count_ = window_.size();
    }
  }
  window_.push_back(id);
  const std::string text = tok_.decode(window_, skip_special_);
  if (text.size() <= prefix_.size() || ends_unfinished(text) || !text.starts_with(prefix_)) return {};
  std::string fresh = text.substr(prefix_.size());
  // Keep the ids that produced `fresh` as context for the next step.
  window_.erase(window_.begin(), window_.begin() + static_cast<std::ptrdiff_t>(prefix_count_));
  prefix_ = tok_.decode(window_, skip_special_);
  prefix_count_ = window_.size();
  return fresh;
}

std::string StreamDecoder::flush() {
  const std::string text = tok_.decode(window_, skip_special_);
  std::string rest = text.starts_with(prefix_) ? text.substr(prefix_.size()) : std::string();
  window_.clear();
  prefix_.clear();
  prefix_count_ = 0;
  return rest;
}

}  // namespace awq
