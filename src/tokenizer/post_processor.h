// tokenizer.json "post_processor" for single sequences: the special ids placed
// around the encoded text when add_special_tokens is true.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <string_view>
#include <vector>

namespace awq {

class PostProcessor {
 public:
  // JSON null -> identity. Error(Input) naming `context` and the type otherwise.
  PostProcessor(const nlohmann::json& j, std::string_view context);
  void apply(std::vector<int>& ids) const;

 private:
  void add(const nlohmann::json& j, std::string_view context);
  std::vector<int> prefix_, suffix_;
};

}  // namespace awq
