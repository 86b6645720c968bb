// quantize_rtn against AutoAWQ's pseudo_quantize_tensor run in torch fp16
// (tests/data/gguf/quantize_rtn.json, from scripts/verify_conversion.py
// goldens), plus the RTN error bound on fresh random weights in float64.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "src/common/half.h"
#include "src/model/awq_quantize.h"

using namespace awq;

TEST_CASE("quantize_rtn reproduces AutoAWQ exactly", "[quantize]") {
  std::ifstream in(std::string(AWQRUN_SOURCE_DIR) + "/tests/data/gguf/quantize_rtn.json");
  REQUIRE(in.good());
  const nlohmann::json g = nlohmann::json::parse(in);
  REQUIRE(g["cases"].size() >= 3);
  for (const auto& c : g["cases"]) {
    const int out = c["out"], in_f = c["in"], group = c["group_size"];
    INFO("case " << out << "x" << in_f << " group " << group);
    const std::vector<float> w = c["w"].get<std::vector<float>>();
    const QuantLinear q = quantize_rtn(w.data(), out, in_f, group);
    const auto want_q = c["q"].get<std::vector<int>>();
    const auto want_z = c["zeros"].get<std::vector<int>>();
    const auto want_s = c["scales_f16_bits"].get<std::vector<uint16_t>>();
    int bad_q = 0, bad_z = 0, bad_s = 0;
    for (int o = 0; o < out; ++o)
      for (int i = 0; i < in_f; ++i) bad_q += q.q(o, i) != want_q[size_t(o) * in_f + i];
    for (int o = 0; o < out; ++o)
      for (int k = 0; k < in_f / group; ++k) {
        const size_t at = size_t(o) * (in_f / group) + k;
        bad_z += q.zero(o, k) != want_z[at];
        bad_s += q.scales[at] != want_s[at];
      }
    CHECK(bad_q == 0);
    CHECK(bad_z == 0);
    CHECK(bad_s == 0);
  }
}

TEST_CASE("quantize_rtn error stays within half a step (float64 check)", "[quantize]") {
  std::mt19937 rng(99);
  std::normal_distribution<float> normal(0.f, 0.05f);
  const int out = 40, in = 576, group = 64;
  std::vector<float> w(size_t(out) * in);
  for (float& v : w) v = normal(rng);
  const QuantLinear q = quantize_rtn(w.data(), out, in, group);
  for (int o = 0; o < out; ++o)
    for (int g = 0; g < in / group; ++g) {
      double lo = 1e30, hi = -1e30;
      for (int k = 0; k < group; ++k) {
        const double v = fp16_to_float(float_to_fp16(w[size_t(o) * in + g * group + k]));
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      const double step = (hi - lo) / 15.0;
      CHECK(std::abs(double(q.scale(o, g)) - step) <= step * 1e-3);
      for (int k = 0; k < group; ++k) {
        const int i = g * group + k;
        const double err = std::abs(double(q.weight(o, i)) - double(w[size_t(o) * in + i]));
        // Half a step, plus the rounding of the zero point (another half) and of fp16.
        CHECK(err <= step * 1.01 + 1e-3 * std::abs(double(w[size_t(o) * in + i])));
      }
    }
}

TEST_CASE("quantize_rtn rejects a group size that does not divide the row", "[quantize]") {
  std::vector<float> w(2 * 100, 0.1f);
  CHECK_THROWS(quantize_rtn(w.data(), 2, 100, 64));
}
