// Causal attention over the KV cache, flash style (online softmax), GQA,
// optional sliding window, on CUDA cores, fp32 softmax and accumulation. q,
// the caches and out are of the activation type (fp16 or bf16); every kernel
// is a template on it (cuda/act_type.cuh).
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
#include <cfloat>

#include "cuda/act_type.cuh"
#include "cuda/cuda_check.h"
#include "cuda/flash_attention.h"
#include "cuda/pdl.cuh"
#include "cuda/launch.h"

namespace awq::cuda {
namespace {

constexpr int kWarps = 4, kTile = 32;

// The first visible key of a query at `pos` (sliding window or none).
__device__ __forceinline__ int first_key(int pos, int window) { return window > 0 ? max(0, pos - window + 1) : 0; }

template <int D, Act A>
struct AttnSmem {
  float q[kWarps][D];
  typename ActTraits<A>::T2 k[kTile][D / 2 + 1];
  typename ActTraits<A>::T2 v[kTile][D / 2];
};

template <int D, Act A>
__global__ void __launch_bounds__(kWarps * 32) attention_kernel(const AttentionArgs a, float scale) {
  using Tr = ActTraits<A>;
  using T2 = typename Tr::T2;
  __shared__ AttnSmem<D, A> sm;
  pdl_launch_dependents();
  pdl_wait();
  constexpr int kPairs = D / 2, kPer = (kPairs + 31) / 32;  // output pairs per lane (lane + 32 i)
  const int h = blockIdx.x, kvh = h / (a.n_heads / a.n_kv), split = blockIdx.z;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int base = a.pos0[0];
  const int t = blockIdx.y * kWarps + warp;
  const bool valid = t < a.n_tokens;
  const int pos = base + min(t, a.n_tokens - 1);
  const int lo = first_key(pos, a.window);

  // Key range of the block (union over its queries). With split-KV the
  // range is cut into gridDim.z equal tile-aligned pieces from the CURRENT
  // context (pos0 is read on the device), so a captured graph's fixed grid
  // spreads a short context over few splits and a long one over all.
  const int t_first = blockIdx.y * kWarps, t_last = min(a.n_tokens - 1, t_first + kWarps - 1);
  int block_lo = first_key(base + t_first, a.window);
  int block_hi = base + t_last;  // inclusive
  if (gridDim.z > 1) {
    const int per_split = (block_hi - block_lo + 1 + gridDim.z - 1) / gridDim.z;
    const int chunk = (per_split + kTile - 1) / kTile * kTile;
    block_lo += split * chunk;
    block_hi = min(block_hi, block_lo + chunk - 1);
  }

  const int row_stride = (a.n_heads + 2 * a.n_kv) * D;
  if (valid) {
    const typename Tr::T* q = reinterpret_cast<const typename Tr::T*>(a.qkv) + size_t(t) * row_stride + h * D;
    for (int d = lane; d < D; d += 32) sm.q[warp][d] = Tr::to_float(q[d]) * scale;
  }
  float m = -FLT_MAX, l = 0.f;
  float2 acc[kPer];
#pragma unroll
  for (int i = 0; i < kPer; ++i) acc[i] = make_float2(0.f, 0.f);

  const T2* kc = reinterpret_cast<const T2*>(a.k_cache) + size_t(kvh) * a.max_ctx * (D / 2);
  const T2* vc = reinterpret_cast<const T2*>(a.v_cache) + size_t(kvh) * a.max_ctx * (D / 2);
  for (int k0 = block_lo; k0 <= block_hi; k0 += kTile) {
    __syncthreads();  // previous tile fully consumed (and q visible on the first pass)
    for (int i = threadIdx.x; i < kTile * (D / 2); i += kWarps * 32) {
      const int r = i / (D / 2), c = i % (D / 2);
      const bool in = k0 + r <= block_hi;
      sm.k[r][c] = in ? kc[size_t(k0 + r) * (D / 2) + c] : T2(Tr::from_float(0.f), Tr::from_float(0.f));
      sm.v[r][c] = in ? vc[size_t(k0 + r) * (D / 2) + c] : T2(Tr::from_float(0.f), Tr::from_float(0.f));
    }
    __syncthreads();
    if (!valid) continue;
    const int key = k0 + lane;
    float s = -FLT_MAX;
    if (key <= pos && key >= lo && key <= block_hi) {
      s = 0.f;
#pragma unroll 8
      for (int c = 0; c < D / 2; ++c) {
        const float2 kv = Tr::to_float2(sm.k[lane][c]);
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
        const float2 v = Tr::to_float2(sm.v[j][lane + 32 * i]);
        acc[i].x += pj * v.x;
        acc[i].y += pj * v.y;
      }
    }
  }
  if (!valid) return;
  if (gridDim.z == 1) {
    const float inv = l > 0.f ? 1.f / l : 0.f;
    T2* out = reinterpret_cast<T2*>(a.out + size_t(t) * a.n_heads * D + h * D);
#pragma unroll
    for (int i = 0; i < kPer; ++i)
      if (lane + 32 * i < kPairs) out[lane + 32 * i] = Tr::from_float2(make_float2(acc[i].x * inv, acc[i].y * inv));
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
// The grid is fixed (a captured graph replays it while the context grows);
// the keys visible NOW are cut into decode_splits() pieces of at least
// kMinSplitKeys, and the blocks of the other splits return at once. A
// context of up to kMinSplitKeys keys is one block per head that writes the
// output itself, and the merge kernel returns at once.
// A split's keys are dealt to the warps in 32-key tiles (warp w takes tiles
// w, w + 4, ...), nothing staged in shared memory: lane j reads key j's K
// row straight from the cache (D/8 independent 16-byte loads) and, for
// P V, its own D/32 adjacent dimensions of all 32 V rows of the tile. The K
// and V loads of a tile are issued together, the first tile's before
// waiting for the previous kernel (all but the new key), so a short context
// costs no memory round trip after the wait but q's and the new key's (q,
// then K, then V, all after the wait, measured ~8 us a layer on an H200).
// Blocks of unused splits return before waiting; split 0 always waits, so
// the grid still completes after the kernel before it (cuda/pdl.cuh).
// q is fp32 in shared memory, read as broadcasts. The 4 warps' (max, sum,
// acc) meet in shared memory at the end.
constexpr int kMinSplitKeys = 128;

__device__ __forceinline__ int decode_splits(int keys, int grid_splits) {
  return min(grid_splits, (keys + kMinSplitKeys - 1) / kMinSplitKeys);
}

// kDims 16-bit activation values loaded as one vector.
template <int N> struct ActVec;
template <> struct ActVec<2> { using type = uint32_t; };
template <> struct ActVec<4> { using type = uint2; };
template <> struct ActVec<8> { using type = uint4; };

template <int D, Act A>
__global__ void __launch_bounds__(kWarps * 32) decode_attention_kernel(const AttentionArgs a, float scale) {
  using Tr = ActTraits<A>;
  using T = typename Tr::T;
  using T2 = typename Tr::T2;
  constexpr int kDims = D / 32;
  using VVec = typename ActVec<kDims>::type;
  // V rows held in registers beside the K row: 2 x 64 registers at D = 128;
  // wider heads load V after the scores instead.
  constexpr bool kVEarly = D <= 128;
  __shared__ __align__(16) float q[D];
  __shared__ float warp_m[kWarps], warp_l[kWarps];
  __shared__ float warp_acc[kWarps][D];
  pdl_launch_dependents();
  // Before pdl_wait (see the loads below): the position and slot, uploaded
  // before the pass began, and the cache rows that earlier passes wrote.
  const int h = blockIdx.x, kvh = h / (a.n_heads / a.n_kv), split = blockIdx.y, row = blockIdx.z;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int pos = a.rows.pos ? a.rows.pos[row] : a.pos0[0];
  const size_t slot = a.rows.pos ? size_t(a.rows.slot[row]) * a.rows.slot_stride : 0;
  int lo = first_key(pos, a.window), hi = pos;
  const int splits = decode_splits(hi - lo + 1, gridDim.y);
  if (split >= splits) return;
  if (splits > 1) {  // this split's tile-aligned piece of the current context
    const int per_split = (hi - lo + 1 + splits - 1) / splits;
    const int chunk = (per_split + kTile - 1) / kTile * kTile;
    lo += split * chunk;
    hi = min(hi, lo + chunk - 1);
  }
  const T* kc = reinterpret_cast<const T*>(a.k_cache) + slot + size_t(kvh) * a.max_ctx * D;
  const T* vc = reinterpret_cast<const T*>(a.v_cache) + slot + size_t(kvh) * a.max_ctx * D;
  // Keys past `last` load as zeros (their rows may be unwritten or past the cache).
  uint4 kraw[D / 8];
  VVec vraw[kTile];
  auto load_k = [&](int k0, int last) {
    const bool in = k0 + lane <= last;
    const uint4* krow = reinterpret_cast<const uint4*>(kc + size_t(in ? k0 + lane : 0) * D);
#pragma unroll
    for (int c = 0; c < D / 8; ++c) kraw[c] = in ? krow[c] : make_uint4(0, 0, 0, 0);
  };
  auto load_v = [&](int k0, int last) {
#pragma unroll
    for (int j = 0; j < kTile; ++j)
      vraw[j] = k0 + j <= last ? *reinterpret_cast<const VVec*>(vc + size_t(k0 + j) * D + lane * kDims) : VVec{};
  };
  // The first tile's keys before `pos` were written by earlier passes (the
  // pass's first kernel is an ordinary launch, so they are complete): their
  // loads go out before waiting for rope_store_kv, which writes key `pos`
  // alone; that row follows the wait. The DRAM round trip of a short
  // context thus overlaps the kernels before this one.
  int k0 = lo + warp * kTile;
  load_k(k0, min(hi, pos - 1));
  if constexpr (kVEarly) load_v(k0, min(hi, pos - 1));
  pdl_wait();
  if (hi == pos && k0 <= pos && pos < k0 + kTile) {
    const int jn = pos - k0;
    if (lane == jn) {
      const uint4* krow = reinterpret_cast<const uint4*>(kc + size_t(pos) * D);
#pragma unroll
      for (int c = 0; c < D / 8; ++c) kraw[c] = krow[c];
    }
    if constexpr (kVEarly) {
#pragma unroll
      for (int j = 0; j < kTile; ++j)
        if (j == jn) vraw[j] = *reinterpret_cast<const VVec*>(vc + size_t(pos) * D + lane * kDims);
    }
  }
  const T* qsrc = reinterpret_cast<const T*>(a.qkv) + size_t(row) * (a.n_heads + 2 * a.n_kv) * D + h * D;
  for (int d = threadIdx.x; d < D; d += kWarps * 32) q[d] = Tr::to_float(qsrc[d]) * scale;
  __syncthreads();

  float m = -INFINITY, l = 0.f, acc[kDims];
#pragma unroll
  for (int i = 0; i < kDims; ++i) acc[i] = 0.f;
  for (bool first = true; k0 <= hi; k0 += kWarps * kTile, first = false) {
    if (!first) {
      load_k(k0, hi);
      if constexpr (kVEarly) load_v(k0, hi);
    }
    const int key = k0 + lane;
    float dot = 0.f;
#pragma unroll
    for (int c = 0; c < D / 8; ++c) {
      const T2* k2 = reinterpret_cast<const T2*>(&kraw[c]);
      const float4 qa = *reinterpret_cast<const float4*>(&q[c * 8]), qb = *reinterpret_cast<const float4*>(&q[c * 8 + 4]);
      const float2 k01 = Tr::to_float2(k2[0]), k23 = Tr::to_float2(k2[1]), k45 = Tr::to_float2(k2[2]),
                   k67 = Tr::to_float2(k2[3]);
      dot += qa.x * k01.x + qa.y * k01.y + qa.z * k23.x + qa.w * k23.y + qb.x * k45.x + qb.y * k45.y + qb.z * k67.x +
             qb.w * k67.y;
    }
    const float s = key <= hi ? dot : -INFINITY;
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
    if constexpr (!kVEarly) load_v(k0, hi);
#pragma unroll
    for (int j = 0; j < kTile; ++j) {
      const float pj = __shfl_sync(0xffffffffu, p, j);  // 0 past hi, where V loaded as zeros
      const T2* v2 = reinterpret_cast<const T2*>(&vraw[j]);
#pragma unroll
      for (int i = 0; i < kDims / 2; ++i) {
        const float2 v = Tr::to_float2(v2[i]);
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
  if (splits == 1) {
    T* out = reinterpret_cast<T*>(a.out) + (size_t(row) * a.n_heads + h) * D;
    const float inv = den > 0.f ? 1.f / den : 0.f;
    for (int d = threadIdx.x; d < D; d += kWarps * 32) {
      float v = 0.f;
#pragma unroll
      for (int w = 0; w < kWarps; ++w) v += warp_acc[w][d] * weight[w];
      out[d] = Tr::from_float(v * inv);
    }
    return;
  }
  // partial[h * grid splits + split] = {max, sum, unnormalized acc[D]}
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
// Records are `stride_splits` apart per head; with `pos` (decode_attention_
// kernel: pos[t] is token t's position) only the decode_splits() of its
// context were written, and one split means the output is already there.
template <Act A>
__global__ void merge_kernel(const float* __restrict__ partial, typename ActTraits<A>::T* __restrict__ out,
                             int n_heads, int head_dim, int stride_splits, const int* __restrict__ pos, int window) {
  __shared__ float weight[kMaxKvSplits];
  __shared__ float inv_den;
  pdl_launch_dependents();
  // Waits even when there is nothing to merge: a later kernel's pdl_wait
  // covers the attention only through this grid's wait (cuda/pdl.cuh).
  pdl_wait();
  const int t = blockIdx.x, h = blockIdx.y, stride = head_dim + 2;
  const int splits = pos ? decode_splits(pos[t] - first_key(pos[t], window) + 1, stride_splits) : stride_splits;
  if (splits <= 1) return;
  const float* p = partial + (size_t(t) * n_heads + h) * stride_splits * stride;
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
    out[(size_t(t) * n_heads + h) * head_dim + d] = ActTraits<A>::from_float(num * inv_den);
  }
}

template <int D, Act A>
void launch(const AttentionArgs& a, cudaStream_t stream) {
  using T = typename ActTraits<A>::T;
  const bool decode = a.n_tokens == 1 || a.rows.pos;
  const int splits = decode ? a.kv_splits : 1;
  if (splits < 1 || splits > kMaxKvSplits)
    throw_cuda_error(cudaErrorInvalidValue, "attention: kv_splits must be 1..64", __FILE__, __LINE__);
  const float scale = 1.f / sqrtf(float(D));
  if constexpr (D >= 64) {
    if (decode) {
      const int rows = a.rows.pos ? a.n_tokens : 1;
      launch_pdl(decode_attention_kernel<D, A>, dim3(a.n_heads, splits, rows), kWarps * 32, 0, stream, a, scale);
      AWQ_CUDA_CHECK_LAUNCH();
      if (splits > 1)
        launch_pdl(merge_kernel<A>, dim3(rows, a.n_heads), 128, 0, stream, a.partial, reinterpret_cast<T*>(a.out),
                   a.n_heads, D, splits, a.rows.pos ? a.rows.pos : a.pos0, a.window);
      AWQ_CUDA_CHECK_LAUNCH();
      return;
    }
  }
  if (a.rows.pos)
    throw_cuda_error(cudaErrorInvalidValue, "attention: rows mode needs head_dim >= 64", __FILE__, __LINE__);
  launch_pdl(attention_kernel<D, A>, dim3(a.n_heads, (a.n_tokens + kWarps - 1) / kWarps, splits), kWarps * 32, 0,
             stream, a, scale);
  AWQ_CUDA_CHECK_LAUNCH();
  if (splits > 1) {
    launch_pdl(merge_kernel<A>, dim3(a.n_tokens, a.n_heads), 128, 0, stream, a.partial, reinterpret_cast<T*>(a.out),
               a.n_heads, D, splits, static_cast<const int*>(nullptr), 0);
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
  with_act(a.act, [&]<Act A>() {
    switch (a.head_dim) {
      case 8: launch<8, A>(a, s); break;
      case 16: launch<16, A>(a, s); break;
      case 32: launch<32, A>(a, s); break;
      case 64: launch<64, A>(a, s); break;
      case 128: launch<128, A>(a, s); break;
      case 256: launch<256, A>(a, s); break;
      default:
        throw_cuda_error(cudaErrorInvalidValue, "attention: head_dim must be 8, 16, 32, 64, 128 or 256", __FILE__,
                         __LINE__);
    }
  });
}

}  // namespace awq::cuda
