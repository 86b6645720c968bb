#include "src/model/quant_config.h"

#include <algorithm>
#include <cctype>

#include "src/common/error.h"
#include "src/model/json_util.h"

namespace awq {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kSupported = "AWQ with bits 4, zero_point true, version gemm or gemv, group_size 32, 64, 128 or -1";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

// Key names differ between quantization_config (config.json) and the legacy quant_config.json.
struct KeyNames {
  const char* bits;
  const char* group_size;
};
constexpr KeyNames kModernKeys{"bits", "group_size"};
constexpr KeyNames kLegacyKeys{"w_bit", "q_group_size"};

int int_key(const json& q, const char* key, int fallback, const std::string& where) {
  if (!q.contains(key) || q.at(key).is_null()) return fallback;
  if (!q.at(key).is_number_integer())
    input_error("{}: {} must be an integer, got {}", where, key, json_brief(q.at(key)));
  return q.at(key).get<int>();
}

QuantConfig parse_quant_object(const json& q, const std::string& where, const KeyNames& keys) {
  if (!q.is_object()) input_error("{} must be an object, got {}", where, json_brief(q));
  QuantConfig c;
  if (q.contains("quant_method")) {
    const json& m = q.at("quant_method");
    if (!m.is_string() || lower(m.get<std::string>()) != "awq")
      input_error("{}: quant_method is {}, but awqrun reads only AWQ checkpoints (quant_method \"awq\")", where,
                  json_brief(m));
  }
  c.bits = int_key(q, keys.bits, 4, where);
  if (c.bits != 4) input_error("{}: {}-bit weights are not supported (supported: {})", where, c.bits, kSupported);

  c.group_size = int_key(q, keys.group_size, 128, where);
  if (c.group_size != 32 && c.group_size != 64 && c.group_size != 128 && c.group_size != -1)
    input_error("{}: group_size {} is not supported (supported: {})", where, c.group_size, kSupported);

  if (q.contains("zero_point") && !q.at("zero_point").is_null()) {
    if (!q.at("zero_point").is_boolean())
      input_error("{}: zero_point must be true or false, got {}", where, json_brief(q.at("zero_point")));
    c.zero_point = q.at("zero_point").get<bool>();
  }
  if (!c.zero_point)
    input_error("{}: zero_point false (symmetric, Marlin-style) is not supported (supported: {})", where, kSupported);

  // transformers 5 may write "format" where older writers put "version".
  const char* version_key = q.contains("version") ? "version" : "format";
  std::string version = "gemm";
  if (q.contains(version_key) && !q.at(version_key).is_null()) {
    if (!q.at(version_key).is_string())
      input_error("{}: {} must be a string, got {}", where, version_key, json_brief(q.at(version_key)));
    version = lower(q.at(version_key).get<std::string>());
  }
  if (version == "gemm") c.layout = AwqLayout::Gemm;
  else if (version == "gemv") c.layout = AwqLayout::Gemv;
  else
    input_error("{}: AWQ version \"{}\" is not supported (supported: {})", where, version, kSupported);

  if (q.contains("modules_to_not_convert") && !q.at("modules_to_not_convert").is_null()) {
    const json& m = q.at("modules_to_not_convert");
    if (!m.is_array()) input_error("{}: modules_to_not_convert must be a list or null, got {}", where, json_brief(m));
    for (const auto& s : m) {
      if (!s.is_string()) input_error("{}: modules_to_not_convert has a non-string entry {}", where, json_brief(s));
      c.modules_to_not_convert.push_back(s.get<std::string>());
    }
  }
  return c;
}

[[noreturn]] void not_awq(const std::string& source) {
  input_error("{}: no quantization_config, so this is not an AWQ checkpoint (awqrun runs AWQ 4-bit models only)",
              source);
}

}  // namespace

bool QuantConfig::keeps_float(const std::string& linear_name) const {
  return std::any_of(modules_to_not_convert.begin(), modules_to_not_convert.end(),
                     [&](const std::string& m) { return linear_name.find(m) != std::string::npos; });
}

QuantConfig parse_quant_config(const std::string& config_json_text, const std::string& source) {
  const json j = parse_json_strict(config_json_text, source);
  if (!j.is_object()) input_error("{}: not a JSON object", source);
  if (!j.contains("quantization_config") || j.at("quantization_config").is_null()) not_awq(source);
  return parse_quant_object(j.at("quantization_config"), source + ": quantization_config", kModernKeys);
}

QuantConfig load_quant_config(const fs::path& model_dir) {
  const fs::path config_path = model_dir / "config.json";
  const json j = load_json_file(config_path);
  if (!j.is_object()) input_error("{}: not a JSON object", config_path.string());
  if (j.contains("quantization_config") && !j.at("quantization_config").is_null())
    return parse_quant_object(j.at("quantization_config"), config_path.string() + ": quantization_config",
                              kModernKeys);
  const fs::path legacy_path = model_dir / "quant_config.json";
  if (!fs::exists(legacy_path))
    input_error("{}: config.json has no quantization_config and there is no quant_config.json, so this is not an "
                "AWQ checkpoint (awqrun runs AWQ 4-bit models only)", model_dir.string());
  return parse_quant_object(load_json_file(legacy_path), legacy_path.string(), kLegacyKeys);
}

}  // namespace awq
