// make_cuda_runner against the CPU engine (the reference) on a synthetic
// checkpoint with Mistral-7B's real shapes - hidden 4096, FFN 14336, 32 heads
// over 8 KV heads, vocab 32000, g128 - cut to 2 of its 32 layers so that the
// CPU side stays short: logits of every prompt position, a decode step (the
// CUDA-graph path) and greedy tokens, on a fresh random prompt.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>

#include "cuda/cuda_runner.h"
#include "src/engine/cpu_runner.h"
#include "tests/cuda/test_util.h"
#include "tools/synth_checkpoint/synth_checkpoint.h"

namespace awq {
namespace {

double max_row_error(const std::vector<float>& got, const std::vector<float>& ref, int rows, int vocab) {
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

TEST_CASE("cuda runner matches the cpu engine on a Mistral-7B-shaped model", "[cuda][runner][7b]") {
  const auto dir = std::filesystem::temp_directory_path() / ("awqrun-test-7b-" + std::to_string(::getpid()));
  SynthOptions synth;
  synth.preset = "mistral-7b";
  synth.layers = 2;
  synth.out_dir = dir;
  synth.seed = test::rng()();
  write_synthetic_checkpoint(synth);
  auto weights = std::make_shared<const ModelWeights>(load_model(dir));
  const int vocab = weights->config.vocab_size;

  std::vector<int> prompt(24);
  for (int& t : prompt) t = int(test::rng()() % unsigned(vocab));
  INFO("synthetic seed " << synth.seed);

  CpuRunnerOptions cpu_opt;
  cpu_opt.max_context = 64;
  auto cpu = make_cpu_runner(weights, cpu_opt);
  std::vector<float> ref;
  cpu->forward(prompt, 0, true, ref);
  for (CudaKernelFamily family : {CudaKernelFamily::Auto, CudaKernelFamily::Gemv, CudaKernelFamily::Gemm}) {
    INFO("family " << int(family));
    CudaRunnerOptions opt;
    opt.max_context = 64;
    opt.kernels = family;
    auto gpu = make_cuda_runner(weights, opt);
    std::vector<float> got;
    gpu->forward(prompt, 0, true, got);
    // fp16 activations against the float32 reference, as in the tiny-model goldens.
    CHECK(max_row_error(got, ref, int(prompt.size()), vocab) < 1e-2);

    // Decode steps through the captured graph (each family rewrites the CPU
    // cache from position 24 on), both fed the CPU's greedy tokens. Random weights leave near-ties at the top, so the argmax must
    // agree only where the reference's margin is clear of the fp16 error.
    std::vector<float> cpu_logits(ref.end() - vocab, ref.end()), gpu_logits;
    for (int i = 0; i < 4; ++i) {
      const int pos = int(prompt.size()) + i;
      const int next = int(std::max_element(cpu_logits.begin(), cpu_logits.end()) - cpu_logits.begin());
      cpu->forward(std::span<const int>(&next, 1), pos, false, cpu_logits);
      gpu->forward(std::span<const int>(&next, 1), pos, false, gpu_logits);
      INFO("decode step " << i);
      CHECK(max_row_error(gpu_logits, cpu_logits, 1, vocab) < 1e-2);
      std::vector<float> sorted = cpu_logits;
      std::nth_element(sorted.begin(), sorted.begin() + 1, sorted.end(), std::greater<float>());
      const double spread = *std::max_element(sorted.begin(), sorted.end()) - *std::min_element(sorted.begin(), sorted.end());
      if (sorted[0] - sorted[1] > 0.02 * spread)
        CHECK(std::max_element(gpu_logits.begin(), gpu_logits.end()) - gpu_logits.begin() ==
              std::max_element(cpu_logits.begin(), cpu_logits.end()) - cpu_logits.begin());
    }
    // forward_greedy (the device argmax) agrees with the logits it comes from.
    const int last = int(std::max_element(cpu_logits.begin(), cpu_logits.end()) - cpu_logits.begin());
    std::vector<float> check;
    gpu->forward(std::span<const int>(&last, 1), int(prompt.size()) + 4, false, check);
    CHECK(gpu->forward_greedy(std::span<const int>(&last, 1), int(prompt.size()) + 4) ==
          int(std::max_element(check.begin(), check.end()) - check.begin()));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace awq
