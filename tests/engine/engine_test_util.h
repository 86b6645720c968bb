// Helpers shared by the engine tests.
#pragma once
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
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

}  // namespace awq::test
