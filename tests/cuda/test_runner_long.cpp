// make_cuda_runner on a prompt longer than one pass through the layers
// (2048 tokens) and than one piece of all-position logits (512 rows), against
// the CPU engine: the second pass attends to the first pass's cache through
// the tensor-core prefill kernel, and the decode steps after it split a
// 2.6k-token context over the decode attention blocks. The "tiny" synthetic
// preset (hidden 256, head_dim 64, 4 heads over 2 KV heads) keeps the CPU
// side short.
#include <catch2/catch.hpp>

#include <algorithm>

#include "cuda/cuda_runner.h"
#include "src/engine/cpu_runner.h"
#include "tests/cuda/runner_test_util.h"

namespace awq {

TEST_CASE("cuda runner matches the cpu engine on a prompt of several passes", "[cuda][runner]") {
  const test::TempSynthModel model("tiny", 2);
  auto weights = std::make_shared<const ModelWeights>(load_model(model.dir));
  const int vocab = weights->config.vocab_size;
  INFO("synthetic seed " << model.seed);

  std::vector<int> prompt(2600);
  for (int& t : prompt) t = int(test::rng()() % unsigned(vocab));
  const int ctx = 2700;
  CpuRunnerOptions cpu_opt;
  cpu_opt.max_context = ctx;
  auto cpu = make_cpu_runner(weights, cpu_opt);
  std::vector<float> ref;
  cpu->forward(prompt, 0, true, ref);

  CudaRunnerOptions opt;
  opt.max_context = ctx;
  auto gpu = make_cuda_runner(weights, opt);
  std::vector<float> got;
  gpu->forward(prompt, 0, true, got);
  REQUIRE(got.size() == ref.size());
  // fp16 activations against the float32 reference. Most rows agree to
  // ~2e-3, but a random 2-layer model has a heavy tail: on an H200 single
  // rows reached 0.03, 0.06 and 0.26 (three seeds; rows 480 and others, not
  // at the pass boundary at 2048), where peaked attention over near-tied
  // scores turns fp16 rounding of q and k into a different mix of values.
  // So the median and the 90th percentile are held to fp16 accuracy, and the
  // multi-pass machinery is checked exactly below (pieces vs one call).
  std::vector<double> errors;
  for (size_t r = 0; r < prompt.size(); ++r)
    errors.push_back(test::row_error(got, ref, int(r), vocab));
  const auto worst = std::max_element(errors.begin(), errors.end());
  INFO("worst row " << (worst - errors.begin()) << ": " << *worst);
  std::sort(errors.begin(), errors.end());
  CHECK(errors[errors.size() / 2] < 5e-3);
  CHECK(errors[errors.size() * 9 / 10] < 3e-2);

  // The same prompt in 900-token calls (cache carried over) gives the same logits.
  auto gpu2 = make_cuda_runner(weights, opt);
  std::vector<float> pieces, part;
  for (int s0 = 0; s0 < int(prompt.size()); s0 += 900) {
    const int n = std::min<int>(900, int(prompt.size()) - s0);
    gpu2->forward(std::span<const int>(prompt.data() + s0, n), s0, true, part);
    pieces.insert(pieces.end(), part.begin(), part.end());
  }
  CHECK(test::max_row_error(pieces, got, int(prompt.size()), vocab) < 1e-3);

  std::vector<float> cpu_logits, gpu_logits;
  for (int i = 0; i < 3; ++i) {
    const int pos = int(prompt.size()) + i, next = int(test::rng()() % unsigned(vocab));
    cpu->forward(std::span<const int>(&next, 1), pos, false, cpu_logits);
    gpu->forward(std::span<const int>(&next, 1), pos, false, gpu_logits);
    INFO("decode step " << i);
    CHECK(test::max_row_error(gpu_logits, cpu_logits, 1, vocab) < 1e-2);
  }
}

}  // namespace awq
