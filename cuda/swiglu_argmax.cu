// SwiGLU activation and greedy argmax.
//   swiglu: one thread per output element, out = silu(g) * u in fp32, rounded
//     once to the activation type (fp16 or bf16) of gate_up and out.
//   argmax_rows: one 1024-thread block per row; first index wins ties (torch.argmax).
// PRECOND: gate_up is [n][2 * inter] (the fused gate+up linear): gate then up,
// or (block > 0) blocks of `block` gate values each followed by the same
// features' up values (cuda/row_stack.h); inter % block == 0.
#include <cfloat>

#include "cuda/act_type.cuh"
#include "cuda/cuda_check.h"
#include "cuda/launch.h"
#include "cuda/pdl.cuh"

namespace awq::cuda {
namespace {

template <Act A>
__global__ void swiglu_kernel(const typename ActTraits<A>::T* gate_up, typename ActTraits<A>::T* out, int n_tokens,
                              int inter, int block) {
  using Tr = ActTraits<A>;
  pdl_launch_dependents();
  pdl_wait();
  const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= size_t(n_tokens) * inter) return;
  const size_t t = i / inter, c = i % inter;
  const typename Tr::T* row = gate_up + t * 2 * inter;
  const size_t gi = block ? c / block * 2 * block + c % block : c, ui = block ? gi + block : c + inter;
  const float g = Tr::to_float(row[gi]), u = Tr::to_float(row[ui]);
  out[i] = Tr::from_float(g / (1.f + __expf(-g)) * u);
}

__device__ void better(float& best, int& idx, float v, int i) {
  if (v > best || (v == best && i < idx)) {
    best = v;
    idx = i;
  }
}

__global__ void argmax_kernel(const float* logits, int vocab, int* ids) {
  pdl_launch_dependents();
  pdl_wait();
  const float* row = logits + size_t(blockIdx.x) * vocab;
  float best = -FLT_MAX;
  int idx = vocab;
  // Unrolled so that the loads of a row issue together (the serial loop spent
  // ~15 us at vocab 32000 on an H200, one load round trip per iteration).
#pragma unroll 8
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) better(best, idx, __ldg(row + i), i);
  for (int o = 16; o > 0; o >>= 1) {
    const float v = __shfl_xor_sync(0xffffffffu, best, o);
    const int j = __shfl_xor_sync(0xffffffffu, idx, o);
    better(best, idx, v, j);
  }
  __shared__ float sb[32];
  __shared__ int si[32];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) {
    sb[warp] = best;
    si[warp] = idx;
  }
  __syncthreads();
  if (warp == 0) {
    best = lane < int(blockDim.x / 32) ? sb[lane] : -FLT_MAX;
    idx = lane < int(blockDim.x / 32) ? si[lane] : vocab;
    for (int o = 16; o > 0; o >>= 1) {
      const float v = __shfl_xor_sync(0xffffffffu, best, o);
      const int j = __shfl_xor_sync(0xffffffffu, idx, o);
      better(best, idx, v, j);
    }
    if (lane == 0) ids[blockIdx.x] = idx < vocab ? idx : 0;
  }
}

}  // namespace

void swiglu(const uint16_t* gate_up, uint16_t* out, int n_tokens, int inter, int block, Act act, void* stream) {
  const size_t total = size_t(n_tokens) * inter;
  if (!total) return;
  with_act(act, [&]<Act A>() {
    using T = typename ActTraits<A>::T;
    launch_pdl(swiglu_kernel<A>, unsigned((total + 255) / 256), 256, 0, static_cast<cudaStream_t>(stream),
               reinterpret_cast<const T*>(gate_up), reinterpret_cast<T*>(out), n_tokens, inter, block);
  });
  AWQ_CUDA_CHECK_LAUNCH();
}

void argmax_rows(const float* logits, int n_rows, int vocab, int* ids, void* stream) {
  if (n_rows <= 0) return;
  launch_pdl(argmax_kernel, n_rows, 1024, 0, static_cast<cudaStream_t>(stream), logits, vocab, ids);
  AWQ_CUDA_CHECK_LAUNCH();
}

}  // namespace awq::cuda
