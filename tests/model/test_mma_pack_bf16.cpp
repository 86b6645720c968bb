// mma_pack_to_bf16 (cuda/awq_pack.h) turns pack_mma's fp16 {scale, 1024 +
// zero} words into bf16 {scale, 128 + zero}: scales and bias rounded to
// nearest even, zeros exact, weights and padding untouched.
#include <catch2/catch.hpp>

#include <random>

#include "cuda/awq_pack.h"
#include "src/common/error.h"
#include "tests/model/model_test_util.h"

namespace awq {

using test::random_full_range_linear;

TEST_CASE("mma_pack_to_bf16 converts every scale/zero word and the bias", "[mma_pack]") {
  std::mt19937 rng(std::random_device{}());
  // 200 rows: a partial last 64-row tile; groups of 96: a boundary mid-chunk
  QuantLinear lin = random_full_range_linear(384, 200, 96, true, rng);
  // fp16 1 + 2^-8 and 1 + 3 * 2^-8 lie halfway between bf16 neighbours:
  // nearest even gives 1 and 1 + 2^-6.
  lin.scales[0] = 0x3c04;
  lin.scales[1] = 0x3c0c;
  const cuda::MmaPackedHost f16 = cuda::pack_mma(lin);
  cuda::MmaPackedHost bf = f16;
  cuda::mma_pack_to_bf16(bf);

  CHECK(bf.qweight == f16.qweight);
  REQUIRE(bf.scale_zero.size() == f16.scale_zero.size());
  size_t bad_scales = 0, bad_zeros = 0;
  for (size_t i = 0; i < f16.scale_zero.size(); ++i) {
    const uint32_t h = f16.scale_zero[i], b = bf.scale_zero[i];
    bad_scales += uint16_t(b) != float_to_bf16(fp16_to_float(uint16_t(h)));
    bad_zeros += bf16_to_float(uint16_t(b >> 16)) != fp16_to_float(uint16_t(h >> 16)) - 1024.f + 128.f;
  }
  CHECK(bad_scales == 0);
  CHECK(bad_zeros == 0);

  // Word of row r, group grp (layout of cuda/awq_pack.h).
  const int groups = lin.groups();
  auto word = [&](int r, int grp) {
    const int t = r / 64, j = r % 64 / 16, g = r % 8, h = r % 16 / 8;
    return bf.scale_zero[((size_t(t) * groups + grp) * 8 + g) * 8 + 2 * j + h];
  };
  CHECK(uint16_t(word(0, 0)) == 0x3f80);  // 1
  CHECK(uint16_t(word(0, 1)) == 0x3f82);  // 1 + 2^-6
  for (int r : {0, 37, 199})
    for (int grp = 0; grp < groups; ++grp)
      CHECK(bf16_to_float(uint16_t(word(r, grp) >> 16)) == 128.f + lin.zero(r, grp));
  CHECK(word(255, groups - 1) == 0x43000000u);  // padding: bf16 {0, 128}, zero weights

  REQUIRE(bf.bias.size() == f16.bias.size());
  size_t bad_bias = 0;
  for (size_t i = 0; i < f16.bias.size(); ++i) bad_bias += bf.bias[i] != float_to_bf16(fp16_to_float(f16.bias[i]));
  CHECK(bad_bias == 0);
}

TEST_CASE("mma_pack_to_bf16 refuses weights already in bf16 form", "[mma_pack]") {
  std::mt19937 rng(1);
  cuda::MmaPackedHost p = cuda::pack_mma(random_full_range_linear(128, 64, 64, true, rng));
  cuda::mma_pack_to_bf16(p);
  CHECK_THROWS_AS(cuda::mma_pack_to_bf16(p), Error);
}

}  // namespace awq
