#include "src/engine/generator.h"

#include <algorithm>
#include <chrono>

#include "src/common/error.h"
#include "src/sampling/stop_matcher.h"

namespace awq {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

GenerateResult generate(ModelRunner& runner, const Tokenizer& tokenizer, std::span<const int> prompt_ids,
                        const GenerateOptions& options, const std::function<void(std::string_view)>& on_text) {
  const int n_prompt = int(prompt_ids.size());
  if (n_prompt == 0) input_error("the prompt is empty (0 tokens)");
  if (options.max_new_tokens < 0) input_error("max_new_tokens is negative ({})", options.max_new_tokens);
  if (n_prompt + options.max_new_tokens > runner.max_context())
    input_error("prompt is {} tokens, + {} new tokens exceeds the context of {}", n_prompt, options.max_new_tokens,
                runner.max_context());

  GenerateResult r;
  r.prompt_tokens = n_prompt;
  r.finish_reason = "length";
  auto emit = [&](const std::string& s) {
    if (s.empty()) return;
    r.text += s;
    if (on_text) on_text(s);
  };
  if (options.max_new_tokens == 0) return r;

  // Plain greedy lets the backend pick the token (on the GPU only the id
  // crosses to the host); anything else samples from the host logits.
  const bool backend_picks = is_plain_greedy(options.sampling);
  std::vector<float> logits;
  int picked = -1;
  auto step = [&](std::span<const int> tokens, int n_past) {
    if (backend_picks) picked = runner.forward_greedy(tokens, n_past);
    else runner.forward(tokens, n_past, false, logits);
  };
  auto t0 = std::chrono::steady_clock::now();
  step(prompt_ids, 0);
  r.timings.prefill_s = seconds_since(t0);

  Sampler sampler(options.sampling);
  StreamDecoder decoder(tokenizer, options.skip_special_tokens);
  StopMatcher stops(options.stop);
  std::vector<int> history(prompt_ids.begin(), prompt_ids.end());
  int decode_steps = 0;
  t0 = std::chrono::steady_clock::now();
  for (;;) {
    const int id = backend_picks ? picked : sampler.sample(logits, history);
    history.push_back(id);
    r.tokens.push_back(id);
    if (std::find(options.eos_ids.begin(), options.eos_ids.end(), id) != options.eos_ids.end()) {
      r.finish_reason = "stop";
      break;
    }
    emit(stops.push(decoder.push(id)));
    if (stops.stopped()) {
      r.finish_reason = "stop";
      break;
    }
    if (int(r.tokens.size()) == options.max_new_tokens) break;
    step(std::span<const int>(&id, 1), int(history.size()) - 1);
    ++decode_steps;
  }
  r.timings.decode_s = seconds_since(t0);
  if (!stops.stopped()) {
    emit(stops.push(decoder.flush()));
    emit(stops.flush());
  }
  r.completion_tokens = int(r.tokens.size());
  if (r.timings.prefill_s > 0) r.timings.prefill_tokens_per_s = n_prompt / r.timings.prefill_s;
  if (r.timings.decode_s > 0) r.timings.decode_tokens_per_s = decode_steps / r.timings.decode_s;
  return r;
}

}  // namespace awq
