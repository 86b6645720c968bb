// Shared helpers for the CUDA tests: random inputs (never zeros), fp16
// conversion, NaN poisoning of outputs and the relative-error metric.
#pragma once
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "cuda/act_type.h"
#include "cuda/device_buffer.h"
#include "src/common/half.h"
#include "src/model/quant_linear.h"

namespace awq::test {

inline std::mt19937& rng() {
  static std::mt19937 gen(std::random_device{}());
  return gen;
}

// fp16 values uniform in [-amp, amp], away from exact zero.
inline std::vector<uint16_t> random_f16(size_t n, float amp = 1.f) {
  std::uniform_real_distribution<float> d(-amp, amp);
  std::vector<uint16_t> v(n);
  for (auto& x : v) {
    float f = d(rng());
    if (std::fabs(f) < 1e-3f) f = 1e-3f;
    x = float_to_fp16(f);
  }
  return v;
}

inline std::vector<float> to_float(const std::vector<uint16_t>& h) {
  std::vector<float> f(h.size());
  for (size_t i = 0; i < h.size(); ++i) f[i] = fp16_to_float(h[i]);
  return f;
}

// The same for either activation type (cuda/act_type.h): the bits of fp16
// or bf16 values uniform in [-amp, amp], and their values.
inline std::vector<uint16_t> random_act(cuda::Act act, size_t n, float amp = 1.f) {
  std::vector<uint16_t> v = random_f16(n, amp);
  if (act == cuda::Act::BF16)
    for (auto& x : v) x = float_to_bf16(fp16_to_float(x));
  return v;
}
inline std::vector<float> to_float(cuda::Act act, const std::vector<uint16_t>& h) {
  if (act == cuda::Act::F16) return to_float(h);
  std::vector<float> f(h.size());
  for (size_t i = 0; i < h.size(); ++i) f[i] = bf16_to_float(h[i]);
  return f;
}
inline uint16_t from_float(cuda::Act act, float f) {
  return act == cuda::Act::F16 ? float_to_fp16(f) : float_to_bf16(f);
}

// Random AWQ linear with realistic scales (~0.01) and zeros around 8.
inline QuantLinear random_quant_linear(int in, int out, int group, bool bias = false) {
  QuantLinear l = QuantLinear::allocate(in, out, group, bias);
  std::uniform_int_distribution<int> byte(0, 255), zero(4, 11);
  std::uniform_real_distribution<float> scale(0.004f, 0.02f), b(-0.5f, 0.5f);
  for (auto& q : l.qweight) q = uint8_t(byte(rng()));
  for (auto& z : l.zeros) z = uint8_t(zero(rng()));
  for (auto& s : l.scales) s = float_to_fp16(scale(rng()));
  for (auto& x : l.bias) x = fp16_to_float(float_to_fp16(b(rng())));
  return l;
}

// ||out - ref|| / ||ref||; NaN anywhere gives +inf.
inline double rel_error(const std::vector<float>& out, const std::vector<double>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(out[i])) return INFINITY;
    num += (out[i] - ref[i]) * (out[i] - ref[i]);
    den += ref[i] * ref[i];
  }
  return std::sqrt(num / den);
}

inline void poison(cuda::DeviceBuffer<uint16_t>& b) { cuda::device_memset(b.get(), 0xff, b.bytes()); }
inline void poison(cuda::DeviceBuffer<float>& b) { cuda::device_memset(b.get(), 0xff, b.bytes()); }

inline size_t count_nonfinite(const std::vector<float>& v) {
  size_t n = 0;
  for (float f : v) n += !std::isfinite(f);
  return n;
}

// float64 reference of y[m][o] = sum_i x[m][i] W[o][i] + bias[o].
inline std::vector<double> reference_linear(const QuantLinear& l, const std::vector<float>& x, int m) {
  const int in = l.in_features, out = l.out_features;
  std::vector<double> w(static_cast<size_t>(in));
  std::vector<double> y(size_t(m) * out);
  for (int o = 0; o < out; ++o) {
    for (int i = 0; i < in; ++i) w[i] = l.weight(o, i);
    for (int t = 0; t < m; ++t) {
      double s = l.bias.empty() ? 0.0 : l.bias[o];
      const float* xr = &x[size_t(t) * in];
      for (int i = 0; i < in; ++i) s += double(xr[i]) * w[i];
      y[size_t(t) * out + o] = s;
    }
  }
  return y;
}

}  // namespace awq::test
