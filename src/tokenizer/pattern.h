// The `pattern` field of Replace and Split components: {"String": s} (a
// literal) or {"Regex": r} (Oniguruma syntax).
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/tokenizer/regex.h"

namespace awq {

class Pattern {
 public:
  Pattern(const nlohmann::json& j, std::string_view context);
  void find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;
  std::string replace_all(std::string_view text, std::string_view replacement) const;

 private:
  std::string literal_;
  std::optional<Regex> regex_;
};

}  // namespace awq
