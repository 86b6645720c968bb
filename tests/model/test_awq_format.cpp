// Round trip of the AWQ packers/unpackers on random layers, and the worked
// example of awq-format.md (word 0x91FAC703 = columns [3,10,0,15,7,1,12,9]).
#include <catch2/catch.hpp>

#include <cstring>
#include <random>

#include "src/model/awq_format.h"

using namespace awq;

namespace {

TensorView view_of(const TensorData& t) {
  TensorView v;
  v.dtype = t.dtype;
  v.shape = t.shape;
  v.data = t.bytes.data();
  v.nbytes = t.bytes.size();
  return v;
}

QuantLinear random_linear(int in, int out, int group, uint32_t seed) {
  std::mt19937 rng(seed);
  QuantLinear l = QuantLinear::allocate(in, out, group, true);
  for (auto& b : l.qweight) b = uint8_t(rng());
  for (auto& z : l.zeros) z = uint8_t(rng() % 16);
  std::uniform_real_distribution<float> u(0.001f, 0.05f);
  for (auto& s : l.scales) s = float_to_fp16(u(rng));
  for (auto& b : l.bias) b = fp16_to_float(float_to_fp16(u(rng) - 0.025f));
  return l;
}

}  // namespace

TEST_CASE("GEMM and GEMV layouts round-trip through pack and unpack", "[awq]") {
  for (int group : {32, 64, 128}) {
    for (AwqLayout layout : {AwqLayout::Gemm, AwqLayout::Gemv}) {
      const int in = 256 + (group == 64 ? 64 : 0), out = 72;
      const QuantLinear ref = random_linear(in, out, group, 1234u + group);
      const PackedLinear p = pack_linear(layout, ref);
      const TensorView b = view_of(*p.bias);
      const QuantLinear got = unpack_linear(layout, "x", view_of(p.qweight), view_of(p.qzeros),
                                            view_of(p.scales), &b, in, out, group);
      CHECK(got.qweight == ref.qweight);
      CHECK(got.zeros == ref.zeros);
      CHECK(got.scales == ref.scales);
      CHECK(got.bias == ref.bias);
    }
  }
}

TEST_CASE("GEMM nibble order matches the reference worked example", "[awq]") {
  const int32_t word = -1845836029;  // 0x91FAC703
  TensorData qw{DType::I32, {1, 1}, std::vector<uint8_t>(4)};
  std::memcpy(qw.bytes.data(), &word, 4);
  // Not a full layer (in must be a multiple of 8): test the order table directly.
  const uint32_t w = uint32_t(word);
  const int expected[8] = {3, 10, 0, 15, 7, 1, 12, 9};
  for (int k = 0; k < 8; ++k) CHECK(int((w >> (4 * kAwqReverseOrder[k])) & 0xf) == expected[k]);
  for (int j = 0; j < 8; ++j) CHECK(kAwqReverseOrder[kAwqOrder[j]] == j);
}
