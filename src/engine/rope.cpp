#include "src/engine/rope.h"

#include <cmath>

#include "src/common/error.h"

namespace awq {

std::vector<float> rope_inv_freq(const ModelConfig& c) {
  const int half = c.head_dim / 2;
  std::vector<float> inv(static_cast<size_t>(half));
  // As torch: base ** (arange(0, d, 2).float() / d), then 1 / that, in fp32.
  for (int i = 0; i < half; ++i)
    inv[size_t(i)] = 1.f / std::pow(c.rope_theta, float(2 * i) / float(c.head_dim));
  const RopeScaling& s = c.rope_scaling;
  switch (s.type) {
    case RopeScaling::Type::None: break;
    case RopeScaling::Type::Linear:
      for (float& f : inv) f /= s.factor;
      break;
    case RopeScaling::Type::Llama3: {
      const float old_ctx = float(s.original_max_position_embeddings);
      const float low_freq_wavelen = old_ctx / s.low_freq_factor;
      const float high_freq_wavelen = old_ctx / s.high_freq_factor;
      for (float& f : inv) {
        const float wavelen = 2.f * float(M_PI) / f;
        const float scaled = wavelen > low_freq_wavelen ? f / s.factor : f;
        const bool medium = !(wavelen < high_freq_wavelen) && !(wavelen > low_freq_wavelen);
        if (medium) {
          const float smooth = (old_ctx / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
          f = (1.f - smooth) * scaled / s.factor + smooth * scaled;
        } else {
          f = scaled;
        }
      }
      break;
    }
    case RopeScaling::Type::Dynamic:
      input_error("rope_scaling type \"dynamic\" is not implemented by the CPU backend");
    case RopeScaling::Type::Yarn:
      input_error("rope_scaling type \"yarn\" is not implemented by the CPU backend");
  }
  return inv;
}

RopeTable::RopeTable(const std::vector<float>& inv_freq, int positions) : half(int(inv_freq.size())) {
  cos.resize(size_t(positions) * half);
  sin.resize(size_t(positions) * half);
  for (int p = 0; p < positions; ++p)
    for (int i = 0; i < half; ++i) {
      const float angle = float(p) * inv_freq[size_t(i)];
      cos[size_t(p) * half + i] = std::cos(angle);
      sin[size_t(p) * half + i] = std::sin(angle);
    }
}

void apply_rope(const RopeTable& t, int p, float* x) {
  const float* c = t.cos.data() + size_t(p) * t.half;
  const float* s = t.sin.data() + size_t(p) * t.half;
  for (int i = 0; i < t.half; ++i) {
    const float a = x[i], b = x[i + t.half];
    x[i] = a * c[i] - b * s[i];
    x[i + t.half] = b * c[i] + a * s[i];
  }
}

}  // namespace awq
