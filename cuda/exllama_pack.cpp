#include "cuda/exllama_pack.h"

#include "cuda/row_stack.h"

#include "src/common/error.h"
#include "src/common/half.h"

namespace awq::cuda {
namespace {

// Nibble position of k offset j (0..7) within a packed word: 0, 2, 4, 6 in
// positions 0-3 and 1, 3, 5, 7 in positions 4-7 (see the header).
constexpr int kNibblePos[8] = {0, 4, 1, 5, 2, 6, 3, 7};

int padded_columns(int out) { return (out + kExllamaColumnTile - 1) / kExllamaColumnTile * kExllamaColumnTile; }

}  // namespace

size_t exllama_packed_bytes(int in, int out, int group) {
  const size_t n = size_t(padded_columns(out)), groups = size_t(in / group);
  return size_t(in / 8) * n * 4 + groups * (n / 8) * 4 + groups * n * 2 + size_t(out) * 2;
}

ExllamaPackedHost pack_exllama(std::span<const QuantLinear* const> parts, int interleave) {
  if (parts.empty()) runtime_error("pack_exllama: no parts");
  const int in = parts[0]->in_features, group = parts[0]->group_size;
  int out = 0;
  bool any_bias = false;
  for (const QuantLinear* p : parts) {
    if (p->in_features != in || p->group_size != group)
      input_error("cuda: fused linears differ in in_features/group_size ({}/{} vs {}/{})", p->in_features,
                  p->group_size, in, group);
    out += p->out_features;
    any_bias = any_bias || !p->bias.empty();
  }
  if (in % 32 != 0 || group % 32 != 0 || in % group != 0)
    input_error("--version exllama: linear with in_features {} and group_size {} is not supported (needs "
                "in % 32 == 0 and group % 32 == 0)", in, group);

  ExllamaPackedHost r;
  r.in_features = in;
  r.out_features = out;
  r.out_padded = padded_columns(out);
  r.group_size = group;
  const int groups = in / group;
  const size_t n_pad = size_t(r.out_padded);
  r.qweight.assign(size_t(in / 8) * n_pad, 0);
  r.qzeros.assign(size_t(groups) * (n_pad / 8), 0);
  r.scales.assign(size_t(groups) * n_pad, 0);
  if (any_bias) r.bias.assign(size_t(out), 0);

  const std::vector<StackedRow> rows = stack_rows(parts, interleave);
  for (int n = 0; n < out; ++n) {
    const QuantLinear* p = rows[n].first;
    const int o = rows[n].second;
    for (int k8 = 0; k8 < in / 8; ++k8) {
      uint32_t w = 0;
      for (int j = 0; j < 8; ++j) w |= uint32_t(p->q(o, 8 * k8 + j)) << (4 * kNibblePos[j]);
      r.qweight[size_t(k8) * n_pad + n] = w;
    }
    for (int g = 0; g < groups; ++g) {
      const uint32_t stored = uint32_t(p->zero(o, g) - 1) & 0xfu;  // per nibble: 0 -> 15
      r.qzeros[size_t(g) * (n_pad / 8) + n / 8] |= stored << (4 * (n % 8));
      r.scales[size_t(g) * n_pad + n] = p->scales[size_t(o) * groups + g];
    }
    if (any_bias) r.bias[n] = p->bias.empty() ? 0 : float_to_fp16(p->bias[o]);
  }
  return r;
}

ExllamaPackedHost pack_exllama(const QuantLinear& lin) {
  const QuantLinear* parts[] = {&lin};
  return pack_exllama(parts);
}

float exllama_weight(const ExllamaPackedHost& p, int n, int k) {
  const size_t n_pad = size_t(p.out_padded);
  const int g = k / p.group_size;
  const uint32_t word = p.qweight[size_t(k / 8) * n_pad + n];
  const int q = int(word >> (4 * kNibblePos[k % 8])) & 0xf;
  const int z = int((p.qzeros[size_t(g) * (n_pad / 8) + n / 8] >> (4 * (n % 8))) + 1) & 0xf;
  return float(q - z) * fp16_to_float(p.scales[size_t(g) * n_pad + n]);
}

}  // namespace awq::cuda
