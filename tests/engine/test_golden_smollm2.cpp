// The CPU runner against transformers on the real SmolLM2-135M-Instruct AWQ
// checkpoint (models/, fetched by scripts/fetch_default_model): logits of 64
// probe ids at every position and of the last position's top 20 within 1e-3
// relative error, and the same 64-token greedy continuation. The golden is
// tests/data/engine/smollm2_golden.json (scripts/gen_engine_goldens.py --smollm2).
#include <catch2/catch.hpp>

#include <cmath>

#include "src/engine/cpu_runner.h"
#include "tests/engine/engine_test_util.h"

using namespace awq;

TEST_CASE("cpu runner matches transformers on SmolLM2-135M-Instruct", "[engine][golden][smollm2]") {
  const auto inputs = test::smollm2_golden();
  if (!inputs) {
    SUCCEED();
    return;
  }
  const auto& [model_dir, golden] = *inputs;
  auto weights = std::make_shared<const ModelWeights>(load_model(model_dir));
  auto runner = make_cpu_runner(weights, {.threads = 2, .max_context = 256});
  const int vocab = weights->config.vocab_size;
  const auto probe = golden["probe_ids"].get<std::vector<int>>();
  std::vector<float> logits;
  for (const auto& rec : golden["prompts"]) {
    const auto ids = rec["ids"].get<std::vector<int>>();
    INFO("prompt: " << rec["text"].get<std::string>());
    runner->forward(ids, 0, true, logits);
    double worst = 0;
    for (size_t t = 0; t < ids.size(); ++t) {
      double diff = 0, norm = 0;
      for (size_t j = 0; j < probe.size(); ++j) {
        const double ref = rec["probe_logits"][t][j].get<double>();
        const double got = logits[t * vocab + size_t(probe[j])];
        diff += (got - ref) * (got - ref);
        norm += ref * ref;
      }
      worst = std::max(worst, std::sqrt(diff / norm));
    }
    CHECK(worst < 1e-3);
    const float* last = logits.data() + (ids.size() - 1) * vocab;
    double diff = 0, norm = 0;
    const auto top_ids = rec["top_ids"].get<std::vector<int>>();
    for (size_t j = 0; j < top_ids.size(); ++j) {
      const double ref = rec["top_logits"][j].get<double>();
      diff += (last[top_ids[j]] - ref) * (last[top_ids[j]] - ref);
      norm += ref * ref;
    }
    CHECK(std::sqrt(diff / norm) < 1e-3);
    CHECK(int(std::max_element(last, last + vocab) - last) == top_ids[0]);
    // Greedy: prefill, then one token per forward.
    std::vector<int> got;
    runner->forward(ids, 0, false, logits);
    const auto expected = rec["greedy"].get<std::vector<int>>();
    for (size_t i = 0; i < expected.size(); ++i) {
      got.push_back(int(std::max_element(logits.begin(), logits.end()) - logits.begin()));
      const int next = got.back();
      runner->forward(std::span<const int>(&next, 1), int(ids.size() + i), false, logits);
    }
    CHECK(got == expected);
  }
}
