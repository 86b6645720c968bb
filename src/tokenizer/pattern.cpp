#include "src/tokenizer/pattern.h"

#include <nlohmann/json.hpp>

#include "src/common/error.h"

namespace awq {

Pattern::Pattern(const nlohmann::json& j, std::string_view context) {
  if (j.is_object() && j.contains("String") && j["String"].is_string()) {
    literal_ = j["String"].get<std::string>();
  } else if (j.is_object() && j.contains("Regex") && j["Regex"].is_string()) {
    regex_.emplace(j["Regex"].get<std::string>(), context);
  } else {
    input_error("{}: pattern must be {{\"String\": ...}} or {{\"Regex\": ...}}", context);
  }
}

void Pattern::find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const {
  if (regex_) return regex_->find_all(text, out);
  out.clear();
  if (literal_.empty()) return;
  for (size_t pos = text.find(literal_); pos != std::string_view::npos; pos = text.find(literal_, pos)) {
    out.emplace_back(pos, pos + literal_.size());
    pos += literal_.size();
  }
}

std::string Pattern::replace_all(std::string_view text, std::string_view replacement) const {
  if (regex_) return regex_->replace_all(text, replacement);
  std::vector<std::pair<size_t, size_t>> matches;
  find_all(text, matches);
  std::string out;
  out.reserve(text.size());
  size_t prev = 0;
  for (const auto& [b, e] : matches) {
    out.append(text.substr(prev, b - prev));
    out.append(replacement);
    prev = e;
  }
  out.append(text.substr(prev));
  return out;
}

}  // namespace awq
