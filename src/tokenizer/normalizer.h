// tokenizer.json "normalizer" components. A normalizer rewrites one piece of
// input text (the text between added tokens) before pre-tokenization.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace awq {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(std::string& text) const = 0;
};

// Returns nullptr for JSON null. Throws Error(Input) naming `context` and the
// type for unknown or malformed components.
std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& j, std::string_view context);

}  // namespace awq
