// Sampling on the GPU through a LogitPool (sampler.h): the top_candidates
// kernel against a host selection on rows with many ties, decode_rows_top
// and prefill_slots_top against decode_rows' and prefill_slots' logits
// (continuous batching), and generation
// with sampling through the pool against the same runner handing over whole
// rows (AWQRUN_NO_LOGIT_POOL=1): the same seed must give the same tokens.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>

#include "cuda/cuda_runner.h"
#include "cuda/device_info.h"
#include "cuda/launch.h"
#include "src/engine/generator.h"
#include "src/tokenizer/tokenizer.h"
#include "tests/cuda/runner_test_util.h"

namespace awq {

// Every logit of `row` >= its count-th largest, by id.
std::vector<int> host_selection(const float* row, int vocab, int count) {
  std::vector<float> sorted(row, row + vocab);
  std::nth_element(sorted.begin(), sorted.begin() + count - 1, sorted.end(), std::greater<float>());
  std::vector<int> ids;
  for (int i = 0; i < vocab; ++i)
    if (row[i] >= sorted[size_t(count - 1)]) ids.push_back(i);
  return ids;
}

// A runner's pool of `count` for a row of logits: none for count 0, else the
// ids of host_selection (in any order).
void check_pool_ids(const LogitPool& pool, const float* row, int vocab, int count) {
  if (count == 0) {
    CHECK(pool.ids.empty());
    return;
  }
  std::vector<int> got = pool.ids;
  std::sort(got.begin(), got.end());
  CHECK(got == host_selection(row, vocab, count));
}

TEST_CASE("top_candidates returns every logit >= the count-th largest", "[cuda][ops][sampling]") {
  cuda::select_device(0);
  auto& rng = test::rng();
  const int counts[] = {1, 2, 50, 700, 1000};
  const int rows = int(std::size(counts));
  cuda::DeviceBuffer<int> ids(size_t(rows) * (kMaxLogitPool + 1)), dcounts{std::span<const int>(counts)};
  cuda::DeviceBuffer<float> values(size_t(rows) * kMaxLogitPool);
  for (const int vocab : {1000, 32000, 128256}) {
    // Rows of logits on a grid of 1/16 (ties everywhere), negative and
    // positive, with a few large ones.
    std::vector<float> logits(size_t(rows) * vocab);
    for (float& l : logits) l = float(int(rng() % 257) - 128) / 16.f;
    for (int i = 0; i < 60; ++i) logits[rng() % logits.size()] = 30.f + float(i % 3);
    cuda::DeviceBuffer<float> dl{std::span<const float>(logits)};
    cuda::device_memset(ids.get(), 0xff, ids.bytes());
    cuda::top_candidates(dl.get(), rows, vocab, dcounts.get(), kMaxLogitPool, ids.get(), values.get(), nullptr);
    const auto got_ids = ids.download();
    const auto got_values = values.download();
    for (int r = 0; r < rows; ++r) {
      const float* row = logits.data() + size_t(r) * vocab;
      const std::vector<int> expect = host_selection(row, vocab, counts[r]);
      const int* rid = got_ids.data() + size_t(r) * (kMaxLogitPool + 1);
      const int n = rid[kMaxLogitPool];
      INFO("vocab " << vocab << " row " << r << " count " << counts[r]);
      CHECK(n == int(expect.size()));
      if (n > kMaxLogitPool || n != int(expect.size())) continue;  // reported, not written
      std::vector<int> got(rid, rid + n);
      size_t wrong_values = 0;
      for (int i = 0; i < n; ++i)
        wrong_values += got[size_t(i)] < 0 || got[size_t(i)] >= vocab ||
                        got_values[size_t(r) * kMaxLogitPool + size_t(i)] != row[got[size_t(i)]];
      std::sort(got.begin(), got.end());
      CHECK(got == expect);
      CHECK(wrong_values == 0);
    }
  }
}

TEST_CASE("decode_rows_top leaves each row's pool of the logits decode_rows gives", "[cuda][runner][sampling]") {
  const test::TempSynthModel model("mistral-7b", 2);
  INFO("synthetic seed " << model.seed);
  auto weights = std::make_shared<const ModelWeights>(load_model(model.dir));
  const int vocab = weights->config.vocab_size, n = 6;
  CudaRunnerOptions opt;
  opt.max_context = 64;
  opt.sequences = n;
  auto runner = make_cuda_runner(weights, opt);
  std::vector<int> prompt(10);
  for (int& t : prompt) t = int(test::rng()() % unsigned(vocab));
  std::vector<SlotPrompt> prompts;
  for (int s = 0; s < n; ++s) prompts.push_back({s, prompt, 0});
  std::vector<int> ids, ids_top;
  runner->prefill_slots(prompts, ids, nullptr);
  const std::vector<int> counts = {40, 0, 1, 300, 45, 7};  // 0: a greedy row, no pool
  for (int step = 0; step < 4; ++step) {  // a row count's third step replays a graph
    std::vector<DecodeRow> rows;
    for (int s = 0; s < n; ++s) rows.push_back({s, int(test::rng()() % unsigned(vocab)), 10 + step});
    std::vector<float> logits;
    runner->decode_rows(rows, ids, &logits);
    std::vector<LogitPool> pools;
    REQUIRE(runner->decode_rows_top(rows, counts, ids_top, pools));  // the same positions again: the same logits
    CHECK(ids_top == ids);
    for (int r = 0; r < n; ++r) {
      INFO("step " << step << " row " << r);
      check_pool_ids(pools[size_t(r)], logits.data() + size_t(r) * vocab, vocab, counts[size_t(r)]);
    }
  }
}

TEST_CASE("prefill_slots_top leaves each prompt's pool of the logits prefill_slots gives", "[cuda][runner][sampling]") {
  const test::TempSynthModel model("mistral-7b", 2);
  INFO("synthetic seed " << model.seed);
  auto weights = std::make_shared<const ModelWeights>(load_model(model.dir));
  const int vocab = weights->config.vocab_size;
  CudaRunnerOptions opt;
  opt.max_context = 2100;
  opt.sequences = 5;
  auto runner = make_cuda_runner(weights, opt);
  // Prompt 2 is longer than a pass (its own passes); the others share one.
  std::vector<std::vector<int>> prompts = {std::vector<int>(12), std::vector<int>(3), std::vector<int>(2060),
                                           std::vector<int>(40), std::vector<int>(7)};
  for (auto& p : prompts)
    for (int& t : p) t = int(test::rng()() % unsigned(vocab));
  std::vector<SlotPrompt> slots;
  for (int s = 0; s < 5; ++s) slots.push_back({4 - s, prompts[size_t(s)], 0});
  const std::vector<int> counts = {40, 0, 300, 1, 45};  // 0: a greedy prompt, no pool
  std::vector<int> ids, ids_top;
  std::vector<float> logits;
  runner->prefill_slots(slots, ids, &logits);
  std::vector<LogitPool> pools;
  REQUIRE(runner->prefill_slots_top(slots, counts, ids_top, pools));  // the same positions again: the same logits
  CHECK(ids_top == ids);
  REQUIRE(pools.size() == slots.size());
  for (size_t r = 0; r < slots.size(); ++r) {
    INFO("prompt " << r << " of " << slots[r].tokens.size() << " tokens, count " << counts[r]);
    check_pool_ids(pools[r], logits.data() + r * vocab, vocab, counts[r]);
    for (size_t i = 0; i < pools[r].ids.size(); ++i)
      CHECK(pools[r].values[i] == logits[r * vocab + size_t(pools[r].ids[i])]);
  }
}

TEST_CASE("sampled generation through the logit pool equals the whole-row path", "[cuda][runner][sampling]") {
  const char* env = std::getenv("AWQRUN_SOURCE_DIR");  // scripts/device_test runs from another checkout
  const auto dir = std::filesystem::path(env ? env : AWQRUN_SOURCE_DIR) / "tests" / "data" / "engine" / "llama_gqa2";
  auto weights = std::make_shared<const ModelWeights>(load_model(dir));
  const Tokenizer tokenizer = Tokenizer::load(dir);
  CudaRunnerOptions opt;
  opt.max_context = 128;
  auto pooled = make_cuda_runner(weights, opt);
  ::setenv("AWQRUN_NO_LOGIT_POOL", "1", 1);
  auto whole = make_cuda_runner(weights, opt);
  ::unsetenv("AWQRUN_NO_LOGIT_POOL");

  std::vector<int> prompt(20);
  for (int& t : prompt) t = int(test::rng()() % unsigned(weights->config.vocab_size));
  for (const float penalty : {1.f, 1.3f}) {
    GenerateOptions g;
    g.max_new_tokens = 24;
    g.sampling.temperature = 0.9f;
    g.sampling.top_k = 40;
    g.sampling.top_p = 0.95f;
    g.sampling.repeat_penalty = penalty;
    g.sampling.seed = test::rng()();
    INFO("penalty " << penalty << " seed " << g.sampling.seed);
    const GenerateResult a = generate(*pooled, tokenizer, prompt, g, nullptr);
    const GenerateResult b = generate(*whole, tokenizer, prompt, g, nullptr);
    CHECK(a.tokens.size() == 24);
    CHECK(a.tokens == b.tokens);
  }
}

}  // namespace awq
