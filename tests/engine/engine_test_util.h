// Helpers shared by the engine tests.
#pragma once
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <vector>

#include "src/engine/cpu_kernels.h"

namespace awq::test {

inline std::filesystem::path engine_data_dir() {
  return std::filesystem::path(AWQRUN_SOURCE_DIR) / "tests" / "data" / "engine";
}

inline nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) throw std::runtime_error("cannot open " + p.string());
  return nlohmann::json::parse(in);
}

// Scalar always; AVX2 and AVX-512 when this CPU has them.
inline std::vector<SimdLevel> available_simd_levels() {
  std::vector<SimdLevel> levels{SimdLevel::Scalar};
  if (detect_simd_level() >= SimdLevel::Avx2) levels.push_back(SimdLevel::Avx2);
  if (detect_simd_level() >= SimdLevel::Avx512) levels.push_back(SimdLevel::Avx512);
  return levels;
}

inline std::vector<float> random_floats(std::mt19937& rng, size_t n, float lo = -1.f, float hi = 1.f) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// ||out - ref|| / ||ref|| over the whole vector.
inline double rel_error(const std::vector<float>& out, const std::vector<double>& ref) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    diff += (out[i] - ref[i]) * (out[i] - ref[i]);
    norm += ref[i] * ref[i];
  }
  return std::sqrt(diff / norm);
}

// The default model and its Transformers goldens, or nothing (with a WARN
// naming what is missing) on a machine that has not fetched the model.
struct SmolLM2Golden {
  std::filesystem::path model_dir;
  nlohmann::json golden;
};

inline std::optional<SmolLM2Golden> smollm2_golden() {
  const auto model_dir = std::filesystem::path(AWQRUN_SOURCE_DIR) / "models" / "SmolLM2-135M-Instruct";
  const auto golden_path = engine_data_dir() / "smollm2_golden.json";
  if (!std::filesystem::exists(model_dir / "config.json") || !std::filesystem::exists(golden_path)) {
    WARN("skipped: needs " << model_dir.string() << " (scripts/fetch_default_model) and " << golden_path.string());
    return std::nullopt;
  }
  return SmolLM2Golden{model_dir, read_json(golden_path)};
}

}  // namespace awq::test
