// make_cuda_runner against the CPU engine (the reference) on a synthetic
// checkpoint with Mistral-7B's real shapes - hidden 4096, FFN 14336, 32 heads
// over 8 KV heads, vocab 32000, g128 - cut to 2 of its 32 layers so that the
// CPU side stays short: logits of every prompt position, a decode step (the
// CUDA-graph path) and greedy tokens, on a fresh random prompt; every kernel
// family, fused and unfused modules; fp16 and bf16 activations.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>

#include "cuda/cuda_runner.h"
#include "src/common/error.h"
#include "src/engine/cpu_runner.h"
#include "tests/cuda/runner_test_util.h"

namespace awq {

using test::max_row_error;

namespace {
struct Config {
  CudaKernelFamily family;
  bool fused;
};
}  // namespace

TEST_CASE("cuda runner matches the cpu engine on a Mistral-7B-shaped model", "[cuda][runner][7b]") {
  const test::TempSynthModel model("mistral-7b", 2);
  auto weights = std::make_shared<const ModelWeights>(load_model(model.dir));
  const int vocab = weights->config.vocab_size;

  std::vector<int> prompt(24);
  for (int& t : prompt) t = int(test::rng()() % unsigned(vocab));
  INFO("synthetic seed " << model.seed);

  CpuRunnerOptions cpu_opt;
  cpu_opt.max_context = 64;
  auto cpu = make_cpu_runner(weights, cpu_opt);
  std::vector<float> ref;
  cpu->forward(prompt, 0, true, ref);
  // fp16 rounding alone moves some random checkpoints' logits past 1e-2:
  // the CPU engine's own Float16 mode was 0.0115 from its Float32 mode on 1
  // of 6 fresh checkpoints (0.0005-0.0022 on the others), and on such a
  // checkpoint every GPU family fails a fixed 1e-2 at once. The prompt's
  // bound is therefore 1e-2 or 3x what fp16 rounding does to this
  // checkpoint on the CPU, whichever is larger (a broken kernel is off by
  // O(1) either way).
  CpuRunnerOptions half_opt = cpu_opt;
  half_opt.dtype = ActivationDType::Float16;
  std::vector<float> ref_half;
  make_cpu_runner(weights, half_opt)->forward(prompt, 0, true, ref_half);
  const double fp16_spread = max_row_error(ref_half, ref, int(prompt.size()), vocab);
  const double prompt_bound = std::max(1e-2, 3 * fp16_spread);
  INFO("cpu float16 vs float32 on this checkpoint: " << fp16_spread);
  for (const Config cfg : {Config{CudaKernelFamily::Auto, true}, Config{CudaKernelFamily::Gemv, true},
                           Config{CudaKernelFamily::Gemm, true}, Config{CudaKernelFamily::Exllama, true},
                           Config{CudaKernelFamily::Auto, false}, Config{CudaKernelFamily::Exllama, false}}) {
    INFO("family " << int(cfg.family) << (cfg.fused ? " fused" : " unfused"));
    CudaRunnerOptions opt;
    opt.max_context = 64;
    opt.kernels = cfg.family;
    opt.fused = cfg.fused;
    auto gpu = make_cuda_runner(weights, opt);
    std::vector<float> got;
    gpu->forward(prompt, 0, true, got);
    // fp16 activations against the float32 reference, as in the tiny-model goldens.
    CHECK(max_row_error(got, ref, int(prompt.size()), vocab) < prompt_bound);

    // Decode steps through the captured graph (each family rewrites the CPU
    // cache from position 24 on), both fed the CPU's greedy tokens. Random
    // weights leave near-ties (at the top of the logits, and in attention:
    // one step in six runs of this test was 1.5-4.6% off in every family at
    // once, the reference itself being that sensitive there), so one of the
    // four steps may exceed 1e-2 but none 0.1, and the argmax must agree only
    // where the reference's margin is clear of the fp16 error.
    std::vector<float> cpu_logits(ref.end() - vocab, ref.end()), gpu_logits;
    int loose_steps = 0;
    for (int i = 0; i < 4; ++i) {
      const int pos = int(prompt.size()) + i;
      const int next = int(std::max_element(cpu_logits.begin(), cpu_logits.end()) - cpu_logits.begin());
      cpu->forward(std::span<const int>(&next, 1), pos, false, cpu_logits);
      gpu->forward(std::span<const int>(&next, 1), pos, false, gpu_logits);
      INFO("decode step " << i);
      const double err = max_row_error(gpu_logits, cpu_logits, 1, vocab);
      CHECK(err < 0.1);
      if (err >= 1e-2) ++loose_steps;
      CHECK(loose_steps <= 1);
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
}

// bf16 activations against the CPU engine in its BFloat16 mode, which rounds
// to bf16 where the GPU stores activations (the GPU's residual stream stays
// fp32 and its scales are bf16, so the two differ by a few bf16 roundings:
// ~2^-9 relative each). A kernel reading bf16 bits as fp16, or the fp16
// zero-point bias in bf16, is off by O(1).
TEST_CASE("cuda runner in bf16 matches the cpu engine on a Mistral-7B-shaped model", "[cuda][runner][7b][bf16]") {
  const test::TempSynthModel model("mistral-7b", 2);
  auto weights = std::make_shared<const ModelWeights>(load_model(model.dir));
  const int vocab = weights->config.vocab_size;

  std::vector<int> prompt(40);  // above 16 tokens: the GEMM kernel and dequantize + cuBLAS run too
  for (int& t : prompt) t = int(test::rng()() % unsigned(vocab));
  INFO("synthetic seed " << model.seed);

  CpuRunnerOptions cpu_opt;
  cpu_opt.max_context = 64;
  cpu_opt.dtype = ActivationDType::BFloat16;
  auto cpu = make_cpu_runner(weights, cpu_opt);
  std::vector<float> ref;
  cpu->forward(prompt, 0, true, ref);
  for (const Config cfg : {Config{CudaKernelFamily::Auto, true}, Config{CudaKernelFamily::Gemv, true},
                           Config{CudaKernelFamily::Gemm, true}, Config{CudaKernelFamily::Auto, false}}) {
    INFO("family " << int(cfg.family) << (cfg.fused ? " fused" : " unfused"));
    CudaRunnerOptions opt;
    opt.max_context = 64;
    opt.kernels = cfg.family;
    opt.fused = cfg.fused;
    opt.act = cuda::Act::BF16;
    auto gpu = make_cuda_runner(weights, opt);
    std::vector<float> got;
    gpu->forward(prompt, 0, true, got);
    const double prefill_err = max_row_error(got, ref, int(prompt.size()), vocab);
    std::vector<float> cpu_logits(ref.end() - vocab, ref.end()), gpu_logits;
    const int next = int(std::max_element(cpu_logits.begin(), cpu_logits.end()) - cpu_logits.begin());
    cpu->forward(std::span<const int>(&next, 1), int(prompt.size()), false, cpu_logits);
    gpu->forward(std::span<const int>(&next, 1), int(prompt.size()), false, gpu_logits);
    const double decode_err = max_row_error(gpu_logits, cpu_logits, 1, vocab);
    WARN("bf16 relative error: prefill " << prefill_err << ", decode " << decode_err);
    CHECK(prefill_err < 5e-2);
    CHECK(decode_err < 5e-2);
  }
  CudaRunnerOptions exllama;
  exllama.kernels = CudaKernelFamily::Exllama;
  exllama.act = cuda::Act::BF16;
  CHECK_THROWS_AS(make_cuda_runner(weights, exllama), Error);
}

}  // namespace awq
