// Embedding gather and (residual add +) RMSNorm.
//   embed_tokens: grid n_tokens, 256 threads; resid fp32 [n][hidden].
//   add_rmsnorm:  grid n_tokens, 256 threads, one token per block; the sum of
//     squares in fp32 (block reduction), out = fp16(x * rsqrt(mean + eps) * w).
// PRECOND: hidden % 2 == 0; token ids in [0, vocab) (checked on the host).
#include <cuda_fp16.h>

#include "cuda/cuda_check.h"
#include "cuda/launch.h"

namespace awq::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void embed_kernel(const __half* table, const int* tokens, int hidden, float* resid) {
  const __half* row = table + size_t(tokens[blockIdx.x]) * hidden;
  float* out = resid + size_t(blockIdx.x) * hidden;
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) out[i] = __half2float(row[i]);
}

__device__ float block_sum(float v, float* scratch) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < int(blockDim.x / 32) ? scratch[lane] : 0.f;
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__global__ void add_rmsnorm_kernel(float* resid, const __half* delta, const float* weight, __half* out, int hidden,
                                   float eps) {
  __shared__ float scratch[32];
  float* x = resid + size_t(blockIdx.x) * hidden;
  const __half* d = delta ? delta + size_t(blockIdx.x) * hidden : nullptr;
  float ss = 0.f;
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
    float v = x[i];
    if (d) {
      v += __half2float(d[i]);
      x[i] = v;
    }
    ss += v * v;
  }
  const float r = rsqrtf(block_sum(ss, scratch) / float(hidden) + eps);
  __half* o = out + size_t(blockIdx.x) * hidden;
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) o[i] = __float2half_rn(x[i] * r * weight[i]);
}

}  // namespace

void embed_tokens(const uint16_t* table, const int* tokens, int n_tokens, int hidden, float* resid, void* stream) {
  if (n_tokens <= 0) return;
  embed_kernel<<<n_tokens, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(reinterpret_cast<const __half*>(table),
                                                                             tokens, hidden, resid);
  AWQ_CUDA_CHECK_LAUNCH();
}

void add_rmsnorm(float* resid, const uint16_t* delta, const float* weight, uint16_t* out, int n_tokens, int hidden,
                 float eps, void* stream) {
  if (n_tokens <= 0) return;
  add_rmsnorm_kernel<<<n_tokens, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      resid, reinterpret_cast<const __half*>(delta), weight, reinterpret_cast<__half*>(out), hidden, eps);
  AWQ_CUDA_CHECK_LAUNCH();
}

}  // namespace awq::cuda
