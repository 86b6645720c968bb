#include "src/batch/batch_request.h"

#include <fmt/format.h>

#include <set>

namespace awq {
namespace {

using ojson = nlohmann::ordered_json;

// Thrown inside this file only, to turn a bad field into the request's error.
struct BadField {
  std::string message;
};

const std::set<std::string> kKnownKeys = {"id", "prompt", "messages", "max_new_tokens", "max_tokens",
                                          "temperature", "top_p", "top_k", "min_p", "repeat_penalty",
                                          "repetition_penalty", "seed", "stop"};

std::string shown(const ojson& v) {
  std::string s = v.dump(-1, ' ', false, ojson::error_handler_t::replace);
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

std::optional<float> read_float(const ojson& obj, const char* key, double lo, double hi, const char* range) {
  if (!obj.contains(key) || obj[key].is_null()) return std::nullopt;
  const ojson& v = obj[key];
  if (!v.is_number() || v.get<double>() < lo || v.get<double>() > hi)
    throw BadField{fmt::format("{} must be a number {}, got {}", key, range, shown(v))};
  return v.get<float>();
}

std::optional<int64_t> read_count(const ojson& obj, const char* key) {
  if (!obj.contains(key) || obj[key].is_null()) return std::nullopt;
  const ojson& v = obj[key];
  if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > (1LL << 31) - 1)
    throw BadField{fmt::format("{} must be a non-negative integer, got {}", key, shown(v))};
  return v.get<int64_t>();
}

std::optional<std::vector<std::string>> read_stop(const ojson& obj) {
  if (!obj.contains("stop") || obj["stop"].is_null()) return std::nullopt;
  const ojson& v = obj["stop"];
  if (v.is_string()) return std::vector<std::string>{v.get<std::string>()};
  std::vector<std::string> stops;
  if (v.is_array()) {
    for (const ojson& s : v) {
      if (!s.is_string() || s.get<std::string>().empty()) break;
      stops.push_back(s.get<std::string>());
    }
    if (stops.size() == v.size()) return stops;
  }
  throw BadField{fmt::format("stop must be a string or a list of non-empty strings, got {}", shown(v))};
}

void read_messages(const ojson& v, BatchRequest& r) {
  if (!v.is_array() || v.empty()) throw BadField{"messages must be a non-empty list of {\"role\", \"content\"} objects"};
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_object() || !v[i].contains("role") || !v[i]["role"].is_string())
      throw BadField{fmt::format("messages[{}] must be an object with a string \"role\"", i)};
  }
  r.messages = v;
}

void read_fields(const ojson& obj, BatchRequest& r) {
  const bool has_prompt = obj.contains("prompt") && !obj["prompt"].is_null();
  const bool has_messages = obj.contains("messages") && !obj["messages"].is_null();
  if (has_prompt == has_messages) throw BadField{"give exactly one of \"prompt\" or \"messages\""};
  if (has_prompt) {
    if (!obj["prompt"].is_string()) throw BadField{fmt::format("prompt must be a string, got {}", shown(obj["prompt"]))};
    r.prompt = obj["prompt"].get<std::string>();
  } else {
    read_messages(obj["messages"], r);
  }
  RequestOverrides& o = r.overrides;
  if (obj.contains("max_new_tokens") && obj.contains("max_tokens"))
    throw BadField{"give max_new_tokens or max_tokens, not both"};
  if (auto n = read_count(obj, "max_new_tokens")) o.max_new_tokens = int(*n);
  if (auto n = read_count(obj, "max_tokens")) o.max_new_tokens = int(*n);
  if (auto k = read_count(obj, "top_k")) o.top_k = int(*k);
  o.temperature = read_float(obj, "temperature", 0, 1e6, ">= 0");
  o.top_p = read_float(obj, "top_p", 0, 1, "in [0, 1]");
  o.min_p = read_float(obj, "min_p", 0, 1, "in [0, 1]");
  o.repeat_penalty = read_float(obj, "repeat_penalty", 1e-6, 1e6, "> 0");
  if (!o.repeat_penalty) o.repeat_penalty = read_float(obj, "repetition_penalty", 1e-6, 1e6, "> 0");
  if (obj.contains("seed") && !obj["seed"].is_null()) {
    const ojson& s = obj["seed"];
    if (!s.is_number_integer() || (!s.is_number_unsigned() && s.get<int64_t>() < 0))
      throw BadField{fmt::format("seed must be a non-negative integer, got {}", shown(s))};
    o.seed = s.get<uint64_t>();
  }
  o.stop = read_stop(obj);
}

}  // namespace

std::string id_key(const nlohmann::json& id) { return id.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

BatchRequest parse_jsonl_request(const std::string& line_text, int line) {
  BatchRequest r;
  r.line = line;
  r.id = line;
  ojson obj;
  try {
    obj = ojson::parse(line_text);
  } catch (const ojson::parse_error& e) {
    // nlohmann's message starts with "[json.exception.parse_error.101] parse error at line 1, column 7: ...".
    std::string what = e.what();
    if (const size_t colon = what.find("column"); colon != std::string::npos) what = what.substr(colon);
    r.error = fmt::format("line {}: not valid JSON ({})", line, what);
    return r;
  }
  if (!obj.is_object()) {
    r.error = fmt::format("line {}: expected a JSON object, got {}", line, shown(obj));
    return r;
  }
  if (obj.contains("id") && !obj["id"].is_null()) {
    const ojson& id = obj["id"];
    if (!id.is_string() && !id.is_number()) {
      r.error = fmt::format("line {}: id must be a string or a number, got {}", line, shown(id));
      return r;
    }
    r.id = nlohmann::json::parse(id.dump());
  }
  for (const auto& [key, value] : obj.items())
    if (!kKnownKeys.count(key)) r.unknown_keys.push_back(key);
  try {
    read_fields(obj, r);
  } catch (const BadField& bad) {
    r.error = fmt::format("line {}: {}", line, bad.message);
  }
  return r;
}

}  // namespace awq
