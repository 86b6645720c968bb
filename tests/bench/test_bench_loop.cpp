// The timed loop of `awqrun bench` on the CPU backend with a tiny model: what
// it runs (counts, positions) and that its greedy step is the argmax of the
// runner's own logits.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include "src/bench/bench_loop.h"
#include "src/engine/cpu_runner.h"
#include "src/model/weights.h"

namespace fs = std::filesystem;
using namespace awq;

namespace {

std::unique_ptr<ModelRunner> tiny_runner(int context) {
  auto w = std::make_shared<const ModelWeights>(load_model(fs::path(AWQRUN_SOURCE_DIR) / "tests/data/engine/llama_gqa2"));
  CpuRunnerOptions o;
  o.threads = 1;
  o.max_context = context;
  return make_cpu_runner(w, o);
}

}  // namespace

TEST_CASE("greedy step on the CPU is the argmax of forward's logits", "[bench]") {
  auto runner = tiny_runner(64);
  const GreedyStep step = make_greedy_step(*runner);
  const std::vector<int> prompt = {5, 17, 250, 3, 99, 42};
  const int id = step(prompt, 0);
  std::vector<float> logits;
  runner->forward(prompt, 0, false, logits);
  REQUIRE(logits.size() == size_t(runner->config().vocab_size));
  CHECK(id == int(std::max_element(logits.begin(), logits.end()) - logits.begin()));
  const int next = step(std::span<const int>(&id, 1), int(prompt.size()));
  runner->forward(std::span<const int>(&id, 1), int(prompt.size()), false, logits);
  CHECK(next == int(std::max_element(logits.begin(), logits.end()) - logits.begin()));
}

TEST_CASE("time_length runs warm-up, then reps of one prefill and L decode steps", "[bench]") {
  auto runner = tiny_runner(32);
  const GreedyStep inner = make_greedy_step(*runner);
  std::vector<std::pair<size_t, int>> calls;  // (tokens, n_past) of every forward
  const GreedyStep recording = [&](std::span<const int> tokens, int n_past) {
    calls.emplace_back(tokens.size(), n_past);
    return inner(tokens, n_past);
  };
  int notified = 0;
  LengthRunOptions o;
  o.length = 16;  // 2 x 16 = the whole context of 32
  o.reps = 3;
  o.warmup_steps = 2;
  o.vocab_size = runner->config().vocab_size;
  o.on_step = [&] { ++notified; };
  const LengthTimings t = time_length(recording, o);

  CHECK(t.prefill_s.size() == 3);
  CHECK(t.decode_step_s.size() == 3 * 16);
  CHECK(std::all_of(t.decode_step_s.begin(), t.decode_step_s.end(), [](double s) { return s > 0; }));
  const size_t expected_calls = 1 + 2 + 3 * (1 + 16);
  REQUIRE(calls.size() == expected_calls);
  CHECK(notified == int(expected_calls));
  CHECK(calls[0] == std::pair<size_t, int>(16, 0));
  CHECK(calls[1] == std::pair<size_t, int>(1, 16));
  CHECK(calls[2] == std::pair<size_t, int>(1, 17));
  for (int rep = 0; rep < 3; ++rep) {
    const size_t first = 3 + size_t(rep) * 17;
    CHECK(calls[first] == std::pair<size_t, int>(16, 0));
    for (int i = 0; i < 16; ++i) CHECK(calls[first + 1 + i] == std::pair<size_t, int>(1, 16 + i));
  }
}
