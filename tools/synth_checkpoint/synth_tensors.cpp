#include "tools/synth_checkpoint/synth_tensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "src/common/half.h"
#include "tools/synth_checkpoint/synth_random.h"

namespace awq::synth {
namespace {

uint64_t name_hash(const std::string& s) {  // FNV-1a: stable across builds
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

const NibbleTable& weights() {
  static const NibbleTable t = [] { NibbleTable w = weight_table(); finish_moments(w); return w; }();
  return t;
}
const NibbleTable& zeros() {
  static const NibbleTable t = [] { NibbleTable z = zero_table(); finish_moments(z); return z; }();
  return t;
}

// Scale mean so that a weight's std is about 1/sqrt(in): outputs then keep the
// magnitude of the inputs, and activations stay well inside fp16 range.
float scale_mean(int in_features) {
  const double e_q = weights().mean, e_z = zeros().mean;
  const double e_diff_sq = weights().mean_square - 2 * e_q * e_z + zeros().mean_square;
  return float(1.0 / (std::sqrt(double(in_features)) * std::sqrt(e_diff_sq)));
}

uint32_t nibble_word(const NibbleTable& table, uint64_t bits, int valid = 8) {
  uint32_t w = 0;
  for (int j = 0; j < valid; ++j) w |= uint32_t(table.value[(bits >> (8 * j)) & 0xff]) << (4 * j);
  return w;
}

void store16(uint8_t* out, uint64_t i, uint16_t v) { std::memcpy(out + 2 * i, &v, 2); }
void store32(uint8_t* out, uint64_t i, uint32_t v) { std::memcpy(out + 4 * i, &v, 4); }

}  // namespace

std::vector<PlannedTensor> plan_tensors(const SynthPreset& p, int group_size, AwqLayout layout, uint64_t seed) {
  std::vector<PlannedTensor> out;
  auto add = [&](PlannedTensor t) {
    uint64_t n = dtype_size(t.dtype);
    for (auto d : t.shape) n *= uint64_t(d);
    t.nbytes = n;
    t.stream = mix64(seed) ^ name_hash(t.name);
    out.push_back(std::move(t));
  };
  auto normal = [&](const std::string& name, std::vector<int64_t> shape, float mean, float spread) {
    add({name, DType::F16, std::move(shape), 0, Fill::Normal, mean, spread});
  };
  auto linear = [&](const std::string& name, int in, int out_features) {
    const int g = group_size == -1 ? in : group_size;
    const int groups = in / g;
    const float m = scale_mean(in);
    if (layout == AwqLayout::Gemm) {
      add({name + ".qweight", DType::I32, {in, out_features / 8}, 0, Fill::QWeight});
      add({name + ".qzeros", DType::I32, {groups, out_features / 8}, 0, Fill::QZeros, 0, 0, groups, 0, false});
      add({name + ".scales", DType::F16, {groups, out_features}, 0, Fill::Scales, m, m / 3, groups, 0, false});
    } else {
      const int zw = gemv_zeros_width(in, g);
      add({name + ".qweight", DType::I32, {out_features, in / 8}, 0, Fill::QWeight});
      add({name + ".qzeros", DType::I32, {out_features, zw}, 0, Fill::QZeros, 0, 0, groups, zw * 8, true});
      add({name + ".scales", DType::F16, {out_features, zw * 8}, 0, Fill::Scales, m, m / 3, groups, zw * 8, true});
    }
  };
  const int head_dim = p.hidden / p.heads;
  normal("model.embed_tokens.weight", {p.vocab, p.hidden}, 0.f, 0.02f);
  for (int i = 0; i < p.layers; ++i) {
    const std::string b = "model.layers." + std::to_string(i);
    normal(b + ".input_layernorm.weight", {p.hidden}, 1.f, 0.05f);
    linear(b + ".self_attn.q_proj", p.hidden, p.heads * head_dim);
    linear(b + ".self_attn.k_proj", p.hidden, p.kv_heads * head_dim);
    linear(b + ".self_attn.v_proj", p.hidden, p.kv_heads * head_dim);
    linear(b + ".self_attn.o_proj", p.heads * head_dim, p.hidden);
    normal(b + ".post_attention_layernorm.weight", {p.hidden}, 1.f, 0.05f);
    linear(b + ".mlp.gate_proj", p.hidden, p.intermediate);
    linear(b + ".mlp.up_proj", p.hidden, p.intermediate);
    linear(b + ".mlp.down_proj", p.intermediate, p.hidden);
  }
  normal("model.norm.weight", {p.hidden}, 1.f, 0.05f);
  normal("lm_head.weight", {p.vocab, p.hidden}, 0.f, 0.02f);
  return out;
}

void fill_bytes(const PlannedTensor& t, uint64_t begin, uint64_t end, uint8_t* out) {
  switch (t.fill) {
    case Fill::Normal:
      for (uint64_t e = begin / 2; e < end / 2; ++e)
        store16(out, e - begin / 2, float_to_fp16(t.mean + t.spread * normal_from_bits(random_bits(t.stream, e))));
      break;
    case Fill::QWeight:
      for (uint64_t w = begin / 4; w < end / 4; ++w)
        store32(out, w - begin / 4, nibble_word(weights(), random_bits(t.stream, w)));
      break;
    case Fill::QZeros:
      for (uint64_t w = begin / 4; w < end / 4; ++w) {
        int valid = 8;
        if (t.padded_rows) {  // nibbles of groups past the last one stay zero
          const int first_group = int(w % uint64_t(t.row_width / 8)) * 8;
          valid = std::clamp(t.groups - first_group, 0, 8);
        }
        store32(out, w - begin / 4, nibble_word(zeros(), random_bits(t.stream, w), valid));
      }
      break;
    case Fill::Scales:
      for (uint64_t e = begin / 2; e < end / 2; ++e) {
        float s = 0.f;
        if (!t.padded_rows || int(e % uint64_t(t.row_width)) < t.groups)
          s = std::max(t.mean * 0.1f, t.mean + t.spread * normal_from_bits(random_bits(t.stream, e)));
        store16(out, e - begin / 2, float_to_fp16(s));
      }
      break;
  }
}

}  // namespace awq::synth
