#include "src/engine/perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include "src/common/error.h"

namespace awq {

PerplexityResult perplexity(ModelRunner& runner, std::span<const int> ids, const PerplexityOptions& options,
                            const std::function<void(int, int, double)>& progress) {
  const int n = int(ids.size());
  const int ctx = options.ctx;
  const int stride = options.stride == 0 ? ctx : options.stride;
  if (n < 2) input_error("perplexity needs at least 2 tokens, got {}", n);
  if (ctx < 2 || ctx > runner.max_context())
    input_error("perplexity context {} must be in [2, {}] (the runner's context)", ctx, runner.max_context());
  if (stride < 1 || stride > ctx) input_error("perplexity stride {} must be in [1, {}]", stride, ctx);

  int windows = 0;
  for (int begin = 0;; begin += stride) {
    ++windows;
    if (begin + ctx >= n) break;
  }
  const int vocab = runner.config().vocab_size;
  const auto t0 = std::chrono::steady_clock::now();
  PerplexityResult r;
  double nll = 0;
  std::vector<float> logits;
  // Adds the negative log-likelihood of `target` under one row of logits.
  auto score = [&](const float* row, int target) {
    const double mx = *std::max_element(row, row + vocab);
    double total = 0;
    for (int i = 0; i < vocab; ++i) total += std::exp(double(row[i]) - mx);
    nll -= double(row[target]) - mx - std::log(total);
    ++r.tokens;
  };
  int prev_end = 0, done = 0;
  for (int begin = 0;; begin += stride) {
    const int end = std::min(begin + ctx, n);
    const int len = end - begin;
    const int first = std::max(len - (end - prev_end), 1);  // positions the previous window did not score
    if (options.one_token_passes) {
      for (int pos = 0; pos + 1 < len; ++pos) {
        runner.forward(ids.subspan(size_t(begin + pos), 1), pos, false, logits);
        if (pos + 1 >= first) score(logits.data(), ids[size_t(begin + pos + 1)]);
      }
    } else {
      runner.forward(ids.subspan(size_t(begin), size_t(len)), 0, true, logits);
      for (int pos = first; pos < len; ++pos) score(logits.data() + size_t(pos - 1) * vocab, ids[size_t(begin + pos)]);
    }
    prev_end = end;
    ++done;
    if (progress) progress(done, windows, std::exp(nll / std::max(1, r.tokens)));
    if (end == n) break;
  }
  r.mean_nll = nll / r.tokens;
  r.ppl = std::exp(r.mean_nll);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace awq
