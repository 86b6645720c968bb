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

GreedyDriver make_greedy_driver(ModelRunner& runner) {
  return {[&runner](std::span<const int> tokens, int n_past) { return runner.forward_greedy(tokens, n_past); },
          [&runner](int token, int n_past, int steps, const std::function<bool(int)>& on_token) {
            runner.greedy_decode(token, n_past, steps, on_token);
          }};
}

LengthTimings time_length(const GreedyDriver& driver, const LengthRunOptions& o) {
  const std::vector<int> prompt = random_prompt(o.length, o.vocab_size, 1234u + unsigned(o.length));
  auto notify = [&o] {
    if (o.on_step) o.on_step();
  };
  LengthTimings t;
  int token = driver.prefill(prompt, 0);
  notify();
  driver.decode(token, o.length, std::min(o.warmup_steps, o.length), [&](int) {
    notify();
    return true;
  });
  for (int rep = 0; rep < o.reps; ++rep) {
    auto t0 = Clock::now();
    token = driver.prefill(prompt, 0);
    t.prefill_s.push_back(seconds_since(t0));
    notify();
    t0 = Clock::now();
    driver.decode(token, o.length, o.length, [&](int) {
      t.decode_step_s.push_back(seconds_since(t0));
      t0 = Clock::now();
      notify();
      return true;
    });
  }
  return t;
}

}  // namespace awq
