// Text generation on top of a ModelRunner: prefill the prompt, then sample
// one token per step until an eos id, a stop string or max_new_tokens.
//
//   GenerateOptions opt;
//   opt.max_new_tokens = 64;
//   opt.sampling.temperature = 0.7f;          // see src/sampling/sampler.h for the chain
//   opt.eos_ids = weights.config.eos_token_ids;
//   auto r = generate(runner, tok, tok.encode(prompt), opt,
//                     [](std::string_view s) { fwrite(s.data(), 1, s.size(), stdout); });
//
// on_text receives the completion as it becomes final (whole UTF-8
// characters, never any part of a stop string); r.text is the concatenation.
#pragma once
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/engine/model_runner.h"
#include "src/sampling/sampler.h"
#include "src/tokenizer/tokenizer.h"

namespace awq {

struct GenerateOptions {
  int max_new_tokens = 128;
  SamplingParams sampling;
  std::vector<int> eos_ids;        // generation stops at any of them; they are not part of the text
  std::vector<std::string> stop;   // stop strings; not part of the text
  bool skip_special_tokens = true;  // in the streamed text
};

struct GenerateTimings {
  double prefill_s = 0, decode_s = 0;
  double prefill_tokens_per_s = 0;  // prompt tokens / prefill_s
  double decode_tokens_per_s = 0;   // decode steps (forward calls after the prefill) / decode_s
};

struct GenerateResult {
  std::string text;
  std::vector<int> tokens;        // generated ids, including a final eos id
  int prompt_tokens = 0;
  int completion_tokens = 0;      // tokens.size()
  std::string finish_reason;      // "stop" (eos or stop string) or "length"
  GenerateTimings timings;
};

// Throws Error(Input) before any work when the prompt is empty or when
// prompt + max_new_tokens exceeds runner.max_context().
GenerateResult generate(ModelRunner& runner, const Tokenizer& tokenizer, std::span<const int> prompt_ids,
                        const GenerateOptions& options, const std::function<void(std::string_view)>& on_text);

}  // namespace awq
