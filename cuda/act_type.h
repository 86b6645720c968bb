// The activation type of the CUDA backend: fp16 (default) or bf16 for the
// activations, the KV cache and the non-quantized weights (embedding,
// lm_head, biases). Host code passes it as a plain enum next to uint16_t
// pointers (the bits of either type), so no CUDA types leak; the kernels are
// instantiated for both through act_type.cuh.
#pragma once

namespace awq::cuda {

enum class Act { F16, BF16 };

inline const char* act_name(Act a) { return a == Act::F16 ? "float16" : "bfloat16"; }

}  // namespace awq::cuda
