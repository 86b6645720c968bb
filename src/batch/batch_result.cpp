#include "src/batch/batch_result.h"

#include <cmath>

namespace awq {
namespace {

// Milliseconds and rates to 3 decimals: enough, and keeps lines short.
double rounded(double x) { return std::round(x * 1000.0) / 1000.0; }

}  // namespace

BatchResult error_result(const nlohmann::json& id, std::string message) {
  BatchResult r;
  r.id = id;
  r.error = std::move(message);
  return r;
}

std::string format_result_line(const BatchResult& r) {
  nlohmann::ordered_json j;
  j["id"] = r.id;
  if (r.failed()) {
    j["error"] = r.error;
  } else {
    j["text"] = r.text;
    j["prompt_tokens"] = r.prompt_tokens;
    j["completion_tokens"] = r.completion_tokens;
    j["finish_reason"] = r.finish_reason;
    j["timings"] = {{"prefill_ms", rounded(r.prefill_ms)},
                    {"decode_ms", rounded(r.decode_ms)},
                    {"tokens_per_s", rounded(r.tokens_per_s)}};
  }
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace awq
