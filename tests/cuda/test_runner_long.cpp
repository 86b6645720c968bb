// make_cuda_runner on a prompt longer than one pass through the layers
// (2048 tokens) and than one piece of all-position logits (512 rows), against
// the CPU engine: the second pass attends to the first pass's cache through
// the tensor-core prefill kernel, and the decode steps after it split a
// 2.6k-token context over the decode attention blocks. The "tiny" synthetic
// preset (hidden 256, head_dim 64, 4 heads over 2 KV heads) keeps the CPU
// side short.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "cuda/cuda_runner.h"
#include "src/engine/cpu_runner.h"
#include "tests/cuda/test_util.h"
#include "tools/synth_checkpoint/synth_checkpoint.h"

namespace awq {
namespace {

double worst_row_error(const std::vector<float>& got, const std::vector<float>& ref, int rows, int vocab) {
  double worst = 0;
  for (int r = 0; r < rows; ++r) {
    double diff = 0, norm = 0;
    for (int i = 0; i < vocab; ++i) {
      const double g = got[size_t(r) * vocab + i], e = ref[size_t(r) * vocab + i];
      if (!std::isfinite(g)) return INFINITY;
      diff += (g - e) * (g - e);
      norm += e * e;
    }
    worst = std::max(worst, std::sqrt(diff / norm));
  }
  return worst;
}

}  // namespace

TEST_CASE("cuda runner matches the cpu engine on a prompt of several passes", "[cuda][runner]") {
  const auto dir = std::filesystem::temp_directory_path() / ("awqrun-test-long-" + std::to_string(::getpid()));
  SynthOptions synth;
  synth.preset = "tiny";
  synth.layers = 2;
  synth.out_dir = dir;
  synth.seed = test::rng()();
  write_synthetic_checkpoint(synth);
  auto weights = std::make_shared<const ModelWeights>(load_model(dir));
  const int vocab = weights->config.vocab_size;
  INFO("synthetic seed " << synth.seed);

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
    errors.push_back(worst_row_error(std::vector<float>(got.begin() + r * vocab, got.begin() + (r + 1) * vocab),
                                     std::vector<float>(ref.begin() + r * vocab, ref.begin() + (r + 1) * vocab), 1, vocab));
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
  CHECK(worst_row_error(pieces, got, int(prompt.size()), vocab) < 1e-3);

  std::vector<float> cpu_logits, gpu_logits;
  for (int i = 0; i < 3; ++i) {
    const int pos = int(prompt.size()) + i, next = int(test::rng()() % unsigned(vocab));
    cpu->forward(std::span<const int>(&next, 1), pos, false, cpu_logits);
    gpu->forward(std::span<const int>(&next, 1), pos, false, gpu_logits);
    INFO("decode step " << i);
    CHECK(worst_row_error(gpu_logits, cpu_logits, 1, vocab) < 1e-2);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace awq
