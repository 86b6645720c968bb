// One request of `awqrun batch`: what a line of the input file asks for.
#pragma once
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace awq {

// Per-request settings; each one given replaces the command line's value.
struct RequestOverrides {
  std::optional<int> max_new_tokens;
  std::optional<float> temperature, top_p, min_p, repeat_penalty;
  std::optional<int> top_k;
  std::optional<uint64_t> seed;
  std::optional<std::vector<std::string>> stop;
};

struct BatchRequest {
  size_t index = 0;  // 0-based position among the file's requests: output order and seed offset
  int line = 0;      // 1-based line of the input file, for messages
  nlohmann::json id;  // string or number, echoed in the result
  std::string prompt;  // a plain prompt (when messages is null)
  nlohmann::ordered_json messages;  // a chat list [{"role", "content"}, ...], or null
  RequestOverrides overrides;
  std::string error;  // non-empty: the line is malformed; its result is this error
  std::vector<std::string> unknown_keys;  // keys the line has that no request field uses (ignored)
};

// The key under which an id is matched on resume: its JSON text, so that the
// string "7" and the number 7 stay different ids.
std::string id_key(const nlohmann::json& id);

// Parses one JSONL line (already known not to be blank). Never throws: a bad
// line gives a request whose error says what is wrong; its id is the line's
// "id" when that could be read, else the line number.
BatchRequest parse_jsonl_request(const std::string& line_text, int line);

}  // namespace awq
