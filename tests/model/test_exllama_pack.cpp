// The ExLlama-v2-style repack (cuda/exllama_pack.h) decodes back to every
// weight of the checkpoint, including groups whose zero point is 0 or 15 -
// the case AutoAWQ's repack corrupts - and stacked (fused) parts.
#include <catch2/catch.hpp>

#include <random>

#include "cuda/exllama_pack.h"
#include "tests/model/model_test_util.h"

namespace awq {
namespace {

// random_full_range_linear with zeros[o][0] of rows 0 and 1 forced to 0 and
// 1 (adjacent nibbles of one packed word).
QuantLinear random_linear(int in, int out, int group, bool bias, std::mt19937& rng) {
  QuantLinear l = test::random_full_range_linear(in, out, group, bias, rng);
  l.zeros[0] = 0;
  l.zeros[size_t(l.groups())] = 1;
  return l;
}

size_t mismatches(const cuda::ExllamaPackedHost& p, std::span<const QuantLinear* const> parts) {
  size_t bad = 0;
  int n = 0;
  for (const QuantLinear* l : parts)
    for (int o = 0; o < l->out_features; ++o, ++n)
      for (int k = 0; k < l->in_features; ++k) bad += cuda::exllama_weight(p, n, k) != l->weight(o, k);
  return bad;
}

}  // namespace

TEST_CASE("exllama repack decodes to the checkpoint's weights, zero points 0..15 included", "[exllama]") {
  std::mt19937 rng(std::random_device{}());
  struct Shape { int in, out, group; };
  for (const Shape s : {Shape{256, 200, 128}, Shape{96, 64, 32}, Shape{384, 130, 96}, Shape{128, 8, 128}}) {
    INFO("shape " << s.in << "->" << s.out << " g" << s.group);
    const QuantLinear lin = random_linear(s.in, s.out, s.group, true, rng);
    const cuda::ExllamaPackedHost p = cuda::pack_exllama(lin);
    CHECK(p.out_padded % cuda::kExllamaColumnTile == 0);
    CHECK(p.out_padded >= s.out);
    const QuantLinear* parts[] = {&lin};
    CHECK(mismatches(p, parts) == 0);
    for (int n = s.out; n < p.out_padded; ++n) CHECK(cuda::exllama_weight(p, n, s.in - 1) == 0.f);
    for (int o = 0; o < s.out; ++o) CHECK(p.bias[o] == float_to_fp16(lin.bias[o]));
    CHECK(p.qweight.size() * 4 + p.qzeros.size() * 4 + p.scales.size() * 2 + p.bias.size() * 2 ==
          cuda::exllama_packed_bytes(s.in, s.out, s.group));
    // The zero 0 of column 0 is stored per nibble as 15, and its neighbour's
    // 1 as 0; subtracting 0x11111111 from the whole word instead borrows.
    const uint32_t word = p.qzeros[0];
    CHECK((word & 0xff) == 0x0f);
  }
}

TEST_CASE("exllama repack stacks fused parts in order, bias only where given", "[exllama]") {
  std::mt19937 rng(std::random_device{}());
  const QuantLinear q = random_linear(256, 128, 64, false, rng), k = random_linear(256, 64, 64, true, rng),
                    v = random_linear(256, 64, 64, false, rng);
  const QuantLinear* parts[] = {&q, &k, &v};
  const cuda::ExllamaPackedHost p = cuda::pack_exllama(parts);
  CHECK(p.out_features == 256);
  CHECK(mismatches(p, parts) == 0);
  REQUIRE(p.bias.size() == 256);
  CHECK(p.bias[0] == 0);
  CHECK(p.bias[128] == float_to_fp16(k.bias[0]));
  CHECK(p.bias[255] == 0);
}

TEST_CASE("exllama repack refuses shapes its kernels cannot run", "[exllama]") {
  std::mt19937 rng(1);
  const QuantLinear odd = random_linear(80, 64, 16, false, rng);
  CHECK_THROWS_WITH(cuda::pack_exllama(odd), Catch::Contains("--version exllama"));
}

}  // namespace awq
