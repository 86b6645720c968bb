#include "src/bench/bench_loop.h"

#include <algorithm>
#include <chrono>
#include <random>

namespace awq {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::vector<int> random_prompt(int length, int vocab_size, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> id(0, vocab_size - 1);
  std::vector<int> tokens(length);
  for (int& t : tokens) t = id(rng);
  return tokens;
}

}  // namespace

GreedyStep make_greedy_step(ModelRunner& runner) {
  return [&runner](std::span<const int> tokens, int n_past) { return runner.forward_greedy(tokens, n_past); };
}

LengthTimings time_length(const GreedyStep& step, const LengthRunOptions& o) {
  const std::vector<int> prompt = random_prompt(o.length, o.vocab_size, 1234u + unsigned(o.length));
  auto notify = [&o] {
    if (o.on_step) o.on_step();
  };
  LengthTimings t;
  int token = step(prompt, 0);
  notify();
  for (int i = 0; i < std::min(o.warmup_steps, o.length); ++i) {
    token = step(std::span<const int>(&token, 1), o.length + i);
    notify();
  }
  for (int rep = 0; rep < o.reps; ++rep) {
    auto t0 = Clock::now();
    token = step(prompt, 0);
    t.prefill_s.push_back(seconds_since(t0));
    notify();
    for (int i = 0; i < o.length; ++i) {
      t0 = Clock::now();
      token = step(std::span<const int>(&token, 1), o.length + i);
      t.decode_step_s.push_back(seconds_since(t0));
      notify();
    }
  }
  return t;
}

}  // namespace awq
