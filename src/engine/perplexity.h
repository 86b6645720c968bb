// Perplexity of a token sequence, as Hugging Face's strided evaluation
// ("Perplexity of fixed-length models"): windows of ctx tokens start every
// stride tokens; in each window only the tokens that the previous window did
// not already score count (the first window scores all but its first token).
// stride == ctx gives llama-perplexity-style disjoint chunks.
#pragma once
#include <functional>
#include <span>

#include "src/engine/model_runner.h"

namespace awq {

struct PerplexityOptions {
  int ctx = 512;
  int stride = 0;  // 0: ctx
  // One token per pass (the decode kernels: GEMV, split-KV attention) instead
  // of one pass per window (prefill kernels), to measure the decode path.
  bool one_token_passes = false;
};

struct PerplexityResult {
  double ppl = 0;
  double mean_nll = 0;  // natural log
  int tokens = 0;       // tokens scored
  double seconds = 0;
};

// progress(done_windows, total_windows, ppl_so_far) after each window, if set.
// Throws Error(Input) for fewer than 2 tokens, ctx < 2 or beyond the runner's
// context, or a stride outside [1, ctx].
PerplexityResult perplexity(ModelRunner& runner, std::span<const int> ids, const PerplexityOptions& options,
                            const std::function<void(int, int, double)>& progress = {});

}  // namespace awq
