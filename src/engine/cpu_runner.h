// The CPU backend: a full Llama / Mistral / Qwen2 forward pass over AWQ int4
// weights, multi-threaded, with SIMD kernels chosen at run time. It is the
// reference the GPU kernels are checked against (Float32 mode) and a real
// fast path.
//
// Activation precision (CpuRunnerOptions::dtype): in Float16/BFloat16 mode
// values are computed in fp32 and rounded to the dtype at these points, which
// are where the GPU path stores activations: the embedding row; the
// normalized value and the weighted output of each RMSNorm; the output of
// every linear (after its bias); q and k after RoPE; the attention output of
// each head; SiLU(gate) and SiLU(gate) * up; each residual sum; the logits.
// The KV cache holds fp32 in Float32 mode and the 16-bit dtype otherwise.
#pragma once
#include <memory>
#include <optional>
#include <string_view>

#include "src/engine/cpu_kernels.h"
#include "src/engine/cpu_ops.h"
#include "src/engine/model_runner.h"
#include "src/model/weights.h"

namespace awq {

inline constexpr int kDefaultCpuContextCap = 8192;

// The lm_head's weights. Float16: the checkpoint's matrix as stored (fp16 in
// AWQ checkpoints; the reference, exact against transformers in Float32
// mode). Int8: a copy quantized at load to int8 blocks of 32 with fp16
// scales (int8_matrix.h), multiplied in decode with int8-quantized
// activations: a non-reference fast mode that reads 34 instead of 64 bytes
// per 32 weights.
// The embedding lookup always uses the original table, tied or not.
enum class LmHeadFormat { Float16, Int8 };

// "float16" or "int8" (the --lm-head values); throws Error(Usage) naming them otherwise.
LmHeadFormat parse_lm_head_format(std::string_view s);

struct CpuRunnerOptions {
  int threads = 0;      // 0: std::thread::hardware_concurrency()
  int max_context = 0;  // 0: max_position_embeddings, capped to kDefaultCpuContextCap
  ActivationDType dtype = ActivationDType::Float32;
  std::optional<SimdLevel> simd;  // cap the SIMD level (tests, benchmarks); default: best available
  LmHeadFormat lm_head = LmHeadFormat::Float16;
  int sequences = 1;  // KV-cache slots (ModelRunner::max_sequences), each of max_context positions
};

// Repacks the int4 weights and preallocates the KV cache. Throws Error(Input)
// for a rope scaling the backend lacks (dynamic, yarn) or unsupported shapes.
std::unique_ptr<ModelRunner> make_cpu_runner(std::shared_ptr<const ModelWeights> weights,
                                             const CpuRunnerOptions& options);

}  // namespace awq
