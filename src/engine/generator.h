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
#include <chrono>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/engine/model_runner.h"
#include "src/sampling/sampler.h"
#include "src/sampling/stop_matcher.h"
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

// One sequence being generated, step by step: what generate() runs, and what
// a batch scheduler keeps per sequence while it decodes many together.
//
//   SequenceGeneration g(tok, prompt, opt, runner.max_context(), on_text);
//   g.start();                                     // prefill timing begins
//   id = runner.forward_slot(slot, g.prompt(), 0, g.needs_logits() ? &logits : nullptr);
//   g.accept(id, logits);
//   while (!g.done()) { step g.next_token() at g.next_pos(); g.accept(...); }
//   GenerateResult r = g.finish();
class SequenceGeneration {
 public:
  // Throws Error(Input) before any work when the prompt is empty or when
  // prompt + max_new_tokens exceeds max_context.
  SequenceGeneration(const Tokenizer& tokenizer, std::span<const int> prompt_ids, const GenerateOptions& options,
                     int max_context, std::function<void(std::string_view)> on_text);

  std::span<const int> prompt() const { return {history_.data(), size_t(prompt_tokens_)}; }
  // False for plain greedy sampling: the backend's argmax is the token.
  bool needs_logits() const { return !is_plain_greedy(options_.sampling); }
  // With needs_logits(): the size of the LogitPool that gives the same token
  // as the whole row (sampler.h), 0 when the row is needed.
  int logit_pool_size() const { return awq::logit_pool_size(options_.sampling, distinct_history_); }
  bool done() const { return done_; }
  // The next step's input: the last sampled token and its position.
  int next_token() const { return history_.back(); }
  int next_pos() const { return int(history_.size()) - 1; }
  // Forward passes that may still be needed (max_new_tokens minus the tokens so far).
  int steps_left() const { return options_.max_new_tokens - int(result_.tokens.size()); }

  void start();  // call just before the prompt's forward pass (timings)
  // One forward pass's output for the last position: its argmax, and its
  // logits when needs_logits(). Samples the token, streams its text and
  // decides whether the sequence is done (eos, stop string, max_new_tokens).
  void accept(int argmax, std::span<const float> logits);
  void accept(const LogitPool& pool);  // the same from a pool of logit_pool_size()
  GenerateResult finish();  // flushes held-back text; call once, when done()

 private:
  void emit(const std::string& text);
  void take(int id);  // the sampled token: history, text, stop conditions
  void remember(int id);  // history_ and distinct_history_

  GenerateOptions options_;
  std::function<void(std::string_view)> on_text_;
  Sampler sampler_;
  StreamDecoder decoder_;
  StopMatcher stops_;
  std::vector<int> history_;  // prompt + generated ids
  std::vector<bool> seen_;    // by id: in history_
  int distinct_history_ = 0;
  int prompt_tokens_ = 0;
  bool done_ = false;
  GenerateResult result_;
  std::chrono::steady_clock::time_point started_, decode_started_;
};

// Throws Error(Input) before any work when the prompt is empty or when
// prompt + max_new_tokens exceeds runner.max_context().
GenerateResult generate(ModelRunner& runner, const Tokenizer& tokenizer, std::span<const int> prompt_ids,
                        const GenerateOptions& options, const std::function<void(std::string_view)>& on_text);

}  // namespace awq
