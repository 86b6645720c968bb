#include "src/engine/cpu_ops.h"

#include <cmath>

#include "src/common/error.h"
#include "src/common/half.h"

namespace awq {

std::string_view activation_dtype_name(ActivationDType d) {
  switch (d) {
    case ActivationDType::Float16: return "float16";
    case ActivationDType::BFloat16: return "bfloat16";
    case ActivationDType::Float32: break;
  }
  return "float32";
}

ActivationDType parse_activation_dtype(std::string_view s) {
  if (s == "float32" || s == "fp32") return ActivationDType::Float32;
  if (s == "float16" || s == "fp16") return ActivationDType::Float16;
  if (s == "bfloat16" || s == "bf16") return ActivationDType::BFloat16;
  usage_error("unknown dtype \"{}\" (expected float32, float16 or bfloat16)", s);
}

void round_activations(ActivationDType d, float* x, size_t n) {
  if (d == ActivationDType::Float16)
    for (size_t i = 0; i < n; ++i) x[i] = fp16_to_float(float_to_fp16(x[i]));
  else if (d == ActivationDType::BFloat16)
    for (size_t i = 0; i < n; ++i) x[i] = bf16_to_float(float_to_bf16(x[i]));
}

void rms_norm(const float* x, const float* weight, int n, float eps, ActivationDType d, float* y) {
  float ss = 0.f;
  for (int i = 0; i < n; ++i) ss += x[i] * x[i];
  const float inv = 1.f / std::sqrt(ss / float(n) + eps);
  for (int i = 0; i < n; ++i) y[i] = x[i] * inv;
  round_activations(d, y, size_t(n));
  for (int i = 0; i < n; ++i) y[i] *= weight[i];
  round_activations(d, y, size_t(n));
}

void silu_mul(float* gate, const float* up, size_t n, ActivationDType d) {
  for (size_t i = 0; i < n; ++i) gate[i] = gate[i] / (1.f + std::exp(-gate[i]));
  round_activations(d, gate, n);
  for (size_t i = 0; i < n; ++i) gate[i] *= up[i];
  round_activations(d, gate, n);
}

}  // namespace awq
