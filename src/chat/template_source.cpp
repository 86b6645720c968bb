// find_chat_template: the lookup order transformers uses when loading a tokenizer.
#include <fstream>
#include <sstream>

#include "src/chat/chat_template.h"
#include "src/common/error.h"

namespace awq {
namespace fs = std::filesystem;

static std::string read_text(const fs::path& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) input_error("{}: cannot read {}", path.string(), what);
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) input_error("{}: cannot read {}", path.string(), what);
  return s.str();
}

static std::optional<std::string> from_tokenizer_config(const fs::path& config_path, bool tools_requested) {
  std::error_code ec;
  if (!fs::exists(config_path, ec)) return std::nullopt;
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(read_text(config_path, "tokenizer config"));
  } catch (const nlohmann::json::exception& e) {
    input_error("{}: invalid JSON: {}", config_path.string(), e.what());
  }
  if (!config.is_object()) return std::nullopt;
  auto it = config.find("chat_template");
  if (it == config.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (!it->is_array()) input_error("{}: \"chat_template\" must be a string or a list of {{name, template}}", config_path.string());
  std::optional<std::string> fallback, tool_use;
  for (const auto& entry : *it) {
    if (!entry.is_object() || !entry.contains("name") || !entry.contains("template") || !entry["name"].is_string() ||
        !entry["template"].is_string()) {
      input_error("{}: \"chat_template\" list entries need string \"name\" and \"template\"", config_path.string());
    }
    if (entry["name"] == "default") fallback = entry["template"].get<std::string>();
    if (entry["name"] == "tool_use") tool_use = entry["template"].get<std::string>();
  }
  if (tools_requested && tool_use) return tool_use;
  if (!fallback) input_error("{}: several chat templates but none named \"default\"", config_path.string());
  return fallback;
}

std::optional<std::string> find_chat_template(const fs::path& model_dir, const std::optional<fs::path>& override_file,
                                              bool tools_requested) {
  if (override_file) return read_text(*override_file, "chat template");
  std::error_code ec;
  fs::path tool_use = model_dir / "additional_chat_templates" / "tool_use.jinja";
  if (tools_requested && fs::exists(tool_use, ec)) return read_text(tool_use, "chat template");
  fs::path jinja_file = model_dir / "chat_template.jinja";
  if (fs::exists(jinja_file, ec)) return read_text(jinja_file, "chat template");
  return from_tokenizer_config(model_dir / "tokenizer_config.json", tools_requested);
}

}  // namespace awq
