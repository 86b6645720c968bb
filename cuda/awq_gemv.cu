// AWQ int4 x fp16/bf16 decode kernel ("GEMV", 1..32 tokens) on tensor cores.
//
// Shapes: x [m][K], W [N][K] int4 in the mma-tile layout of cuda/awq_pack.h,
// y [m][N]; x, y and the bias of the view's activation type (w.act: fp16 or
// bf16, one instantiation each, cuda/act_type.cuh). The weight tile is the
// mma A operand (rows = output channels) and x^T the B operand (n = tokens),
// so 1..8 tokens cost one n8 tile (T = 1), 9..16 two (T = 2) and 17..32 four
// (T = 4: the rows of a continuous-batching decode step, each weight fragment
// feeding 4 mmas).
// Block = 4 warps on ONE 64-row tile; the block's K range (split-K over
// grid.y) is dealt to the warps chunk by chunk (64 k each), so the 4 warps
// stream adjacent 2 KiB pieces. Each warp runs its own cp.async pipeline
// (weights 2 KiB + the scale/zero words of the chunk's groups + the m real x
// rows per stage; x rows padded 16 B so ldmatrix is conflict-free) and
// synchronizes only with __syncwarp; no global load waits inside the math
// loop. m = 1: 5 stages, 54 KB per block, 4 blocks per SM; m = 2..16: 3
// stages, ~45 KB, 5 blocks per SM (see stages_for); either way the 448 tiles
// of a 7B gate+up fit one wave. The kernel is issue-bound
// (ncu, H200), so the weights enter the mma as lop3'd kBias + q (1024 + q in
// fp16, 128 + q in bf16) and zero point and scale are applied per row and
// group (see the loop below).
// Launched with programmatic dependent launch (cuda/pdl.cuh): the first
// stages' weights are requested before waiting for the kernel that wrote x.
// The 4 warps' fp32 sums meet in shared memory; with split-K the block writes
// fp32 partials and the last block to arrive (atomic counter) adds the splits
// in split order: deterministic. (A thread-block-cluster reduction through
// distributed shared memory measured slower on an H200: docs/PERF.md.)
//
// PRECOND: 1 <= m <= 32; K % 64 == 0; group_size % 32 == 0, K % group_size == 0;
//          out_padded % 64 == 0; 16-byte aligned pointers; counters zero on
//          entry (left zero on exit).
#include <algorithm>

#include "cuda/act_type.cuh"
#include "cuda/awq_matmul.h"
#include "cuda/cuda_check.h"
#include "cuda/device_info.h"
#include "cuda/mma_util.cuh"
#include "cuda/pdl.cuh"

namespace awq::cuda {
namespace {

constexpr int kWarps = 4, kThreads = 128, kChunkK = 64, kXStride = kChunkK + 8;

// R = x rows kept per stage: 1 for m = 1 (decode), else 8T (the mma's n, rows
// >= m zero). With one row the B fragment comes from two 4-byte loads
// instead of ldmatrix, the stage shrinks from 3.7 to 2.7 KB per warp, and
// 5 stages (4 chunks in flight per warp) still leave 4 blocks per SM: a 7B
// gate+up (448 tiles) runs one block per tile in one wave, each warp with
// twice the bytes in flight of the 3-stage pipeline.
template <int R>
constexpr int stages_for() { return R == 1 ? 5 : 3; }

template <Act A>
struct GemvParams {
  using Elem = typename ActTraits<A>::T;
  const uint32_t* qweight;
  const uint32_t* scale_zero;
  const Elem* bias;
  const Elem* x;
  Elem* y;
  int m, n, n_padded, k, group_size, splits;
  int swiglu;  // SwiGLU epilogue (see the end of the kernel)
  // x / group_size as (umulhi(x, mul) + x) >> shift (round-up multiplier):
  // integer division by a runtime value is ~25 instructions, and this loop
  // is issue-bound.
  uint32_t group_mul;
  int group_shift;
  float* partial;
  unsigned* counters;
};

template <Act A>
__device__ __forceinline__ int group_of(const GemvParams<A>& p, int k) {
  return int((__umulhi(unsigned(k), p.group_mul) + unsigned(k)) >> p.group_shift);
}

template <int T, int R, Act A>
struct GemvSmem {
  static constexpr int kStages = stages_for<R>();
  union {  // the warp sums reuse the drained pipeline buffers
    struct {
      uint4 w[kWarps][kStages][4][32];
      uint4 sz[kWarps][kStages][2][16];  // scale/zero words of the (at most 2) groups a chunk touches
      typename ActTraits<A>::T x[kWarps][kStages][R][kXStride];
    } pipe;
    float sum[kWarps][8 * T][64];
  };
  int is_last;
};

template <int T, int R, Act A>
__global__ void __launch_bounds__(kThreads) awq_gemv_kernel(const GemvParams<A> p) {
  extern __shared__ uint4 smem_raw[];
  using Tr = ActTraits<A>;
  using Smem = GemvSmem<T, R, A>;
  constexpr int kStages = Smem::kStages;
  Smem& sm = *reinterpret_cast<Smem*>(smem_raw);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, cq = lane % 4;
  const int tile = blockIdx.x;
  const int ksteps = p.k / 16, groups = p.k / p.group_size;
  const int nchunks = p.k / kChunkK;
  const int c_begin = int(blockIdx.y) * nchunks / p.splits, c_end = (int(blockIdx.y) + 1) * nchunks / p.splits;
  // This warp's chunks: c_begin + warp, + 4, ...
  const int my_chunks = c_end - c_begin > warp ? (c_end - c_begin - warp + kWarps - 1) / kWarps : 0;

  // A stage is the chunk's weights and scale/zero words (immutable: may be
  // fetched before pdl_wait) and its x rows (written by the previous kernel).
  auto load_weights = [&](int i, int slot) {
    const int chunk = c_begin + warp + i * kWarps;
    const uint4* src = reinterpret_cast<const uint4*>(p.qweight) + (size_t(tile) * ksteps + chunk * 4) * 32 + lane;
#pragma unroll
    for (int s = 0; s < 4; ++s) cp_async16(&sm.pipe.w[warp][slot][s][lane], src + s * 32);
    // The tile's 64 scale/zero words of a group are 16 uint4: lanes 0-15 take
    // the chunk's first group, lanes 16-31 its second when it has one.
    const int g_first = group_of(p, chunk * kChunkK), g_last = group_of(p, chunk * kChunkK + kChunkK - 1);
    const int half = lane / 16;
    if (half == 0 || g_last != g_first)
      cp_async16(&sm.pipe.sz[warp][slot][half][lane % 16],
                 reinterpret_cast<const uint4*>(p.scale_zero) + (size_t(tile) * groups + (half ? g_last : g_first)) * 16 +
                     lane % 16);
  };
  auto load_x = [&](int i, int slot) {
    const int chunk = c_begin + warp + i * kWarps;
    for (int i2 = lane; i2 < p.m * 8; i2 += 32) {
      const int row = i2 / 8, seg = i2 % 8;
      cp_async16(&sm.pipe.x[warp][slot][row][seg * 8], p.x + size_t(row) * p.k + chunk * kChunkK + seg * 8);
    }
  };
  // The mma B operand always spans 8T token rows; rows >= m are zero in
  // every stage, written once here and never loaded (R == 1: not stored).
  for (int i2 = lane; R > 1 && i2 < kStages * (R - p.m) * (kXStride / 8); i2 += 32) {
    const int slot = i2 / ((R - p.m) * (kXStride / 8)), rest = i2 % ((R - p.m) * (kXStride / 8));
    *reinterpret_cast<uint4*>(&sm.pipe.x[warp][slot][p.m + rest / (kXStride / 8)][(rest % (kXStride / 8)) * 8]) =
        make_uint4(0, 0, 0, 0);
  }

  float acc[4][T][4];
#pragma unroll
  for (int j = 0; j < 4; ++j)
#pragma unroll
    for (int nt = 0; nt < T; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[j][nt][e] = 0.f;

  // The first stages' weights stream in while the previous kernel finishes
  // (programmatic dependent launch); they join the first commit group.
  pdl_launch_dependents();
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s)
    if (s < my_chunks) load_weights(s, s);
  pdl_wait();
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < my_chunks) load_x(s, s);
    cp_async_commit();
  }
  // Zero point and scale are applied once per row and group, not per weight:
  // the lop3 result (kBias + q: 1024 + q in fp16, 128 + q in bf16, exact)
  // goes straight into the mma, which accumulates accg = sum (kBias + q) x
  // over the group; a second mma with an all-ones A operand accumulates
  // xsum = sum x per token; at the group's end
  // acc += scale * (accg - (kBias + zero) * xsum). That is one instruction
  // per weight pair instead of three (lop3, hsub2, hmul2) in an issue-bound
  // loop. Accuracy: the products are exact and the sums fp32, so the offset
  // costs ~2^-24 * kBias |x| per term, below the output rounding (the tests
  // hold it to the same tolerance as the GEMM kernel).
  float accg[4][T][4], xsum[T][4];
#pragma unroll
  for (int nt = 0; nt < T; ++nt)
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      xsum[nt][e] = 0.f;
#pragma unroll
      for (int j = 0; j < 4; ++j) accg[j][nt][e] = 0.f;
    }
  const uint32_t ones[4] = {Tr::kOne2, Tr::kOne2, Tr::kOne2, Tr::kOne2};
  for (int i = 0; i < my_chunks; ++i) {
    cp_async_wait<kStages - 2>();
    __syncwarp();
    if (i + kStages - 1 < my_chunks) {
      load_weights(i + kStages - 1, (i + kStages - 1) % kStages);
      load_x(i + kStages - 1, (i + kStages - 1) % kStages);
    }
    cp_async_commit();
    const int slot = i % kStages, chunk = c_begin + warp + i * kWarps;
    // A chunk (64 k) lies in one group or, when a group boundary falls at its
    // middle (group size an odd multiple of 32), in two.
    const bool straddles = group_of(p, chunk * kChunkK) != group_of(p, chunk * kChunkK + kChunkK - 1);
#pragma unroll
    for (int s = 0; s < 4; ++s) {
      uint32_t b[T][2];
#pragma unroll
      for (int nt = 0; nt < T; ++nt) {
        if constexpr (R == 1) {  // B = (k 2c..2c+1 | 2c+8..2c+9, token g): only token 0 is real
          const auto* xr = &sm.pipe.x[warp][slot][0][s * 16 + 2 * cq];
          b[nt][0] = g == 0 ? *reinterpret_cast<const uint32_t*>(xr) : 0u;
          b[nt][1] = g == 0 ? *reinterpret_cast<const uint32_t*>(xr + 8) : 0u;
        } else {
          ldmatrix_x2(b[nt], &sm.pipe.x[warp][slot][nt * 8 + (lane & 7)][s * 16 + ((lane >> 3) & 1) * 8]);
        }
        mma_16816_t<A>(xsum[nt], ones, b[nt][0], b[nt][1]);
      }
      const uint4 wq = sm.pipe.w[warp][slot][s][lane];
      const uint32_t words[4] = {wq.x, wq.y, wq.z, wq.w};
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const uint32_t a[4] = {lop3_and_or(words[j], 0x000f000fu, Tr::kMagic2),
                               lop3_and_or(words[j] >> 4, 0x000f000fu, Tr::kMagic2),
                               lop3_and_or(words[j] >> 8, 0x000f000fu, Tr::kMagic2),
                               lop3_and_or(words[j] >> 12, 0x000f000fu, Tr::kMagic2)};
#pragma unroll
        for (int nt = 0; nt < T; ++nt) mma_16816_t<A>(accg[j][nt], a, b[nt][0], b[nt][1]);
      }
      // A group ends in the chunk's middle, or the chunk ends (this warp's
      // next chunk lies 4 chunks further on, in another group).
      if (s == 3 || (s == 1 && straddles)) {
        const uint4* src = &sm.pipe.sz[warp][slot][s == 3 && straddles ? 1 : 0][2 * g];
        const uint4 lo = src[0], hi = src[1];
        const uint32_t sz[8] = {lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w};
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          // {scale, kBias + zero} of rows g (e = 0, 1) and g + 8 (e = 2, 3)
          const float2 r[2] = {Tr::to_float2(*reinterpret_cast<const typename Tr::T2*>(&sz[2 * j])),
                               Tr::to_float2(*reinterpret_cast<const typename Tr::T2*>(&sz[2 * j + 1]))};
#pragma unroll
          for (int nt = 0; nt < T; ++nt)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
              acc[j][nt][e] += r[e / 2].x * (accg[j][nt][e] - r[e / 2].y * xsum[nt][e]);
              accg[j][nt][e] = 0.f;
            }
        }
#pragma unroll
        for (int nt = 0; nt < T; ++nt)
#pragma unroll
          for (int e = 0; e < 4; ++e) xsum[nt][e] = 0.f;
      }
    }
  }
  cp_async_wait<0>();
  __syncthreads();  // every warp is done with the pipeline buffers that sum[] reuses

  // Sum the 4 warps in shared memory: sum[warp][token][row within tile].
#pragma unroll
  for (int j = 0; j < 4; ++j)
#pragma unroll
    for (int nt = 0; nt < T; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e)
        sm.sum[warp][nt * 8 + 2 * cq + (e & 1)][j * 16 + g + (e >= 2 ? 8 : 0)] = acc[j][nt][e];
  __syncthreads();
  const int row0 = tile * 64;
  // The tile's result for token t and row r: the warps' sums, or (last
  // block of a split-K tile) the splits' partials in split order; plus bias.
  auto result = [&](int t, int r, bool from_partials) {
    float v = 0.f;
    if (from_partials) {
      for (int s = 0; s < p.splits; ++s) v += __ldcg(&p.partial[(size_t(s) * p.m + t) * p.n_padded + row0 + r]);
    } else {
      v = sm.sum[0][t][r] + sm.sum[1][t][r] + sm.sum[2][t][r] + sm.sum[3][t][r];
    }
    return p.bias && row0 + r < p.n ? v + Tr::to_float(p.bias[row0 + r]) : v;
  };
  // Plain: y[t][row]. SwiGLU epilogue (gate+up packed with kMmaSwigluBlock):
  // rows 0-31 of the tile are the gate and rows 32-63 the up values of
  // features 32 tile .. 32 tile + 31; y[t][feature] = silu(gate) * up, y
  // rows of n / 2.
  auto write = [&](bool from_partials) {
    if (p.swiglu) {
      for (int i = threadIdx.x; i < p.m * 32; i += kThreads) {
        const int t = i / 32, r = i % 32;
        const float g = result(t, r, from_partials), u = result(t, r + 32, from_partials);
        p.y[size_t(t) * (p.n / 2) + tile * 32 + r] = Tr::from_float(g / (1.f + __expf(-g)) * u);
      }
      return;
    }
    for (int i = threadIdx.x; i < p.m * 64; i += kThreads) {
      const int t = i / 64, r = i % 64;
      if (row0 + r < p.n) p.y[size_t(t) * p.n + row0 + r] = Tr::from_float(result(t, r, from_partials));
    }
  };
  if (p.splits == 1) return write(false);
  // partial[split][token][n_padded]
  for (int i = threadIdx.x; i < p.m * 64; i += kThreads) {
    const int t = i / 64, r = i % 64;
    __stcg(&p.partial[(size_t(blockIdx.y) * p.m + t) * p.n_padded + row0 + r],
           sm.sum[0][t][r] + sm.sum[1][t][r] + sm.sum[2][t][r] + sm.sum[3][t][r]);
  }
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) sm.is_last = atomicAdd(&p.counters[tile], 1u) == unsigned(p.splits - 1);
  __syncthreads();
  if (!sm.is_last) return;
  __threadfence();
  write(true);
  if (threadIdx.x == 0) p.counters[tile] = 0;
}

template <int T, int R, Act A>
void set_smem_attribute() {
  static bool done = false;  // per instantiation
  if (!done) {
    AWQ_CUDA_CHECK(cudaFuncSetAttribute(awq_gemv_kernel<T, R, A>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        int(sizeof(GemvSmem<T, R, A>))));
    done = true;
  }
}

template <int T, int R, Act A>
void launch_gemv(const GemvParams<A>& base, const MatmulWorkspace& ws, int split_k, cudaStream_t stream) {
  set_smem_attribute<T, R, A>();  // before the occupancy query as well as the launch
  GemvParams<A> p = base;
  const int tiles = p.n_padded / 64, nchunks = p.k / kChunkK;
  int splits = split_k;
  if (splits <= 0) {
    // Fill the SMs in ONE wave (a second partial wave doubles the latency):
    // as many blocks as fit resident, rounded down.
    static int resident = 0;
    if (!resident) {
      int per_sm = 0;
      AWQ_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, awq_gemv_kernel<T, R, A>, kThreads,
                                                                   sizeof(GemvSmem<T, R, A>)));
      resident = std::max(1, per_sm) * device_sm_count();
    }
    splits = std::max(1, resident / tiles);
  }
  splits = std::clamp(splits, 1, nchunks);
  while (splits > 1 && (size_t(splits) * p.m * p.n_padded > ws.partial_floats || size_t(tiles) > ws.counter_count))
    --splits;
  p.splits = splits;
  p.partial = ws.partial;
  p.counters = ws.counters;
  launch_pdl(awq_gemv_kernel<T, R, A>, dim3(tiles, splits), kThreads, sizeof(GemvSmem<T, R, A>), stream, p);
  AWQ_CUDA_CHECK_LAUNCH();
}

}  // namespace

void awq_gemv_matmul(const MmaWeightsView& w, const uint16_t* x, int m, uint16_t* y, const MatmulWorkspace& ws,
                     void* stream, int split_k, bool swiglu) {
  if (m <= 0) return;
  if (m > kGemvMaxRows) throw_cuda_error(cudaErrorInvalidValue, "awq_gemv_matmul: m > 32", __FILE__, __LINE__);
  if (w.group_size % 32 != 0)
    throw_cuda_error(cudaErrorInvalidValue, "awq_gemv_matmul: group_size must be a multiple of 32", __FILE__, __LINE__);
  if (swiglu && (w.out_features % 64 != 0 || w.out_padded != w.out_features))
    throw_cuda_error(cudaErrorInvalidValue, "awq_gemv_matmul: SwiGLU epilogue needs whole 64-row tiles", __FILE__,
                     __LINE__);
  int group_shift = 0;
  while ((1 << group_shift) < w.group_size) ++group_shift;
  const auto group_mul = uint32_t(((uint64_t(1) << 32) * ((uint64_t(1) << group_shift) - uint64_t(w.group_size))) /
                                      uint64_t(w.group_size) + 1);
  const auto s = static_cast<cudaStream_t>(stream);
  with_act(w.act, [&]<Act A>() {
    using Elem = typename ActTraits<A>::T;
    const GemvParams<A> p{w.qweight, w.scale_zero, reinterpret_cast<const Elem*>(w.bias),
                          reinterpret_cast<const Elem*>(x), reinterpret_cast<Elem*>(y), m, w.out_features,
                          w.out_padded, w.in_features, w.group_size, 1, swiglu ? 1 : 0, group_mul, group_shift,
                          nullptr, nullptr};
    if (m == 1) launch_gemv<1, 1, A>(p, ws, split_k, s);
    else if (m <= 8) launch_gemv<1, 8, A>(p, ws, split_k, s);
    else if (m <= 16) launch_gemv<2, 16, A>(p, ws, split_k, s);
    else launch_gemv<4, 32, A>(p, ws, split_k, s);
  });
}

}  // namespace awq::cuda
