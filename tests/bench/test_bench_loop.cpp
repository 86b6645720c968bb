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

TEST_CASE("greedy driver on the CPU: the argmax of forward's logits, step after step", "[bench]") {
  auto runner = tiny_runner(64);
  const GreedyDriver driver = make_greedy_driver(*runner);
  const std::vector<int> prompt = {5, 17, 250, 3, 99, 42};
  const int id = driver.prefill(prompt, 0);
  std::vector<float> logits;
  runner->forward(prompt, 0, false, logits);
  REQUIRE(logits.size() == size_t(runner->config().vocab_size));
  CHECK(id == int(std::max_element(logits.begin(), logits.end()) - logits.begin()));
  std::vector<int> chained;
  driver.decode(id, int(prompt.size()), 3, [&](int next) {
    chained.push_back(next);
    return true;
  });
  REQUIRE(chained.size() == 3);
  int token = id;
  for (int i = 0; i < 3; ++i) {
    runner->forward(std::span<const int>(&token, 1), int(prompt.size()) + i, false, logits);
    token = int(std::max_element(logits.begin(), logits.end()) - logits.begin());
    CHECK(chained[size_t(i)] == token);
  }
  // on_token returning false ends the chain.
  int calls = 0;
  driver.decode(id, int(prompt.size()), 5, [&](int) { return ++calls < 2; });
  CHECK(calls == 2);
  CHECK_THROWS_WITH(driver.decode(id, 60, 5, [](int) { return true; }), Catch::Contains("exceed the context"));
}

TEST_CASE("time_length runs warm-up, then reps of one prefill and L decode steps", "[bench]") {
  auto runner = tiny_runner(32);
  const GreedyDriver inner = make_greedy_driver(*runner);
  std::vector<std::pair<size_t, int>> prefills;             // (tokens, n_past) of every prefill
  std::vector<std::pair<int, int>> chains;                   // (n_past, steps) of every decode chain
  const GreedyDriver recording{[&](std::span<const int> tokens, int n_past) {
                                 prefills.emplace_back(tokens.size(), n_past);
                                 return inner.prefill(tokens, n_past);
                               },
                               [&](int token, int n_past, int steps, const std::function<bool(int)>& on_token) {
                                 chains.emplace_back(n_past, steps);
                                 inner.decode(token, n_past, steps, on_token);
                               }};
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
  REQUIRE(prefills.size() == 4);  // warm-up + 3 reps, each of the 16-token prompt at 0
  for (const auto& p : prefills) CHECK(p == std::pair<size_t, int>(16, 0));
  REQUIRE(chains.size() == 4);
  CHECK(chains[0] == std::pair<int, int>(16, 2));  // warm-up steps
  for (int rep = 1; rep <= 3; ++rep) CHECK(chains[size_t(rep)] == std::pair<int, int>(16, 16));
  CHECK(notified == 4 + 2 + 3 * 16);
}
