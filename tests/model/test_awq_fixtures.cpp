// unpack_linear against layers packed by AutoAWQ itself (WQLinear_GEMM/GEMV
// from_linear), with the expected weights from AutoAWQ's torch dequantization.
// Fixtures: scripts/make_awq_fixtures.py.
#include <catch2/catch.hpp>

#include <cstring>
#include <nlohmann/json.hpp>

#include "src/model/awq_format.h"
#include "src/model/safetensors.h"

using namespace awq;

namespace {

std::vector<float> floats_of(const TensorView& t) {
  REQUIRE(t.dtype == DType::F32);
  std::vector<float> v(size_t(t.numel()));
  std::memcpy(v.data(), t.data, t.nbytes);
  return v;
}

void check_fixture_file(const std::string& file, AwqLayout layout) {
  const SafetensorsFile sf = SafetensorsFile::open(std::string(AWQRUN_SOURCE_DIR) + "/tests/data/model/" + file);
  const auto cases = nlohmann::json::parse(sf.metadata().at("cases"));
  REQUIRE(cases.size() == 3);
  bool saw_negative_word = false;
  for (const auto& [name, c] : cases.items()) {
    INFO(file << " " << name);
    const int in = c["in_features"], out = c["out_features"], group = c["group_size"];
    const auto& t = sf.tensors();
    const TensorView* bias = c["bias"].get<bool>() ? &t.at(name + ".bias") : nullptr;
    const TensorView& qweight = t.at(name + ".qweight");
    for (int64_t i = 0; i < qweight.numel(); ++i) {
      int32_t w;
      std::memcpy(&w, qweight.data + 4 * i, 4);
      saw_negative_word |= w < 0;
    }
    const QuantLinear l = unpack_linear(layout, name, qweight, t.at(name + ".qzeros"), t.at(name + ".scales"), bias,
                                        in, out, group);
    const std::vector<float> expected = floats_of(t.at(name + ".expected_weight"));
    REQUIRE(expected.size() == size_t(in) * out);
    size_t mismatches = 0;
    bool zero_0 = false, zero_15 = false;
    for (int o = 0; o < out; ++o) {
      for (int g = 0; g < l.groups(); ++g) {
        zero_0 |= l.zero(o, g) == 0;
        zero_15 |= l.zero(o, g) == 15;
      }
      for (int i = 0; i < in; ++i) {
        const float want = expected[size_t(o) * in + i];
        // GEMM: dequantize_gemm multiplies in fp16, so the reference is the fp16-rounded product.
        const float got = layout == AwqLayout::Gemm ? fp16_to_float(float_to_fp16(l.weight(o, i))) : l.weight(o, i);
        mismatches += got != want;
      }
    }
    CHECK(mismatches == 0);
    CHECK(zero_0);
    CHECK(zero_15);
    if (bias) CHECK(l.bias == floats_of(t.at(name + ".expected_bias")));
  }
  CHECK(saw_negative_word);
}

}  // namespace

TEST_CASE("GEMM layers packed by AutoAWQ unpack to its dequantized weights", "[awq][fixtures]") {
  check_fixture_file("awq_gemm_fixtures.safetensors", AwqLayout::Gemm);
}

TEST_CASE("GEMV layers packed by AutoAWQ unpack to its dequantized weights", "[awq][fixtures]") {
  check_fixture_file("awq_gemv_fixtures.safetensors", AwqLayout::Gemv);
}
