#include "src/batch/request_generation.h"

namespace awq {

GenerateOptions options_for_request(const GenerateOptions& base, const RequestOverrides& o, size_t index) {
  GenerateOptions opt = base;
  SamplingParams& s = opt.sampling;
  if (o.max_new_tokens) opt.max_new_tokens = *o.max_new_tokens;
  if (o.temperature) s.temperature = *o.temperature;
  if (o.top_k) s.top_k = *o.top_k;
  if (o.top_p) s.top_p = *o.top_p;
  if (o.min_p) s.min_p = *o.min_p;
  if (o.repeat_penalty) s.repeat_penalty = *o.repeat_penalty;
  s.seed = o.seed ? *o.seed : base.sampling.seed + index;
  if (o.stop) opt.stop = *o.stop;
  return opt;
}

BatchResult generate_request(ModelRunner& runner, const Tokenizer& tokenizer, std::span<const int> prompt_ids,
                             const GenerateOptions& options, const std::function<void()>& poll) {
  std::function<void(std::string_view)> on_text;
  if (poll) on_text = [&poll](std::string_view) { poll(); };
  return to_batch_result(generate(runner, tokenizer, prompt_ids, options, on_text));
}

BatchResult to_batch_result(const GenerateResult& g) {
  BatchResult r;
  r.text = g.text;
  r.prompt_tokens = g.prompt_tokens;
  r.completion_tokens = g.completion_tokens;
  r.finish_reason = g.finish_reason;
  r.prefill_ms = g.timings.prefill_s * 1e3;
  r.decode_ms = g.timings.decode_s * 1e3;
  r.tokens_per_s = g.timings.decode_tokens_per_s;
  return r;
}

}  // namespace awq
