// Embedding gather and (residual add +) RMSNorm.
//   embed_tokens: grid n_tokens, 256 threads; resid fp32 [n][hidden].
//   add_rmsnorm:  grid n_tokens, 512 threads, one token per block; the sum of
//     squares in fp32 (block reduction), out = x * rsqrt(mean + eps) * w
//     rounded to the activation type (fp16 or bf16).
// The table, delta and out are of the activation type; each kernel is a
// template on it (cuda/act_type.cuh).
// PRECOND: hidden % 4 == 0, rows 16-byte aligned; token ids in [0, vocab)
//          (checked on the host).
#include "cuda/act_type.cuh"
#include "cuda/cuda_check.h"
#include "cuda/launch.h"
#include "cuda/pdl.cuh"

namespace awq::cuda {
namespace {

constexpr int kThreads = 256;

template <Act A>
__global__ void embed_kernel(const typename ActTraits<A>::T* table, const int* tokens, int hidden, float* resid) {
  pdl_launch_dependents();
  pdl_wait();
  const typename ActTraits<A>::T* row = table + size_t(tokens[blockIdx.x]) * hidden;
  float* out = resid + size_t(blockIdx.x) * hidden;
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) out[i] = ActTraits<A>::to_float(row[i]);
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

// One token per block. Each thread keeps its kNormVec float4 pieces of the
// row in registers between the sum of squares and the output pass, and the
// loads are independent (restrict), so a decode-sized row costs one memory
// round trip instead of one per loop iteration (the scalar loop took 15 us
// at hidden 4096 on an H200; ncu). Rows wider than the register span
// (hidden > 4 * kNormThreads * kNormVec) continue in a plain loop.
constexpr int kNormThreads = 512, kNormVec = 4;

// a + four activation values at d.
template <Act A>
__device__ float4 add_act4(float4 a, const typename ActTraits<A>::T* __restrict__ d) {
  using T2 = typename ActTraits<A>::T2;
  const uint2 raw = *reinterpret_cast<const uint2*>(d);
  const float2 lo = ActTraits<A>::to_float2(*reinterpret_cast<const T2*>(&raw.x));
  const float2 hi = ActTraits<A>::to_float2(*reinterpret_cast<const T2*>(&raw.y));
  return make_float4(a.x + lo.x, a.y + lo.y, a.z + hi.x, a.w + hi.y);
}

template <Act A>
__global__ void __launch_bounds__(kNormThreads) add_rmsnorm_kernel(float* __restrict__ resid,
                                                                   const typename ActTraits<A>::T* __restrict__ delta,
                                                                   const float* __restrict__ weight,
                                                                   typename ActTraits<A>::T* __restrict__ out,
                                                                   int hidden, float eps) {
  using Tr = ActTraits<A>;
  __shared__ float scratch[32];
  pdl_launch_dependents();
  const int n4 = hidden / 4;
  // The norm weights are immutable: fetched before waiting for the kernel
  // that wrote delta, off the dependent chain.
  const float4* w4 = reinterpret_cast<const float4*>(weight);
  float4 wv[kNormVec];
#pragma unroll
  for (int j = 0; j < kNormVec; ++j) {
    const int i = threadIdx.x + j * kNormThreads;
    if (i < n4) wv[j] = w4[i];
  }
  pdl_wait();
  float4* x = reinterpret_cast<float4*>(resid + size_t(blockIdx.x) * hidden);
  const typename Tr::T* d = delta ? delta + size_t(blockIdx.x) * hidden : nullptr;
  float4 v[kNormVec];
  float ss = 0.f;
#pragma unroll
  for (int j = 0; j < kNormVec; ++j) {
    const int i = threadIdx.x + j * kNormThreads;
    if (i >= n4) break;
    v[j] = x[i];
    if (d) {
      v[j] = add_act4<A>(v[j], d + 4 * i);
      x[i] = v[j];
    }
    ss += v[j].x * v[j].x + v[j].y * v[j].y + v[j].z * v[j].z + v[j].w * v[j].w;
  }
  for (int i = threadIdx.x + kNormVec * kNormThreads; i < n4; i += kNormThreads) {
    float4 a = x[i];
    if (d) {
      a = add_act4<A>(a, d + 4 * i);
      x[i] = a;
    }
    ss += a.x * a.x + a.y * a.y + a.z * a.z + a.w * a.w;
  }
  const float r = rsqrtf(block_sum(ss, scratch) / float(hidden) + eps);
  uint2* o = reinterpret_cast<uint2*>(out + size_t(blockIdx.x) * hidden);
  auto store = [&](int i, float4 a, float4 w) {
    const typename Tr::T2 lo = Tr::from_float2(make_float2(a.x * r * w.x, a.y * r * w.y)),
                          hi = Tr::from_float2(make_float2(a.z * r * w.z, a.w * r * w.w));
    o[i] = make_uint2(*reinterpret_cast<const uint32_t*>(&lo), *reinterpret_cast<const uint32_t*>(&hi));
  };
#pragma unroll
  for (int j = 0; j < kNormVec; ++j) {
    const int i = threadIdx.x + j * kNormThreads;
    if (i >= n4) break;
    store(i, v[j], wv[j]);
  }
  for (int i = threadIdx.x + kNormVec * kNormThreads; i < n4; i += kNormThreads) store(i, x[i], w4[i]);
}

}  // namespace

void embed_tokens(const uint16_t* table, const int* tokens, int n_tokens, int hidden, float* resid, Act act,
                  void* stream) {
  if (n_tokens <= 0) return;
  // An ordinary launch, not launch_pdl: the embedding is the first kernel of
  // a pass and follows the host's uploads of token ids and positions, which
  // are copies, not kernels; PDL's early start is defined against the
  // previous kernel, so the pass starts fully ordered after the uploads
  // rather than relying on how a copy between two kernels is ordered. Every
  // later kernel of the pass runs after this one completes.
  with_act(act, [&]<Act A>() {
    embed_kernel<A><<<n_tokens, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        reinterpret_cast<const typename ActTraits<A>::T*>(table), tokens, hidden, resid);
  });
  AWQ_CUDA_CHECK_LAUNCH();
}

void add_rmsnorm(float* resid, const uint16_t* delta, const float* weight, uint16_t* out, int n_tokens, int hidden,
                 float eps, Act act, void* stream) {
  if (n_tokens <= 0) return;
  if (hidden % 4 != 0)
    throw_cuda_error(cudaErrorInvalidValue, "add_rmsnorm: hidden must be a multiple of 4", __FILE__, __LINE__);
  with_act(act, [&]<Act A>() {
    using T = typename ActTraits<A>::T;
    launch_pdl(add_rmsnorm_kernel<A>, n_tokens, kNormThreads, 0, static_cast<cudaStream_t>(stream), resid,
               reinterpret_cast<const T*>(delta), weight, reinterpret_cast<T*>(out), hidden, eps);
  });
  AWQ_CUDA_CHECK_LAUNCH();
}

}  // namespace awq::cuda
