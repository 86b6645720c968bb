// Element-wise and normalization ops of the CPU forward pass, plus rounding
// of activations to the precision the run emulates.
#pragma once
#include <cstddef>
#include <string_view>

namespace awq {

// Precision of activations between ops. Float32 is the reference mode;
// Float16/BFloat16 round every op's output (see cpu_runner.h for the list),
// as the GPU path stores its activations.
enum class ActivationDType { Float32, Float16, BFloat16 };

std::string_view activation_dtype_name(ActivationDType d);  // "float32", "float16", "bfloat16"
ActivationDType parse_activation_dtype(std::string_view s);  // throws Error(Usage) naming the accepted values

// Rounds x[0..n) to the dtype (nearest even); no-op for Float32.
void round_activations(ActivationDType d, float* x, size_t n);

// HF LlamaRMSNorm: y = weight * round(x / sqrt(mean(x^2) + eps)), computed in fp32.
void rms_norm(const float* x, const float* weight, int n, float eps, ActivationDType d, float* y);

// gate[i] = round(round(silu(gate[i])) * up[i]): HF's act_fn(gate_proj(x)) * up_proj(x).
void silu_mul(float* gate, const float* up, size_t n, ActivationDType d);

}  // namespace awq
