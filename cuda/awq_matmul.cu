// AWQ int4 x fp16/bf16 tensor-core GEMM (prefill; any m, used above 16
// tokens; the decode kernel is awq_gemv.cu) plus the dequantize kernel for
// the cuBLAS path.
//
// Shapes: x [m][K], W [N][K] int4 (mma-tile layout, cuda/awq_pack.h),
// y [m][N]; x, y, bias and the dequantized W of the view's activation type
// (w.act: fp16 or bf16, one instantiation each, cuda/act_type.cuh).
// Block = 4 warps; warp w owns one 64-row weight tile (block covers 256
// output rows) and all 8*T tokens of the block's m tile.
// The weight tile is the mma A operand (rows = output channels), x^T is the
// B operand (n = tokens), so 1..8 tokens waste nothing but the unused n columns.
// Global -> shared through a 4-stage cp.async pipeline of 64-wide k chunks:
// per stage 8 KiB of weights (each lane later reads back exactly the 16 bytes
// it copied) and the x chunk [8T][64] padded by 16 bytes per row so that
// ldmatrix is conflict-free. Dequant in registers: lop3 into kBias + q pairs
// (fp16 1024 + q, bf16 128 + q), one hsub2 (exact q - z) and one hmul2 by
// the scale.
// Split-K (grid.y) when the grid would not fill the SMs: fp32 partials in
// the workspace; the last block of a tile to arrive (atomic counter) sums the
// splits in split order, so the result is deterministic.
//
// PRECOND: K % 64 == 0; group_size % 16 == 0 and K % group_size == 0;
//          out_padded % 64 == 0; x, y, qweight, scale_zero 16-byte aligned;
//          workspace counters zero on entry (left zero on exit).
#include <algorithm>

#include "cuda/act_type.cuh"
#include "cuda/awq_matmul.h"
#include "cuda/cuda_check.h"
#include "cuda/device_info.h"
#include "cuda/mma_util.cuh"

namespace awq::cuda {
namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kChunkK = 64;
constexpr int kStages = 4;
constexpr int kXStride = kChunkK + 8;  // 16-bit values per padded x row in shared memory
constexpr int kMaxGemmSplits = 4;

template <Act A>
struct MatmulParams {
  using Elem = typename ActTraits<A>::T;
  const uint32_t* qweight;
  const uint32_t* scale_zero;
  const Elem* bias;
  const Elem* x;
  Elem* y;
  int m, n, n_padded, k, group_size, splits;
  float* partial;
  unsigned* counters;
};

template <int T, Act A>
struct MatmulSmem {
  uint4 w[kStages][kWarps][4][32];
  typename ActTraits<A>::T x[kStages][8 * T][kXStride];
  int is_last;
};

template <int T, Act A>
__global__ void __launch_bounds__(kThreads) awq_mma_kernel(const MatmulParams<A> p) {
  extern __shared__ uint4 smem_raw[];
  using Tr = ActTraits<A>;
  MatmulSmem<T, A>& sm = *reinterpret_cast<MatmulSmem<T, A>*>(smem_raw);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int tile = blockIdx.x * kWarps + warp;
  const bool active = tile < p.n_padded / 64;
  const int ksteps = p.k / 16, groups = p.k / p.group_size, ksteps_per_group = p.group_size / 16;
  const int nchunks = p.k / kChunkK;
  const int c_begin = int(blockIdx.y) * nchunks / p.splits, c_end = (int(blockIdx.y) + 1) * nchunks / p.splits;
  const int m0 = blockIdx.z * 8 * T;

  auto load_stage = [&](int chunk, int slot) {
    if (active) {
      const uint4* src = reinterpret_cast<const uint4*>(p.qweight) + (size_t(tile) * ksteps + chunk * 4) * 32 + lane;
#pragma unroll
      for (int s = 0; s < 4; ++s) cp_async16(&sm.w[slot][warp][s][lane], src + s * 32);
    }
    for (int i = threadIdx.x; i < 8 * T * 8; i += kThreads) {
      const int row = i / 8, seg = i % 8, tok = m0 + row;
      const auto* src = p.x + size_t(min(tok, p.m - 1)) * p.k + chunk * kChunkK + seg * 8;
      cp_async16(&sm.x[slot][row][seg * 8], src, tok < p.m ? 16 : 0);
    }
  };

  float acc[4][T][4];
#pragma unroll
  for (int j = 0; j < 4; ++j)
#pragma unroll
    for (int nt = 0; nt < T; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[j][nt][e] = 0.f;

#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (c_begin + s < c_end) load_stage(c_begin + s, s);
    cp_async_commit();
  }

  const int g = lane / 4;
  uint32_t sz[8] = {};
  for (int c = c_begin; c < c_end; ++c) {
    cp_async_wait<kStages - 2>();
    __syncthreads();
    const int next = c + kStages - 1;
    if (next < c_end) load_stage(next, (next - c_begin) % kStages);
    cp_async_commit();
    const int slot = (c - c_begin) % kStages;
    if (!active) continue;
#pragma unroll
    for (int s = 0; s < 4; ++s) {
      const int kstep = c * 4 + s;
      if (s == 0 || kstep % ksteps_per_group == 0) {
        const uint4* src =
            reinterpret_cast<const uint4*>(p.scale_zero + ((size_t(tile) * groups + kstep / ksteps_per_group) * 8 + g) * 8);
        const uint4 lo = __ldg(src), hi = __ldg(src + 1);
        sz[0] = lo.x; sz[1] = lo.y; sz[2] = lo.z; sz[3] = lo.w;
        sz[4] = hi.x; sz[5] = hi.y; sz[6] = hi.z; sz[7] = hi.w;
      }
      uint32_t b[T][2];
#pragma unroll
      for (int nt = 0; nt < T; ++nt)
        ldmatrix_x2(b[nt], &sm.x[slot][nt * 8 + (lane & 7)][s * 16 + ((lane >> 3) & 1) * 8]);
      const uint4 wq = sm.w[slot][warp][s][lane];
      const uint32_t words[4] = {wq.x, wq.y, wq.z, wq.w};
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const uint32_t s0 = dup_low(sz[2 * j]), z0 = dup_high(sz[2 * j]);
        const uint32_t s1 = dup_low(sz[2 * j + 1]), z1 = dup_high(sz[2 * j + 1]);
        const uint32_t a[4] = {dequant_pair<A>(words[j], s0, z0), dequant_pair<A>(words[j] >> 4, s1, z1),
                               dequant_pair<A>(words[j] >> 8, s0, z0), dequant_pair<A>(words[j] >> 12, s1, z1)};
#pragma unroll
        for (int nt = 0; nt < T; ++nt) mma_16816_t<A>(acc[j][nt], a, b[nt][0], b[nt][1]);
      }
    }
  }
  cp_async_wait<0>();

  const int cq = lane % 4;
  if (p.splits == 1) {
    if (!active) return;
#pragma unroll
    for (int j = 0; j < 4; ++j)
#pragma unroll
      for (int nt = 0; nt < T; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int row = tile * 64 + j * 16 + g + (e >= 2 ? 8 : 0), tok = m0 + nt * 8 + 2 * cq + (e & 1);
          if (row < p.n && tok < p.m) {
            const float b = p.bias ? Tr::to_float(p.bias[row]) : 0.f;
            p.y[size_t(tok) * p.n + row] = Tr::from_float(acc[j][nt][e] + b);
          }
        }
    return;
  }

  // Split-K: partial[split][m tile][8T][n_padded], then the last block reduces.
  const size_t tile_floats = size_t(8 * T) * p.n_padded;
  float* part = p.partial + (size_t(blockIdx.y) * gridDim.z + blockIdx.z) * tile_floats;
  if (active) {
#pragma unroll
    for (int j = 0; j < 4; ++j)
#pragma unroll
      for (int nt = 0; nt < T; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int row = tile * 64 + j * 16 + g + (e >= 2 ? 8 : 0), tok = nt * 8 + 2 * cq + (e & 1);
          __stcg(&part[size_t(tok) * p.n_padded + row], acc[j][nt][e]);
        }
  }
  __threadfence();
  __syncthreads();
  unsigned* counter = &p.counters[blockIdx.z * gridDim.x + blockIdx.x];
  if (threadIdx.x == 0) sm.is_last = atomicAdd(counter, 1u) == unsigned(p.splits - 1);
  __syncthreads();
  if (!sm.is_last) return;
  __threadfence();
  const int r0 = blockIdx.x * kWarps * 64, rows = min(kWarps * 64, p.n - r0), toks = min(8 * T, p.m - m0);
  for (int i = threadIdx.x; i < toks * kWarps * 64; i += kThreads) {
    const int t = i / (kWarps * 64), r = i % (kWarps * 64);
    if (r >= rows) continue;
    float sum = 0.f;
    for (int s = 0; s < p.splits; ++s)
      sum += __ldcg(&p.partial[(size_t(s) * gridDim.z + blockIdx.z) * tile_floats + size_t(t) * p.n_padded + r0 + r]);
    if (p.bias) sum += Tr::to_float(p.bias[r0 + r]);
    p.y[size_t(m0 + t) * p.n + r0 + r] = Tr::from_float(sum);
  }
  if (threadIdx.x == 0) *counter = 0;
}

template <int T, Act A>
void launch_mma(const MatmulParams<A>& base, const MatmulWorkspace& ws, int split_k, cudaStream_t stream) {
  MatmulParams<A> p = base;
  const int n_blocks = (p.n_padded / 64 + kWarps - 1) / kWarps;
  const int m_tiles = (p.m + 8 * T - 1) / (8 * T);
  const int nchunks = p.k / kChunkK;
  int splits = split_k;
  if (splits <= 0) {
    const int sms = device_sm_count();
    const int blocks = n_blocks * m_tiles;
    // The last block adds all splits of its 256 x 8T tile alone: keep that short.
    splits = blocks >= sms ? 1 : std::min(kMaxGemmSplits, (2 * sms + blocks - 1) / blocks);
  }
  splits = std::clamp(splits, 1, nchunks);
  const size_t tile_floats = size_t(8 * T) * p.n_padded;
  while (splits > 1 && (size_t(splits) * m_tiles * tile_floats > ws.partial_floats ||
                        size_t(n_blocks) * m_tiles > ws.counter_count))
    --splits;
  p.splits = splits;
  p.partial = ws.partial;
  p.counters = ws.counters;
  const size_t smem = sizeof(MatmulSmem<T, A>);
  static bool attr_set = false;  // per template instance; the attribute is per function
  if (!attr_set) {
    AWQ_CUDA_CHECK(cudaFuncSetAttribute(awq_mma_kernel<T, A>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
    attr_set = true;
  }
  awq_mma_kernel<T, A><<<dim3(n_blocks, splits, m_tiles), kThreads, smem, stream>>>(p);
  AWQ_CUDA_CHECK_LAUNCH();
}

// Dequantize for the cuBLAS path: block = 8 warps on one 64-row tile and 8
// k steps (128 k); warp w dequantizes k step w into a shared-memory tile
// (row stride padded by 16 bytes: the quad-strided 4-byte stores hit 32
// distinct banks), then the block writes 64 rows x 256 contiguous bytes with
// 16-byte stores. (Writing the 4-byte fragment pairs straight to global
// memory ran at ~1.3 TB/s: docs/PERF.md.)
constexpr int kDqSteps = 8;
template <Act A>
__global__ void __launch_bounds__(kDqSteps * 32) dequant_kernel(const uint32_t* __restrict__ qweight,
                                                                const uint32_t* __restrict__ scale_zero,
                                                                typename ActTraits<A>::T* __restrict__ out, int n,
                                                                int k, int group_size) {
  using Elem = typename ActTraits<A>::T;
  __shared__ __align__(16) Elem staged[64][kDqSteps * 16 + 8];
  const int ksteps = k / 16, groups = k / group_size;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, c = lane % 4;
  const int tile = blockIdx.y, kstep0 = blockIdx.x * kDqSteps, kstep = kstep0 + warp;
  if (kstep < ksteps) {
    const uint4 wq = reinterpret_cast<const uint4*>(qweight)[(size_t(tile) * ksteps + kstep) * 32 + lane];
    const int grp = kstep * 16 / group_size;
    const uint32_t* sz = scale_zero + ((size_t(tile) * groups + grp) * 8 + g) * 8;
    const uint32_t words[4] = {wq.x, wq.y, wq.z, wq.w};
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const uint32_t s0 = dup_low(sz[2 * j]), z0 = dup_high(sz[2 * j]);
      const uint32_t s1 = dup_low(sz[2 * j + 1]), z1 = dup_high(sz[2 * j + 1]);
      Elem* r0 = &staged[j * 16 + g][warp * 16 + 2 * c];
      Elem* r1 = &staged[j * 16 + g + 8][warp * 16 + 2 * c];
      *reinterpret_cast<uint32_t*>(r0) = dequant_pair<A>(words[j], s0, z0);
      *reinterpret_cast<uint32_t*>(r1) = dequant_pair<A>(words[j] >> 4, s1, z1);
      *reinterpret_cast<uint32_t*>(r0 + 8) = dequant_pair<A>(words[j] >> 8, s0, z0);
      *reinterpret_cast<uint32_t*>(r1 + 8) = dequant_pair<A>(words[j] >> 12, s1, z1);
    }
  }
  __syncthreads();
  const int pieces = min(kDqSteps, ksteps - kstep0) * 2;  // 16-byte pieces per row
  for (int i = threadIdx.x; i < 64 * pieces; i += kDqSteps * 32) {
    const int r = i / pieces, piece = i % pieces, row = tile * 64 + r;
    if (row < n)
      *reinterpret_cast<uint4*>(out + size_t(row) * k + kstep0 * 16 + piece * 8) =
          *reinterpret_cast<const uint4*>(&staged[r][piece * 8]);
  }
}

template <Act A>
__global__ void add_bias_kernel(typename ActTraits<A>::T* y, const typename ActTraits<A>::T* bias, int m, int n) {
  using Tr = ActTraits<A>;
  const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < size_t(m) * n) y[i] = Tr::from_float(Tr::to_float(y[i]) + Tr::to_float(bias[i % n]));
}

}  // namespace

void awq_mma_matmul(const MmaWeightsView& w, const uint16_t* x, int m, uint16_t* y, const MatmulWorkspace& ws,
                    void* stream, int split_k) {
  if (m <= kGemvMaxTokens) awq_gemv_matmul(w, x, m, y, ws, stream, split_k);
  else awq_gemm_matmul(w, x, m, y, ws, stream, split_k);
}

void awq_rows_matmul(const MmaWeightsView& w, const uint16_t* x, int m, uint16_t* y, const MatmulWorkspace& ws,
                     void* stream, bool swiglu) {
  // H200, m = 64, us: the GEMV kernel on 32-row pieces 33 / 48 / 103 / 62 for
  // q/o, qkv, gate+up, down; the GEMM kernel 87 / 87 / 138 / 142 (at any
  // split-K): its blocks are too few and too slow at this m.
  for (int r = 0; r < m; r += kGemvMaxRows)
    awq_gemv_matmul(w, x + size_t(r) * w.in_features, std::min(kGemvMaxRows, m - r),
                    y + size_t(r) * (swiglu ? w.out_features / 2 : w.out_features), ws, stream, 0, swiglu);
}

void awq_gemm_matmul(const MmaWeightsView& w, const uint16_t* x, int m, uint16_t* y, const MatmulWorkspace& ws,
                     void* stream, int split_k) {
  if (m <= 0) return;
  const auto s = static_cast<cudaStream_t>(stream);
  with_act(w.act, [&]<Act A>() {
    using Elem = typename ActTraits<A>::T;
    const MatmulParams<A> p{w.qweight, w.scale_zero, reinterpret_cast<const Elem*>(w.bias),
                            reinterpret_cast<const Elem*>(x), reinterpret_cast<Elem*>(y), m, w.out_features,
                            w.out_padded, w.in_features, w.group_size, 1, nullptr, nullptr};
    if (m <= 8) launch_mma<1, A>(p, ws, split_k, s);
    else if (m <= 16) launch_mma<2, A>(p, ws, split_k, s);
    else if (m <= 32) launch_mma<4, A>(p, ws, split_k, s);
    else launch_mma<8, A>(p, ws, split_k, s);
  });
}

void awq_dequantize(const MmaWeightsView& w, uint16_t* out, void* stream) {
  const dim3 grid((w.in_features / 16 + kDqSteps - 1) / kDqSteps, w.out_padded / 64);
  with_act(w.act, [&]<Act A>() {
    dequant_kernel<A><<<grid, kDqSteps * 32, 0, static_cast<cudaStream_t>(stream)>>>(
        w.qweight, w.scale_zero, reinterpret_cast<typename ActTraits<A>::T*>(out), w.out_features, w.in_features,
        w.group_size);
  });
  AWQ_CUDA_CHECK_LAUNCH();
}

void add_bias(uint16_t* y, const uint16_t* bias, int m, int n, Act act, void* stream) {
  const size_t total = size_t(m) * n;
  with_act(act, [&]<Act A>() {
    using Elem = typename ActTraits<A>::T;
    add_bias_kernel<A><<<unsigned((total + 255) / 256), 256, 0, static_cast<cudaStream_t>(stream)>>>(
        reinterpret_cast<Elem*>(y), reinterpret_cast<const Elem*>(bias), m, n);
  });
  AWQ_CUDA_CHECK_LAUNCH();
}

}  // namespace awq::cuda
