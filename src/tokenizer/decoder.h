// tokenizer.json "decoder" components. Each one rewrites the list of token
// strings (HF's decode_chain); the final text is their concatenation.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace awq {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

// nullptr for JSON null; Error(Input) naming `context` and the type otherwise.
std::unique_ptr<Decoder> make_decoder(const nlohmann::json& j, std::string_view context);

}  // namespace awq
