// make_cuda_runner end to end on the tiny random AWQ checkpoints of
// tests/data/engine (HF transformers goldens, scripts/gen_engine_goldens.py):
// prefill logits, decode-step logits (the CUDA-graph path) and greedy tokens.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cuda/cuda_runner.h"
#include "src/common/error.h"

namespace awq {
namespace {

using nlohmann::json;

const char* const kModels[] = {"llama_gqa2", "llama3_rope_tied", "mistral_swa", "qwen2_bias",
                               "llama_mha_linear_rope", "llama_gqa4", "llama_g128", "llama_not_convert"};

// The device machine runs the binary from another checkout: AWQRUN_SOURCE_DIR
// in the environment (scripts/device_test sets it) overrides the build's path.
std::filesystem::path data_dir() {
  const char* env = std::getenv("AWQRUN_SOURCE_DIR");
  return std::filesystem::path(env ? env : AWQRUN_SOURCE_DIR) / "tests" / "data" / "engine";
}

double row_error(const float* out, const json& ref, int vocab) {
  double diff = 0, norm = 0;
  for (int i = 0; i < vocab; ++i) {
    const double r = ref[size_t(i)].get<double>();
    if (!std::isfinite(out[i])) return INFINITY;
    diff += (out[i] - r) * (out[i] - r);
    norm += r * r;
  }
  return std::sqrt(diff / norm);
}

}  // namespace

TEST_CASE("cuda runner matches transformers on tiny models", "[cuda][runner][sanitize]") {
  for (const char* name : kModels) {
    for (CudaKernelFamily family : {CudaKernelFamily::Auto, CudaKernelFamily::Gemm, CudaKernelFamily::Exllama}) {
      INFO(name << " family " << int(family));
      std::ifstream f(data_dir() / name / "golden.json");
      const json golden = json::parse(f);
      auto weights = std::make_shared<const ModelWeights>(load_model(data_dir() / name));
      CudaRunnerOptions opt;
      opt.max_context = 256;
      opt.kernels = family;
      auto runner = make_cuda_runner(weights, opt);
      const int vocab = weights->config.vocab_size;
      std::vector<float> logits;
      for (const json& seq : golden["sequences"]) {
        const auto ids = seq["ids"].get<std::vector<int>>();
        runner->forward(ids, 0, true, logits);
        double worst = 0;
        for (size_t t = 0; t < ids.size(); ++t)
          worst = std::max(worst, row_error(&logits[t * vocab], seq["logits"][t], vocab));
        INFO("prefill of " << ids.size() << " tokens: max relative error " << worst);
        CHECK(worst < 1e-2);
        // Decode path: prefill half, then one token per call against the same rows.
        const size_t half = ids.size() / 2;
        if (half == 0) continue;
        runner->forward(std::span<const int>(ids.data(), half), 0, false, logits);
        double worst_decode = 0;
        for (size_t t = half; t < ids.size(); ++t) {
          runner->forward(std::span<const int>(&ids[t], 1), int(t), false, logits);
          worst_decode = std::max(worst_decode, row_error(logits.data(), seq["logits"][t], vocab));
        }
        INFO("decode steps: max relative error " << worst_decode);
        CHECK(worst_decode < 1e-2);
      }
      // Greedy on the device: the token ids only.
      const auto prompt = golden["greedy"]["prompt"].get<std::vector<int>>();
      const auto expected = golden["greedy"]["tokens"].get<std::vector<int>>();
      std::vector<int> got{runner->forward_greedy(prompt, 0)};
      int n_past = int(prompt.size());
      while (got.size() < expected.size()) got.push_back(runner->forward_greedy(std::span<const int>(&got.back(), 1), n_past++));
      size_t agree = 0;
      while (agree < got.size() && got[agree] == expected[agree]) ++agree;
      INFO("greedy agrees with transformers for " << agree << " of " << expected.size() << " tokens");
      CHECK(agree >= std::min<size_t>(4, expected.size()));  // fp16 may flip a near-tie later on
      // The chained decode (each step's argmax fed on the device, the next
      // step enqueued before the id is read) gives the same ids bit for bit;
      // a chain stopped early and a new one from where it stopped as well.
      const int steps = int(got.size()) - 1, start = int(prompt.size());
      REQUIRE(runner->forward_greedy(prompt, 0) == got[0]);
      std::vector<int> chained;
      runner->greedy_decode(got[0], start, steps, [&](int id) {
        chained.push_back(id);
        return true;
      });
      CHECK(chained == std::vector<int>(got.begin() + 1, got.end()));
      if (steps >= 4) {
        REQUIRE(runner->forward_greedy(prompt, 0) == got[0]);
        std::vector<int> parts;
        runner->greedy_decode(got[0], start, steps, [&](int id) {
          parts.push_back(id);
          return parts.size() < 2;  // the chain has enqueued a third step by now
        });
        runner->greedy_decode(parts.back(), start + 2, steps - 2, [&](int id) {
          parts.push_back(id);
          return true;
        });
        CHECK(parts == chained);
      }
    }
  }
}

TEST_CASE("cuda runner rejects bad requests with clear errors", "[cuda][runner]") {
  auto weights = std::make_shared<const ModelWeights>(load_model(data_dir() / "llama_gqa2"));
  CudaRunnerOptions bad_device;
  bad_device.device = 99;
  try {
    make_cuda_runner(weights, bad_device);
    FAIL("no error for cuda:99");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Device);
  }
  CudaRunnerOptions opt;
  opt.max_context = 16;
  auto runner = make_cuda_runner(weights, opt);
  std::vector<float> logits;
  const std::vector<int> too_long(17, 1);
  CHECK_THROWS_AS(runner->forward(too_long, 0, false, logits), Error);
  const std::vector<int> bad_id{weights->config.vocab_size};
  CHECK_THROWS_AS(runner->forward(bad_id, 0, false, logits), Error);
}

}  // namespace awq
