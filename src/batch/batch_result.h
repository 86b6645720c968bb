// One line of the output file of `awqrun batch`:
//   {"id": ..., "text": "...", "prompt_tokens": N, "completion_tokens": N, "finish_reason": "stop"|"length",
//    "timings": {"prefill_ms": X, "decode_ms": X, "tokens_per_s": X}}
// or, for a malformed line or a failed request, {"id": ..., "error": "..."}.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace awq {

struct BatchResult {
  nlohmann::json id;
  std::string error;  // non-empty: the request failed; the fields below are unused
  std::string text;
  int prompt_tokens = 0, completion_tokens = 0;
  std::string finish_reason;
  double prefill_ms = 0, decode_ms = 0;
  double tokens_per_s = 0;  // decode speed: generated tokens after the first / decode time
  bool failed() const { return !error.empty(); }
};

BatchResult error_result(const nlohmann::json& id, std::string message);

// The JSON object and its "\n", as one string (written with one write()).
// Text that is not valid UTF-8 has its bad bytes replaced by U+FFFD.
std::string format_result_line(const BatchResult& r);

}  // namespace awq
