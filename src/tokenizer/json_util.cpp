#include "src/tokenizer/json_util.h"

#include "src/common/error.h"

namespace awq {

const nlohmann::json& json_field(const nlohmann::json& j, const char* key, std::string_view context) {
  if (!j.is_object() || !j.contains(key)) input_error("{}: missing key '{}'", context, key);
  return j[key];
}

std::string json_type(const nlohmann::json& j, std::string_view context) {
  if (!j.is_object()) input_error("{}: expected an object with a \"type\"", context);
  return json_string(j, "type", context);
}

std::string json_string(const nlohmann::json& j, const char* key, std::string_view context) {
  const auto& v = json_field(j, key, context);
  if (!v.is_string()) input_error("{}: key '{}' must be a string", context, key);
  return v.get<std::string>();
}

const nlohmann::json& json_array(const nlohmann::json& j, const char* key, std::string_view context) {
  const auto& v = json_field(j, key, context);
  if (!v.is_array()) input_error("{}: key '{}' must be an array", context, key);
  return v;
}

bool json_bool(const nlohmann::json& j, const char* key, bool fallback, std::string_view context) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_boolean()) input_error("{}: key '{}' must be true or false", context, key);
  return j[key].get<bool>();
}

std::optional<std::string> json_optional_string(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return std::nullopt;
  return j[key].get<std::string>();
}

std::optional<std::string> token_content(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("content") && j["content"].is_string()) return j["content"].get<std::string>();
  return std::nullopt;
}

}  // namespace awq
