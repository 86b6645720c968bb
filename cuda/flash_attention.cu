// Prefill attention on tensor cores (flash-attention-2 style), head_dim 64
// or 128: causal, GQA, optional sliding window, over the KV cache. q, the
// caches and out are of the activation type (fp16 or bf16); the kernel is a
// template on it (cuda/act_type.cuh).
//
// Grid (ceil(n_tokens / 64), n_heads); block = 4 warps, warp w owns the 16
// queries 64 * tile + 16 w .. + 15 (query t sits at position pos0[0] + t).
// Query tiles are visited last-first: under the causal mask the last tile has
// the most keys, so the long blocks start in the first wave.
// The block walks its key range [lo, hi] (union over its queries) in tiles of
// 64 keys, K and V double-buffered in shared memory through cp.async (rows
// padded by 16 bytes: ldmatrix is conflict-free; keys past hi are zero-filled
// so that 0-probability rows never multiply garbage).
// Per key tile and warp: S = Q K^T with mma.sync m16n8k16 (activation type
// in, fp32 out; Q fragments stay in registers for the whole walk), mask,
// online softmax in fp32 with exp2 (scale * log2 e folded into S), P rounded
// to the activation type as the A operand of O += P V (V fragments through
// ldmatrix.trans), fp32 O.
// Row sums stay per lane until the end (the row max is shared by the quad,
// so the partial sums combine exactly).
// Precision: like FlashAttention, P and V are activation-type inputs to the
// mma; every accumulation is fp32.
// PRECOND: head_dim in {64, 128}; n_heads % n_kv == 0; caches hold positions
//          [0, pos0 + n_tokens); qkv, caches and out 16-byte aligned.
#include "cuda/cuda_check.h"
#include "cuda/flash_attention.h"
#include "cuda/mma_util.cuh"
#include "cuda/pdl.cuh"

namespace awq::cuda {
namespace {

constexpr int kWarps = 4, kQueries = 16 * kWarps, kKeys = 64;

template <int D, Act A>
struct FlashSmem {
  using T = typename ActTraits<A>::T;
  T q[kQueries][D + 8];
  T k[2][kKeys][D + 8];
  T v[2][kKeys][D + 8];
};

template <int D, Act A>
__global__ void __launch_bounds__(kWarps * 32) flash_prefill_kernel(const AttentionArgs a, float scale_log2) {
  using T = typename ActTraits<A>::T;
  extern __shared__ uint4 smem_raw[];
  FlashSmem<D, A>& sm = *reinterpret_cast<FlashSmem<D, A>*>(smem_raw);
  pdl_launch_dependents();
  pdl_wait();
  constexpr int kSeg = D / 8;  // 16-byte pieces per row
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, cq = lane % 4;
  const int h = blockIdx.y, kvh = h / (a.n_heads / a.n_kv);
  const int t0 = (gridDim.x - 1 - blockIdx.x) * kQueries;
  const int base = a.pos0[0];
  const int t_last = min(a.n_tokens, t0 + kQueries) - 1;
  const int lo = a.window > 0 ? max(0, base + t0 - a.window + 1) : 0;
  const int hi = base + t_last;
  const int n_tiles = (hi - lo) / kKeys + 1;

  const int row_stride = (a.n_heads + 2 * a.n_kv) * D;
  const T* qsrc = reinterpret_cast<const T*>(a.qkv) + h * D;
  const T* kc = reinterpret_cast<const T*>(a.k_cache) + size_t(kvh) * a.max_ctx * D;
  const T* vc = reinterpret_cast<const T*>(a.v_cache) + size_t(kvh) * a.max_ctx * D;

  for (int i = threadIdx.x; i < kQueries * kSeg; i += kWarps * 32) {
    const int r = i / kSeg, s = i % kSeg, t = min(t0 + r, a.n_tokens - 1);
    cp_async16(&sm.q[r][s * 8], qsrc + size_t(t) * row_stride + s * 8, t0 + r < a.n_tokens ? 16 : 0);
  }
  auto load_kv = [&](int tile, int slot) {
    const int k0 = lo + tile * kKeys;
    for (int i = threadIdx.x; i < kKeys * kSeg; i += kWarps * 32) {
      const int r = i / kSeg, s = i % kSeg, key = min(k0 + r, hi), bytes = k0 + r <= hi ? 16 : 0;
      cp_async16(&sm.k[slot][r][s * 8], kc + size_t(key) * D + s * 8, bytes);
      cp_async16(&sm.v[slot][r][s * 8], vc + size_t(key) * D + s * 8, bytes);
    }
  };
  load_kv(0, 0);
  cp_async_commit();

  // This lane's two query rows (g and g + 8 of the warp's 16); rows past the
  // last token behave like the last token and are not written.
  int pos[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) pos[r] = base + min(t0 + warp * 16 + g + 8 * r, a.n_tokens - 1);
  const int warp_pos_min = base + min(t0 + warp * 16, a.n_tokens - 1);
  const int warp_pos_max = base + min(t0 + warp * 16 + 15, a.n_tokens - 1);

  uint32_t qf[D / 16][4];
  float o[D / 8][4];
#pragma unroll
  for (int i = 0; i < D / 8; ++i) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.f;
  float m_run[2] = {-1e30f, -1e30f}, l_run[2] = {0.f, 0.f};

  for (int tile = 0; tile < n_tiles; ++tile) {
    if (tile + 1 < n_tiles) load_kv(tile + 1, (tile + 1) & 1);
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();
    if (tile == 0) {
#pragma unroll
      for (int ks = 0; ks < D / 16; ++ks)
        ldmatrix_x4(qf[ks], &sm.q[warp * 16 + (lane % 16)][ks * 16 + (lane / 16) * 8]);
    }
    const int slot = tile & 1, k0 = lo + tile * kKeys;
    // Keys this warp can see at all: skip tiles wholly in its future or
    // wholly behind its window (other warps of the block may need them).
    const bool any_visible = k0 <= warp_pos_max && (a.window <= 0 || k0 + kKeys - 1 > warp_pos_min - a.window);
    if (any_visible) {
      float s[kKeys / 8][4];
#pragma unroll
      for (int nt = 0; nt < kKeys / 8; ++nt) {
        s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
#pragma unroll
        for (int kk = 0; kk < D / 32; ++kk) {
          uint32_t b[4];
          ldmatrix_x4(b, &sm.k[slot][nt * 8 + (lane & 7)][kk * 32 + (lane >> 3) * 8]);
          mma_16816_t<A>(s[nt], qf[2 * kk], b[0], b[1]);
          mma_16816_t<A>(s[nt], qf[2 * kk + 1], b[2], b[3]);
        }
      }
      // Mask only where some key of the tile is invisible to some row.
      const bool masked = k0 + kKeys - 1 > warp_pos_min || (a.window > 0 && k0 <= warp_pos_max - a.window);
      float tile_max[2] = {-1e30f, -1e30f};
#pragma unroll
      for (int nt = 0; nt < kKeys / 8; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          float v = s[nt][e] * scale_log2;
          if (masked) {
            const int key = k0 + nt * 8 + 2 * cq + (e & 1), p = pos[e / 2];
            if (key > p || (a.window > 0 && key <= p - a.window)) v = -INFINITY;
          }
          s[nt][e] = v;
          tile_max[e / 2] = fmaxf(tile_max[e / 2], v);
        }
      float corr[2];
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 1));
        tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 2));
        const float m_new = fmaxf(m_run[r], tile_max[r]);
        corr[r] = exp2f(m_run[r] - m_new);
        m_run[r] = m_new;
        l_run[r] *= corr[r];
      }
#pragma unroll
      for (int i = 0; i < D / 8; ++i) {
        o[i][0] *= corr[0];
        o[i][1] *= corr[0];
        o[i][2] *= corr[1];
        o[i][3] *= corr[1];
      }
      // P (C fragments of two adjacent 8-key tiles) is exactly the A
      // fragment of one 16-key step of P V.
#pragma unroll
      for (int kk = 0; kk < kKeys / 16; ++kk) {
        float p[2][4];
#pragma unroll
        for (int half = 0; half < 2; ++half)
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            p[half][e] = exp2f(s[2 * kk + half][e] - m_run[e / 2]);
            l_run[e / 2] += p[half][e];
          }
        const uint32_t pa[4] = {pack_pair<A>(p[0][0], p[0][1]), pack_pair<A>(p[0][2], p[0][3]),
                                pack_pair<A>(p[1][0], p[1][1]), pack_pair<A>(p[1][2], p[1][3])};
#pragma unroll
        for (int nd = 0; nd < D / 8; nd += 2) {
          uint32_t b[4];
          ldmatrix_x4_trans(b, &sm.v[slot][kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8][nd * 8 + (lane >> 4) * 8]);
          mma_16816_t<A>(o[nd], pa, b[0], b[1]);
          mma_16816_t<A>(o[nd + 1], pa, b[2], b[3]);
        }
      }
    }
    __syncthreads();  // the slot is refilled by the next iteration's load
  }
  cp_async_wait<0>();

#pragma unroll
  for (int r = 0; r < 2; ++r) {
    l_run[r] += __shfl_xor_sync(0xffffffffu, l_run[r], 1);
    l_run[r] += __shfl_xor_sync(0xffffffffu, l_run[r], 2);
  }
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int t = t0 + warp * 16 + g + 8 * r;
    if (t >= a.n_tokens) continue;
    const float inv = l_run[r] > 0.f ? 1.f / l_run[r] : 0.f;
    uint32_t* out = reinterpret_cast<uint32_t*>(a.out + (size_t(t) * a.n_heads + h) * D);
#pragma unroll
    for (int nd = 0; nd < D / 8; ++nd)
      out[(nd * 8 + 2 * cq) / 2] = pack_pair<A>(o[nd][2 * r] * inv, o[nd][2 * r + 1] * inv);
  }
}

template <int D, Act A>
void launch(const AttentionArgs& a, cudaStream_t stream) {
  static bool attribute_set = false;  // per instantiation
  if (!attribute_set) {
    AWQ_CUDA_CHECK(cudaFuncSetAttribute(flash_prefill_kernel<D, A>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        int(sizeof(FlashSmem<D, A>))));
    attribute_set = true;
  }
  const float scale_log2 = 1.4426950408889634f / sqrtf(float(D));
  launch_pdl(flash_prefill_kernel<D, A>, dim3((a.n_tokens + kQueries - 1) / kQueries, a.n_heads), kWarps * 32,
             sizeof(FlashSmem<D, A>), stream, a, scale_log2);
  AWQ_CUDA_CHECK_LAUNCH();
}

}  // namespace

bool flash_prefill_supported(const AttentionArgs& a) {
  return a.n_tokens > 1 && !a.rows.pos && (a.head_dim == 64 || a.head_dim == 128);
}

void flash_prefill_attention(const AttentionArgs& a, void* stream) {
  const auto s = static_cast<cudaStream_t>(stream);
  with_act(a.act, [&]<Act A>() {
    if (a.head_dim == 64) launch<64, A>(a, s);
    else if (a.head_dim == 128) launch<128, A>(a, s);
    else
      throw_cuda_error(cudaErrorInvalidValue, "flash_prefill_attention: head_dim must be 64 or 128", __FILE__,
                       __LINE__);
  });
}

}  // namespace awq::cuda
