// Small checked accessors for tokenizer.json / tokenizer_config.json fields.
// Every failure is an Error(Input) naming the file context and the key.
#pragma once
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace awq {

const nlohmann::json& json_field(const nlohmann::json& j, const char* key, std::string_view context);
std::string json_type(const nlohmann::json& j, std::string_view context);  // the "type" tag
std::string json_string(const nlohmann::json& j, const char* key, std::string_view context);
const nlohmann::json& json_array(const nlohmann::json& j, const char* key, std::string_view context);
// Missing or null -> fallback; wrong type -> error.
bool json_bool(const nlohmann::json& j, const char* key, bool fallback, std::string_view context);
std::optional<std::string> json_optional_string(const nlohmann::json& j, const char* key);

// A special token in tokenizer_config.json: a string or {"content": ...}.
std::optional<std::string> token_content(const nlohmann::json& j);

}  // namespace awq
