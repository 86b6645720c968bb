// Strict JSON reading for checkpoint headers, index files and configs: one
// clear Error(Input) naming the source for unreadable files, invalid JSON and
// duplicate keys (nlohmann silently keeps the last duplicate, which would let
// a corrupt header shadow a tensor).
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace awq {

std::string read_text_file(const std::filesystem::path& path);
nlohmann::json parse_json_strict(std::string_view text, const std::string& source);
nlohmann::json load_json_file(const std::filesystem::path& path);

// Short rendering of a JSON value for messages ("4096", "\"gemv\"", "[1, 2]").
std::string json_brief(const nlohmann::json& value);

}  // namespace awq
