#include "src/model/json_util.h"

#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

#include "src/common/error.h"

namespace awq {

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) input_error("cannot read {}", path.string());
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) input_error("cannot read {}", path.string());
  return ss.str();
}

nlohmann::json parse_json_strict(std::string_view text, const std::string& source) {
  using Event = nlohmann::json::parse_event_t;
  std::vector<std::set<std::string>> open_objects;
  std::optional<std::string> duplicate;
  auto callback = [&](int, Event event, nlohmann::json& parsed) {
    if (event == Event::object_start) {
      open_objects.emplace_back();
    } else if (event == Event::object_end) {
      open_objects.pop_back();
    } else if (event == Event::key && !open_objects.empty()) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!open_objects.back().insert(key).second && !duplicate) duplicate = key;
    }
    return true;
  };
  nlohmann::json result;
  try {
    result = nlohmann::json::parse(text.begin(), text.end(), callback);
  } catch (const nlohmann::json::exception& e) {
    input_error("{}: invalid JSON ({})", source, e.what());
  }
  if (duplicate) input_error("{}: duplicate key \"{}\"", source, *duplicate);
  return result;
}

nlohmann::json load_json_file(const std::filesystem::path& path) {
  return parse_json_strict(read_text_file(path), path.string());
}

std::string json_brief(const nlohmann::json& value) {
  std::string s = value.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

}  // namespace awq
