// Causal attention over the fp16 KV cache, flash style (online softmax), GQA,
// optional sliding window; used for prefill (many queries) and decode (one).
// Grid (n_heads, ceil(n_tokens / 4), kv_splits); block = 4 warps, warp w owns
// query t = 4 * blockIdx.y + w of head blockIdx.x at position pos0[0] + t.
// The block walks the key range its queries need in tiles of 32 keys: K and V
// tiles staged in shared memory (K rows padded by one word: conflict-free),
// lane j scores key j of the tile, then each lane accumulates its own
// head_dim/32 output dimensions. fp32 softmax and accumulation.
// Split-KV (decode): the visible keys of the current context are cut into
// kv_splits tile-aligned pieces; split s writes (max, sum, unnormalized acc)
// to `partial` and a merge kernel combines the splits with log-sum-exp
// weights. Empty splits write sum 0 and are skipped, so the grid can be fixed
// for a CUDA graph while the context grows.
// PRECOND: head_dim in {8, 16, 32, 64, 128, 256}; n_heads % n_kv == 0;
//          1 <= kv_splits <= 64; caches hold
//          positions [0, pos0 + n_tokens) (rope_store_kv ran first).
#include <cuda_fp16.h>

#include <cfloat>

#include "cuda/cuda_check.h"
#include "cuda/launch.h"

namespace awq::cuda {
namespace {

constexpr int kWarps = 4, kTile = 32;

template <int D>
struct AttnSmem {
  float q[kWarps][D];
  __half2 k[kTile][D / 2 + 1];
  __half2 v[kTile][D / 2];
};

template <int D>
__global__ void __launch_bounds__(kWarps * 32) attention_kernel(const AttentionArgs a, float scale) {
  __shared__ AttnSmem<D> sm;
  constexpr int kPairs = D / 2, kPer = (kPairs + 31) / 32;  // half2 output pairs per lane (lane + 32 i)
  const int h = blockIdx.x, kvh = h / (a.n_heads / a.n_kv), split = blockIdx.z;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int base = a.pos0[0];
  const int t = blockIdx.y * kWarps + warp;
  const bool valid = t < a.n_tokens;
  const int pos = base + min(t, a.n_tokens - 1);
  const int lo = a.window > 0 ? max(0, pos - a.window + 1) : 0;

  // Key range of the block (union over its queries). With split-KV the
  // range is cut into gridDim.z equal tile-aligned pieces from the CURRENT
  // context (pos0 is read on the device), so a captured graph's fixed grid
  // spreads a short context over few splits and a long one over all.
  const int t_first = blockIdx.y * kWarps, t_last = min(a.n_tokens - 1, t_first + kWarps - 1);
  int block_lo = a.window > 0 ? max(0, base + t_first - a.window + 1) : 0;
  int block_hi = base + t_last;  // inclusive
  if (gridDim.z > 1) {
    const int per_split = (block_hi - block_lo + 1 + gridDim.z - 1) / gridDim.z;
    const int chunk = (per_split + kTile - 1) / kTile * kTile;
    block_lo += split * chunk;
    block_hi = min(block_hi, block_lo + chunk - 1);
  }

  const int row_stride = (a.n_heads + 2 * a.n_kv) * D;
  if (valid) {
    const __half* q = reinterpret_cast<const __half*>(a.qkv) + size_t(t) * row_stride + h * D;
    for (int d = lane; d < D; d += 32) sm.q[warp][d] = __half2float(q[d]) * scale;
  }
  float m = -FLT_MAX, l = 0.f;
  float2 acc[kPer];
#pragma unroll
  for (int i = 0; i < kPer; ++i) acc[i] = make_float2(0.f, 0.f);

  const __half2* kc = reinterpret_cast<const __half2*>(a.k_cache) + size_t(kvh) * a.max_ctx * (D / 2);
  const __half2* vc = reinterpret_cast<const __half2*>(a.v_cache) + size_t(kvh) * a.max_ctx * (D / 2);
  for (int k0 = block_lo; k0 <= block_hi; k0 += kTile) {
    __syncthreads();  // previous tile fully consumed (and q visible on the first pass)
    for (int i = threadIdx.x; i < kTile * (D / 2); i += kWarps * 32) {
      const int r = i / (D / 2), c = i % (D / 2);
      const bool in = k0 + r <= block_hi;
      sm.k[r][c] = in ? kc[size_t(k0 + r) * (D / 2) + c] : __half2(__float2half(0.f), __float2half(0.f));
      sm.v[r][c] = in ? vc[size_t(k0 + r) * (D / 2) + c] : __half2(__float2half(0.f), __float2half(0.f));
    }
    __syncthreads();
    if (!valid) continue;
    const int key = k0 + lane;
    float s = -FLT_MAX;
    if (key <= pos && key >= lo && key <= block_hi) {
      s = 0.f;
#pragma unroll 8
      for (int c = 0; c < D / 2; ++c) {
        const float2 kv = __half22float2(sm.k[lane][c]);
        s += sm.q[warp][2 * c] * kv.x + sm.q[warp][2 * c + 1] * kv.y;
      }
    }
    float tile_max = s;
    for (int o = 16; o > 0; o >>= 1) tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, o));
    if (tile_max == -FLT_MAX) continue;  // no visible key in this tile
    const float m_new = fmaxf(m, tile_max);
    const float corr = __expf(m - m_new);
    const float p = s == -FLT_MAX ? 0.f : __expf(s - m_new);
    float psum = p;
    for (int o = 16; o > 0; o >>= 1) psum += __shfl_xor_sync(0xffffffffu, psum, o);
    l = l * corr + psum;
    m = m_new;
#pragma unroll
    for (int i = 0; i < kPer; ++i) acc[i] = make_float2(acc[i].x * corr, acc[i].y * corr);
    for (int j = 0; j < kTile; ++j) {
      const float pj = __shfl_sync(0xffffffffu, p, j);
#pragma unroll
      for (int i = 0; i < kPer; ++i) {
        if (lane + 32 * i >= kPairs) continue;
        const float2 v = __half22float2(sm.v[j][lane + 32 * i]);
        acc[i].x += pj * v.x;
        acc[i].y += pj * v.y;
      }
    }
  }
  if (!valid) return;
  if (gridDim.z == 1) {
    const float inv = l > 0.f ? 1.f / l : 0.f;
    __half2* out = reinterpret_cast<__half2*>(a.out + size_t(t) * a.n_heads * D + h * D);
#pragma unroll
    for (int i = 0; i < kPer; ++i)
      if (lane + 32 * i < kPairs) out[lane + 32 * i] = __floats2half2_rn(acc[i].x * inv, acc[i].y * inv);
    return;
  }
  // partial[(t * n_heads + h) * splits + split] = {m, l, acc[D]}
  float* part = a.partial + ((size_t(t) * a.n_heads + h) * gridDim.z + split) * (D + 2);
  if (lane == 0) {
    part[0] = m;
    part[1] = l;
  }
#pragma unroll
  for (int i = 0; i < kPer; ++i) {
    if (lane + 32 * i >= kPairs) continue;
    part[2 + 2 * (lane + 32 * i)] = acc[i].x;
    part[3 + 2 * (lane + 32 * i)] = acc[i].y;
  }
}

// One block per (token, head): out = sum_s acc_s e^(m_s - M) / sum_s l_s e^(m_s - M).
// The split weights are computed once, in parallel (lane = split), so the
// output loop's loads are independent of each other.
__global__ void merge_kernel(const float* __restrict__ partial, __half* __restrict__ out, int n_heads, int head_dim,
                             int splits) {
  __shared__ float weight[kMaxKvSplits];
  __shared__ float inv_den;
  const int t = blockIdx.x, h = blockIdx.y, stride = head_dim + 2;
  const float* p = partial + (size_t(t) * n_heads + h) * splits * stride;
  if (threadIdx.x < 32) {
    const int lane = threadIdx.x;
    float mx = -FLT_MAX;
    for (int s = lane; s < splits; s += 32)
      if (p[s * stride + 1] > 0.f) mx = fmaxf(mx, p[s * stride]);
    for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
    float den = 0.f;
    for (int s = lane; s < splits; s += 32) {
      const float l = p[s * stride + 1];
      const float w = l > 0.f ? __expf(p[s * stride] - mx) : 0.f;
      weight[s] = w;
      den += w * l;
    }
    for (int o = 16; o > 0; o >>= 1) den += __shfl_xor_sync(0xffffffffu, den, o);
    if (lane == 0) inv_den = den > 0.f ? 1.f / den : 0.f;
  }
  __syncthreads();
  for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
    float num = 0.f;
#pragma unroll 8
    for (int s = 0; s < splits; ++s) num += p[s * stride + 2 + d] * weight[s];
    out[(size_t(t) * n_heads + h) * head_dim + d] = __float2half_rn(num * inv_den);
  }
}

template <int D>
void launch(const AttentionArgs& a, cudaStream_t stream) {
  const int splits = a.n_tokens == 1 ? a.kv_splits : 1;
  if (splits < 1 || splits > kMaxKvSplits)
    throw_cuda_error(cudaErrorInvalidValue, "attention: kv_splits must be 1..64", __FILE__, __LINE__);
  const float scale = 1.f / sqrtf(float(D));
  attention_kernel<D><<<dim3(a.n_heads, (a.n_tokens + kWarps - 1) / kWarps, splits), kWarps * 32, 0, stream>>>(
      a, scale);
  AWQ_CUDA_CHECK_LAUNCH();
  if (splits > 1) {
    merge_kernel<<<dim3(a.n_tokens, a.n_heads), 128, 0, stream>>>(a.partial, reinterpret_cast<__half*>(a.out),
                                                                    a.n_heads, D, splits);
    AWQ_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace

size_t attention_partial_floats(int n_heads, int head_dim, int kv_splits) {
  return size_t(n_heads) * kv_splits * (head_dim + 2);
}

void attention(const AttentionArgs& a, void* stream) {
  if (a.n_tokens <= 0) return;
  const auto s = static_cast<cudaStream_t>(stream);
  switch (a.head_dim) {
    case 8: launch<8>(a, s); break;
    case 16: launch<16>(a, s); break;
    case 32: launch<32>(a, s); break;
    case 64: launch<64>(a, s); break;
    case 128: launch<128>(a, s); break;
    case 256: launch<256>(a, s); break;
    default: throw_cuda_error(cudaErrorInvalidValue, "attention: head_dim must be 8, 16, 32, 64, 128 or 256", __FILE__, __LINE__);
  }
}

}  // namespace awq::cuda
