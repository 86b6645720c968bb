// The CPU runner against HF transformers on tiny random AWQ checkpoints
// (tests/data/engine/<name>, made by scripts/gen_engine_goldens.py): logits
// at every position within 1e-3 relative error in Float32 mode, the same
// greedy continuation, on every SIMD level this CPU has.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "src/engine/cpu_runner.h"
#include "tests/engine/engine_test_util.h"

using namespace awq;
using nlohmann::json;

namespace {

const char* const kModels[] = {"llama_gqa2", "llama3_rope_tied",  "mistral_swa",       "qwen2_bias",
                               "llama_mha_linear_rope", "llama_gqa4", "llama_g128", "llama_not_convert"};

// Largest per-position relative error ||out - ref|| / ||ref|| over all positions.
double max_rel_error(const std::vector<float>& out, const json& ref_rows, int vocab) {
  double worst = 0;
  for (size_t t = 0; t < ref_rows.size(); ++t) {
    double diff = 0, norm = 0;
    for (int i = 0; i < vocab; ++i) {
      const double r = ref_rows[t][size_t(i)].get<double>();
      diff += (out[t * vocab + i] - r) * (out[t * vocab + i] - r);
      norm += r * r;
    }
    worst = std::max(worst, std::sqrt(diff / norm));
  }
  return worst;
}

int argmax(const float* p, int n) { return int(std::max_element(p, p + n) - p); }

void check_model(const std::string& name, SimdLevel level, ActivationDType dtype, double tolerance,
                 bool check_greedy) {
  const auto dir = test::engine_data_dir() / name;
  const json golden = test::read_json(dir / "golden.json");
  auto weights = std::make_shared<const ModelWeights>(load_model(dir));
  CpuRunnerOptions opt;
  opt.threads = 2;
  opt.simd = level;
  opt.dtype = dtype;
  auto runner = make_cpu_runner(weights, opt);
  const int vocab = weights->config.vocab_size;
  INFO(name << " on " << simd_level_name(level) << ", " << activation_dtype_name(dtype));
  std::vector<float> logits;
  for (const json& seq : golden["sequences"]) {
    const auto ids = seq["ids"].get<std::vector<int>>();
    runner->forward(ids, 0, true, logits);
    const double err = max_rel_error(logits, seq["logits"], vocab);
    INFO("sequence of " << ids.size() << " tokens: max relative error " << err);
    CHECK(err < tolerance);
  }
  if (!check_greedy) return;
  // Greedy: prefill the prompt in one call, then one token per call (the decode path).
  auto prompt = golden["greedy"]["prompt"].get<std::vector<int>>();
  const auto expected = golden["greedy"]["tokens"].get<std::vector<int>>();
  runner->forward(prompt, 0, false, logits);
  std::vector<int> got;
  int n_past = int(prompt.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    got.push_back(argmax(logits.data(), vocab));
    const int next = got.back();
    runner->forward(std::span<const int>(&next, 1), n_past++, false, logits);
  }
  CHECK(got == expected);
}

}  // namespace

TEST_CASE("cpu runner matches transformers on tiny models (float32)", "[engine][golden]") {
  for (const char* name : kModels)
    for (SimdLevel level : test::available_simd_levels()) check_model(name, level, ActivationDType::Float32, 1e-3, true);
}

TEST_CASE("cpu runner stays close to transformers in float16 and bfloat16 modes", "[engine][golden]") {
  // Rounding every activation costs accuracy; these bounds catch a wrong
  // rounding point (errors of order 1), not the rounding itself.
  for (const char* name : kModels) {
    check_model(name, detect_simd_level(), ActivationDType::Float16, 1e-2, false);
    check_model(name, detect_simd_level(), ActivationDType::BFloat16, 0.15, false);
  }
}
