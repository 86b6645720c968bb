// The CUDA backend: a Llama / Mistral / Qwen2 forward pass on one GPU with
// AWQ int4 weights repacked at load for the tensor-core kernels (awq_pack.h)
// or the exllama ones (exllama_pack.h), fp16 or bf16 activations (fp32
// residual stream, fp32 accumulation except the exllama kernel's fp16
// partial sums), and a preallocated KV cache of the activation type with one
// slot per sequence. Single-token steps of slot 0 replay a captured CUDA
// graph; prefill_slots packs the prompts of several sequences into shared
// passes and decode_rows steps them together (continuous batching; a graph
// per row count). Sampling takes a LogitPool selected on the device
// (forward_slot_top).
#pragma once
#include <memory>
#include <span>

#include "cuda/act_type.h"
#include "src/engine/model_runner.h"
#include "src/model/weights.h"

namespace awq {

// Which kernel runs the quantized linears for a span of m tokens:
//   Auto: GEMV kernel for m <= 64 (in 32-row pieces); above, dequantize +
//         cuBLAS, except the GEMM kernel for matrices of >= 100M weights up
//         to m = 256 (the crossovers measured by awq-kernel-bench and awqrun
//         bench, docs/PERF.md);
//   Gemv: GEMV kernel for m <= 64, GEMM kernel above (never cuBLAS);
//   Gemm: the tensor-core GEMM kernel for every m;
//   Exllama: weights repacked into the ExLlama-v2-style layout
//         (exllama_pack.h); its CUDA-core GEMV kernel for m <= 16 (in 8-row
//         pieces), dequantize + cuBLAS above.
enum class CudaKernelFamily { Auto, Gemm, Gemv, Exllama };

struct CudaRunnerOptions {
  int device = 0;
  int max_context = 0;  // 0: max_position_embeddings, capped to 8192
  CudaKernelFamily kernels = CudaKernelFamily::Auto;
  // Fused modules (default): q/k/v and gate/up as one product each, SwiGLU
  // in the gate+up GEMV's epilogue, and single-token steps replayed from a
  // CUDA graph. false (--no-fuse): Transformers-style separate modules,
  // every kernel launched from the host - the baseline of the bench's
  // fused/unfused rows.
  bool fused = true;
  // Activations, KV cache, embedding, lm_head and biases in fp16 (default)
  // or bf16 (--dtype bfloat16; not with the exllama family, fp16 only).
  // Accumulation, softmax, the residual stream and the norms stay fp32.
  cuda::Act act = cuda::Act::F16;
  // KV-cache slots wanted (sequences decoded together by decode_rows); the
  // runner allocates as many as fit in free memory, at least 1, at most
  // kMaxCudaSequences, and logs the count.
  int sequences = 1;
};
inline constexpr int kMaxCudaSequences = 256;

// forward_greedy(), forward_slot() and decode_rows() take the argmax on the
// device: without logits wanted, only token ids cross to the host.
class CudaRunner : public ModelRunner {};

// Throws Error(Device) when there is no usable GPU or when the weights, cache
// and buffers would not fit ("needs X GiB, Y GiB free on cuda:N", checked
// before allocating); Error(Input) for shapes or rope scalings it lacks.
std::unique_ptr<CudaRunner> make_cuda_runner(std::shared_ptr<const ModelWeights> weights,
                                             const CudaRunnerOptions& options);

}  // namespace awq
