// RoPE (HF rotate_half pairing) on q and k in place, plus the KV-cache store.
// Grid (n_tokens, n_heads + 2 n_kv), head_dim/2 threads: block (t, h) handles
// head h of token t at position pos0[0] + t, or, in rows mode (KvRows set),
// at rows.pos[t] of cache slot rows.slot[t]. Angles in fp32 from the host's
// inv_freq table (same formula as the CPU path), sincosf (full precision:
// positions reach 1e5); rotated q and k are rounded once to the activation
// type (fp16 or bf16) of qkv and the caches. v heads are only copied into
// the cache.
// PRECOND: head_dim even and <= 1024; pos0 + n_tokens <= max_ctx.
#include "cuda/act_type.cuh"
#include "cuda/cuda_check.h"
#include "cuda/launch.h"
#include "cuda/pdl.cuh"

namespace awq::cuda {
namespace {

template <Act A>
__global__ void rope_store_kernel(typename ActTraits<A>::T* qkv, int n_heads, int n_kv, int head_dim,
                                  const float* inv_freq, const int* pos0, KvRows rows,
                                  typename ActTraits<A>::T* k_cache, typename ActTraits<A>::T* v_cache, int max_ctx) {
  using Tr = ActTraits<A>;
  using T = typename Tr::T;
  pdl_launch_dependents();
  // Positions (uploaded before the pass) and inv_freq are read and the angle
  // computed before waiting for the q/k/v projection (cuda/pdl.cuh).
  const int t = blockIdx.x, h = blockIdx.y, j = threadIdx.x, half_dim = head_dim / 2;
  const int pos = rows.pos ? rows.pos[t] : pos0[0] + t;
  float s = 0.f, c = 0.f;
  if (h < n_heads + n_kv) sincosf(float(pos) * inv_freq[j], &s, &c);
  pdl_wait();
  if (rows.pos) {
    const size_t slot = size_t(rows.slot[t]) * rows.slot_stride;
    k_cache += slot;
    v_cache += slot;
  }
  T* head = qkv + (size_t(t) * (n_heads + 2 * n_kv) + h) * head_dim;
  if (h >= n_heads + n_kv) {  // v head
    const int kvh = h - n_heads - n_kv;
    T* dst = v_cache + (size_t(kvh) * max_ctx + pos) * head_dim;
    dst[j] = head[j];
    dst[j + half_dim] = head[j + half_dim];
    return;
  }
  const float x0 = Tr::to_float(head[j]), x1 = Tr::to_float(head[j + half_dim]);
  const T r0 = Tr::from_float(x0 * c - x1 * s), r1 = Tr::from_float(x1 * c + x0 * s);
  head[j] = r0;
  head[j + half_dim] = r1;
  if (h >= n_heads) {
    T* dst = k_cache + (size_t(h - n_heads) * max_ctx + pos) * head_dim;
    dst[j] = r0;
    dst[j + half_dim] = r1;
  }
}

}  // namespace

void rope_store_kv(uint16_t* qkv, int n_tokens, int n_heads, int n_kv, int head_dim, const float* inv_freq,
                   const int* pos0, const KvRows& rows, uint16_t* k_cache, uint16_t* v_cache, int max_ctx, Act act,
                   void* stream) {
  if (n_tokens <= 0) return;
  with_act(act, [&]<Act A>() {
    using T = typename ActTraits<A>::T;
    launch_pdl(rope_store_kernel<A>, dim3(n_tokens, n_heads + 2 * n_kv), head_dim / 2, 0,
               static_cast<cudaStream_t>(stream), reinterpret_cast<T*>(qkv), n_heads, n_kv, head_dim, inv_freq, pos0,
               rows, reinterpret_cast<T*>(k_cache), reinterpret_cast<T*>(v_cache), max_ctx);
  });
  AWQ_CUDA_CHECK_LAUNCH();
}

}  // namespace awq::cuda
