#include "src/engine/generator.h"

#include <algorithm>

#include "src/common/error.h"

namespace awq {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

SequenceGeneration::SequenceGeneration(const Tokenizer& tokenizer, std::span<const int> prompt_ids,
                                       const GenerateOptions& options, int max_context,
                                       std::function<void(std::string_view)> on_text)
    : options_(options),
      on_text_(std::move(on_text)),
      sampler_(options.sampling),
      decoder_(tokenizer, options.skip_special_tokens),
      stops_(options.stop),
      prompt_tokens_(int(prompt_ids.size())) {
  for (int id : prompt_ids) remember(id);
  if (prompt_tokens_ == 0) input_error("the prompt is empty (0 tokens)");
  if (options.max_new_tokens < 0) input_error("max_new_tokens is negative ({})", options.max_new_tokens);
  if (prompt_tokens_ + options.max_new_tokens > max_context)
    input_error("prompt is {} tokens, + {} new tokens exceeds the context of {}", prompt_tokens_,
                options.max_new_tokens, max_context);
  result_.prompt_tokens = prompt_tokens_;
  result_.finish_reason = "length";
  done_ = options.max_new_tokens == 0;
}

void SequenceGeneration::start() { started_ = std::chrono::steady_clock::now(); }

void SequenceGeneration::emit(const std::string& text) {
  if (text.empty()) return;
  result_.text += text;
  if (on_text_) on_text_(text);
}

void SequenceGeneration::remember(int id) {
  history_.push_back(id);
  if (id < 0) return;
  if (size_t(id) >= seen_.size()) seen_.resize(size_t(id) + 1, false);
  if (!seen_[size_t(id)]) {
    seen_[size_t(id)] = true;
    ++distinct_history_;
  }
}

void SequenceGeneration::accept(int argmax, std::span<const float> logits) {
  if (done_) runtime_error("SequenceGeneration::accept after the sequence finished");
  take(needs_logits() ? sampler_.sample(logits, history_) : argmax);
}

void SequenceGeneration::accept(const LogitPool& pool) {
  if (done_) runtime_error("SequenceGeneration::accept after the sequence finished");
  take(sampler_.sample(pool, history_));
}

void SequenceGeneration::take(int id) {
  if (result_.tokens.empty()) {
    result_.timings.prefill_s = seconds_since(started_);
    decode_started_ = std::chrono::steady_clock::now();
  }
  remember(id);
  result_.tokens.push_back(id);
  if (std::find(options_.eos_ids.begin(), options_.eos_ids.end(), id) != options_.eos_ids.end()) {
    result_.finish_reason = "stop";
    done_ = true;
    return;
  }
  emit(stops_.push(decoder_.push(id)));
  if (stops_.stopped()) {
    result_.finish_reason = "stop";
    done_ = true;
    return;
  }
  if (int(result_.tokens.size()) == options_.max_new_tokens) done_ = true;
}

GenerateResult SequenceGeneration::finish() {
  GenerateResult& r = result_;
  if (!r.tokens.empty()) r.timings.decode_s = seconds_since(decode_started_);
  if (!stops_.stopped()) {
    emit(stops_.push(decoder_.flush()));
    emit(stops_.flush());
  }
  r.completion_tokens = int(r.tokens.size());
  const int decode_steps = std::max(0, r.completion_tokens - 1);  // forward passes after the prefill
  if (r.timings.prefill_s > 0) r.timings.prefill_tokens_per_s = prompt_tokens_ / r.timings.prefill_s;
  if (r.timings.decode_s > 0) r.timings.decode_tokens_per_s = decode_steps / r.timings.decode_s;
  return std::move(r);
}

GenerateResult generate(ModelRunner& runner, const Tokenizer& tokenizer, std::span<const int> prompt_ids,
                        const GenerateOptions& options, const std::function<void(std::string_view)>& on_text) {
  SequenceGeneration g(tokenizer, prompt_ids, options, runner.max_context(), on_text);
  if (g.done()) return g.finish();
  // Plain greedy lets the backend pick the token (on the GPU only the id
  // crosses to the host); sampling takes a pool of the largest logits where
  // the backend makes one (the GPU) and the chain allows, else the row.
  std::vector<float> logits;
  std::vector<float>* wanted = g.needs_logits() ? &logits : nullptr;
  LogitPool pool;
  auto step = [&](std::span<const int> tokens, int n_past) {
    const int pool_size = g.needs_logits() ? g.logit_pool_size() : 0;
    if (pool_size > 0 && runner.forward_slot_top(0, tokens, n_past, pool_size, pool)) return g.accept(pool);
    // The id first: the span of logits is taken after the pass (re)sized them.
    const int id = runner.forward_slot(0, tokens, n_past, wanted);
    g.accept(id, logits);
  };
  g.start();
  step(g.prompt(), 0);
  if (!g.needs_logits()) {  // plain greedy: the backend may chain the steps (ModelRunner::greedy_decode)
    if (!g.done())
      runner.greedy_decode(g.next_token(), g.next_pos(), g.steps_left(), [&](int id) {
        g.accept(id, logits);
        return !g.done();
      });
    return g.finish();
  }
  while (!g.done()) {
    const int token = g.next_token();
    step(std::span<const int>(&token, 1), g.next_pos());
  }
  return g.finish();
}

}  // namespace awq
