#include "cuda/awq_pack.h"

#include "cuda/row_stack.h"

#include "src/common/error.h"
#include "src/common/half.h"

namespace awq::cuda {
namespace {

// Row lookup across stacked parts; rows past the end read as zero.
struct StackedRows {
  std::vector<StackedRow> rows;
  const QuantLinear* part(int r) const { return r < int(rows.size()) ? rows[r].first : nullptr; }
  int local(int r) const { return rows[r].second; }
  uint32_t q(int r, int k) const { const auto* p = part(r); return p ? p->q(local(r), k) : 0; }
};

}  // namespace

MmaPackedHost pack_mma(std::span<const QuantLinear* const> parts, int interleave) {
  if (parts.empty()) runtime_error("pack_mma: no parts");
  const int in = parts[0]->in_features, group = parts[0]->group_size;
  bool any_bias = false;
  for (const QuantLinear* p : parts) {
    if (p->in_features != in || p->group_size != group)
      input_error("cuda: fused linears differ in in_features/group_size ({}/{} vs {}/{})", p->in_features,
                  p->group_size, in, group);
    any_bias = any_bias || !p->bias.empty();
  }
  const StackedRows rows{stack_rows(parts, interleave)};
  if (in % 64 != 0 || group % 32 != 0 || in % group != 0)
    input_error("cuda: linear with in_features {} and group_size {} is not supported (needs in % 64 == 0, "
                "group % 32 == 0)", in, group);

  MmaPackedHost out;
  out.in_features = in;
  out.out_features = int(rows.rows.size());
  out.out_padded = (out.out_features + 63) / 64 * 64;
  out.group_size = group;
  const int tiles = out.out_padded / 64, ksteps = in / 16, groups = in / group;

  out.qweight.assign(size_t(tiles) * ksteps * 128, 0);
  for (int t = 0; t < tiles; ++t)
    for (int s = 0; s < ksteps; ++s)
      for (int lane = 0; lane < 32; ++lane)
        for (int j = 0; j < 4; ++j) {
          const int g = lane / 4, c = lane % 4;
          const int r0 = 64 * t + 16 * j + g, r1 = r0 + 8, k0 = 16 * s + 2 * c;
          const uint32_t nib[8] = {rows.q(r0, k0),     rows.q(r1, k0),     rows.q(r0, k0 + 8), rows.q(r1, k0 + 8),
                                   rows.q(r0, k0 + 1), rows.q(r1, k0 + 1), rows.q(r0, k0 + 9), rows.q(r1, k0 + 9)};
          uint32_t w = 0;
          for (int n = 0; n < 8; ++n) w |= nib[n] << (4 * n);
          out.qweight[((size_t(t) * ksteps + s) * 32 + lane) * 4 + j] = w;
        }

  out.scale_zero.assign(size_t(tiles) * groups * 64, 0);
  for (int t = 0; t < tiles; ++t)
    for (int grp = 0; grp < groups; ++grp)
      for (int g = 0; g < 8; ++g)
        for (int j = 0; j < 4; ++j)
          for (int h = 0; h < 2; ++h) {
            const int r = 64 * t + 16 * j + g + 8 * h;
            const QuantLinear* p = rows.part(r);
            uint32_t scale = 0, zero = 0;
            if (p) {
              scale = p->scales[size_t(rows.local(r)) * groups + grp];
              zero = p->zero(rows.local(r), grp);
            }
            const uint32_t zero_h = float_to_fp16(1024.f + float(zero));
            out.scale_zero[((size_t(t) * groups + grp) * 8 + g) * 8 + 2 * j + h] = scale | zero_h << 16;
          }

  if (any_bias) {
    out.bias.reserve(out.out_features);
    for (int r = 0; r < out.out_features; ++r) {
      const QuantLinear* p = rows.part(r);
      out.bias.push_back(float_to_fp16(p->bias.empty() ? 0.f : p->bias[rows.local(r)]));
    }
  }
  return out;
}

MmaPackedHost pack_mma(const QuantLinear& lin) {
  const QuantLinear* parts[] = {&lin};
  return pack_mma(parts);
}

void mma_pack_to_bf16(MmaPackedHost& p) {
  for (uint32_t& w : p.scale_zero) {
    // The high half is fp16 1024 + zero, 0x6400 + zero for zero in 0..15.
    const int zero = int(w >> 16) - 0x6400;
    if (zero < 0 || zero > 15) runtime_error("mma_pack_to_bf16: the weights are not in pack_mma's fp16 form");
    const uint32_t scale = float_to_bf16(fp16_to_float(uint16_t(w & 0xffff)));
    w = scale | uint32_t(float_to_bf16(128.f + float(zero))) << 16;
  }
  for (uint16_t& b : p.bias) b = float_to_bf16(fp16_to_float(b));
}

}  // namespace awq::cuda
