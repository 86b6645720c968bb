// Causal attention over the fp16 KV cache, flash style (online softmax), GQA,
// optional sliding window, on CUDA cores, fp32 softmax and accumulation:
//  - decode_attention_kernel: one query, head_dim >= 64 (described below);
//  - attention_kernel: decode for head_dim < 64, and prefill of the head
//    sizes the tensor-core kernel (cuda/flash_attention.cu) lacks.
// attention_kernel: grid (n_heads, ceil(n_tokens / 4), kv_splits); block = 4 warps, warp w owns
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
#include "cuda/flash_attention.h"
#include "cuda/pdl.cuh"
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
  pdl_launch_dependents();
  pdl_wait();
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

// Decode (one query per sequence), head_dim >= 64: grid (n_heads, kv_splits,
// rows), 4 warps; rows = 1 unless a.rows is set (rows mode: blockIdx.z is
// the sequence, with its own position, cache slot, q row and output row).
// The split's keys are dealt to the warps in 32-key tiles (warp w takes
// tiles w, w + 4, ...), and nothing is staged in shared memory: lane j reads
// key j's K row straight from the cache (D/8 independent 16-byte loads, so
// the whole row is in flight at once) and scores it against q (fp32, in
// shared memory, read as broadcasts); for P V each lane owns D/32 adjacent
// output dimensions and loads them from all 32 V rows of the tile (one
// coalesced row per key, 32 loads in flight). The 4 warps' (max, sum, acc)
// meet in shared memory at the end. (The CUDA-core kernel above ran one warp
// per block at decode and waited on a block barrier per 32-key tile: ~40 us
// per layer at a 3k context on an H200.)
template <int D>
__global__ void __launch_bounds__(kWarps * 32) decode_attention_kernel(const AttentionArgs a, float scale) {
  constexpr int kDims = D / 32;
  __shared__ __align__(16) float q[D];
  __shared__ float warp_m[kWarps], warp_l[kWarps];
  __shared__ float warp_acc[kWarps][D];
  pdl_launch_dependents();
  pdl_wait();
  const int h = blockIdx.x, kvh = h / (a.n_heads / a.n_kv), split = blockIdx.y, row = blockIdx.z;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int pos = a.rows.pos ? a.rows.pos[row] : a.pos0[0];
  const size_t slot = a.rows.pos ? size_t(a.rows.slot[row]) * a.rows.slot_stride : 0;
  int lo = a.window > 0 ? max(0, pos - a.window + 1) : 0, hi = pos;
  if (gridDim.y > 1) {  // this split's piece of the CURRENT context (see attention_kernel)
    const int per_split = (hi - lo + 1 + gridDim.y - 1) / gridDim.y;
    const int chunk = (per_split + kTile - 1) / kTile * kTile;
    lo += split * chunk;
    hi = min(hi, lo + chunk - 1);
  }
  const __half* qsrc = reinterpret_cast<const __half*>(a.qkv) + size_t(row) * (a.n_heads + 2 * a.n_kv) * D + h * D;
  for (int d = threadIdx.x; d < D; d += kWarps * 32) q[d] = __half2float(qsrc[d]) * scale;
  __syncthreads();

  const __half* kc = reinterpret_cast<const __half*>(a.k_cache) + slot + size_t(kvh) * a.max_ctx * D;
  const __half* vc = reinterpret_cast<const __half*>(a.v_cache) + slot + size_t(kvh) * a.max_ctx * D;
  float m = -INFINITY, l = 0.f, acc[kDims];
#pragma unroll
  for (int i = 0; i < kDims; ++i) acc[i] = 0.f;
  for (int k0 = lo + warp * kTile; k0 <= hi; k0 += kWarps * kTile) {
    const int key = k0 + lane;
    float s = -INFINITY;
    if (key <= hi) {
      const uint4* krow = reinterpret_cast<const uint4*>(kc + size_t(key) * D);
      uint4 raw[D / 8];
#pragma unroll
      for (int c = 0; c < D / 8; ++c) raw[c] = krow[c];
      float dot = 0.f;
#pragma unroll
      for (int c = 0; c < D / 8; ++c) {
        const __half2* k2 = reinterpret_cast<const __half2*>(&raw[c]);
        const float4 qa = *reinterpret_cast<const float4*>(&q[c * 8]), qb = *reinterpret_cast<const float4*>(&q[c * 8 + 4]);
        const float2 k01 = __half22float2(k2[0]), k23 = __half22float2(k2[1]), k45 = __half22float2(k2[2]),
                     k67 = __half22float2(k2[3]);
        dot += qa.x * k01.x + qa.y * k01.y + qa.z * k23.x + qa.w * k23.y + qb.x * k45.x + qb.y * k45.y +
               qb.z * k67.x + qb.w * k67.y;
      }
      s = dot;
    }
    float tile_max = s;  // finite: key k0 (lane 0) is always in range
    for (int o = 16; o > 0; o >>= 1) tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, o));
    const float m_new = fmaxf(m, tile_max);
    const float corr = __expf(m - m_new);  // 0 on the first tile (m = -inf)
    const float p = key <= hi ? __expf(s - m_new) : 0.f;
    float psum = p;
    for (int o = 16; o > 0; o >>= 1) psum += __shfl_xor_sync(0xffffffffu, psum, o);
    l = l * corr + psum;
    m = m_new;
#pragma unroll
    for (int i = 0; i < kDims; ++i) acc[i] *= corr;
    const __half* vtile = vc + size_t(k0) * D + lane * kDims;
#pragma unroll
    for (int j = 0; j < kTile; ++j) {
      const float pj = __shfl_sync(0xffffffffu, p, j);
      if (k0 + j > hi) continue;  // past the range: the row may be unwritten
      const __half2* v2 = reinterpret_cast<const __half2*>(vtile + size_t(j) * D);
#pragma unroll
      for (int i = 0; i < kDims / 2; ++i) {
        const float2 v = __half22float2(v2[i]);
        acc[2 * i] += pj * v.x;
        acc[2 * i + 1] += pj * v.y;
      }
    }
  }
  if (lane == 0) {
    warp_m[warp] = m;
    warp_l[warp] = l;
  }
#pragma unroll
  for (int i = 0; i < kDims; ++i) warp_acc[warp][lane * kDims + i] = acc[i];
  __syncthreads();
  float mx = -INFINITY;
#pragma unroll
  for (int w = 0; w < kWarps; ++w)
    if (warp_l[w] > 0.f) mx = fmaxf(mx, warp_m[w]);
  float weight[kWarps], den = 0.f;
#pragma unroll
  for (int w = 0; w < kWarps; ++w) {
    weight[w] = warp_l[w] > 0.f ? __expf(warp_m[w] - mx) : 0.f;
    den += weight[w] * warp_l[w];
  }
  if (gridDim.y == 1) {
    __half* out = reinterpret_cast<__half*>(a.out) + (size_t(row) * a.n_heads + h) * D;
    const float inv = den > 0.f ? 1.f / den : 0.f;
    for (int d = threadIdx.x; d < D; d += kWarps * 32) {
      float v = 0.f;
#pragma unroll
      for (int w = 0; w < kWarps; ++w) v += warp_acc[w][d] * weight[w];
      out[d] = __float2half_rn(v * inv);
    }
    return;
  }
  // partial[h * splits + split] = {max, sum, unnormalized acc[D]}; an empty
  // split writes sum 0 and the merge skips it.
  float* part = a.partial + ((size_t(row) * a.n_heads + h) * gridDim.y + split) * (D + 2);
  if (threadIdx.x == 0) {
    part[0] = den > 0.f ? mx : 0.f;
    part[1] = den;
  }
  for (int d = threadIdx.x; d < D; d += kWarps * 32) {
    float v = 0.f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) v += warp_acc[w][d] * weight[w];
    part[2 + d] = v;
  }
}

// One block per (token, head): out = sum_s acc_s e^(m_s - M) / sum_s l_s e^(m_s - M).
// The split weights are computed once, in parallel (lane = split), so the
// output loop's loads are independent of each other.
__global__ void merge_kernel(const float* __restrict__ partial, __half* __restrict__ out, int n_heads, int head_dim,
                             int splits) {
  __shared__ float weight[kMaxKvSplits];
  __shared__ float inv_den;
  pdl_launch_dependents();
  pdl_wait();
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
  const bool decode = a.n_tokens == 1 || a.rows.pos;
  const int splits = decode ? a.kv_splits : 1;
  if (splits < 1 || splits > kMaxKvSplits)
    throw_cuda_error(cudaErrorInvalidValue, "attention: kv_splits must be 1..64", __FILE__, __LINE__);
  const float scale = 1.f / sqrtf(float(D));
  if constexpr (D >= 64) {
    if (decode) {
      const int rows = a.rows.pos ? a.n_tokens : 1;
      launch_pdl(decode_attention_kernel<D>, dim3(a.n_heads, splits, rows), kWarps * 32, 0, stream, a, scale);
      AWQ_CUDA_CHECK_LAUNCH();
      if (splits > 1)
        launch_pdl(merge_kernel, dim3(rows, a.n_heads), 128, 0, stream, a.partial, reinterpret_cast<__half*>(a.out),
                   a.n_heads, D, splits);
      AWQ_CUDA_CHECK_LAUNCH();
      return;
    }
  }
  if (a.rows.pos)
    throw_cuda_error(cudaErrorInvalidValue, "attention: rows mode needs head_dim >= 64", __FILE__, __LINE__);
  launch_pdl(attention_kernel<D>, dim3(a.n_heads, (a.n_tokens + kWarps - 1) / kWarps, splits), kWarps * 32, 0, stream,
             a, scale);
  AWQ_CUDA_CHECK_LAUNCH();
  if (splits > 1) {
    launch_pdl(merge_kernel, dim3(a.n_tokens, a.n_heads), 128, 0, stream, a.partial, reinterpret_cast<__half*>(a.out),
               a.n_heads, D, splits);
    AWQ_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace

size_t attention_partial_floats(int n_heads, int head_dim, int kv_splits, int n_rows) {
  return size_t(n_rows) * n_heads * kv_splits * (head_dim + 2);
}

void attention(const AttentionArgs& a, void* stream) {
  if (a.n_tokens <= 0) return;
  if (flash_prefill_supported(a)) return flash_prefill_attention(a, stream);
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
