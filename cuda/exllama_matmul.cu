// Kernels of the `--version exllama` family (see exllama_matmul.h).
//
// GEMV (1 <= m <= 8 tokens): block = 8 warps on one 128-column tile; each
// lane owns 4 adjacent output columns, so one 16-byte load brings 8 k of
// each of its 4 columns (a packed row of the layout is 512 contiguous bytes
// per warp). The block's K range (split-K over grid.y) is cut into 32-k
// chunks (4 packed rows, always inside one group, as group_size % 32 == 0)
// and every warp walks its own contiguous run of chunks, holding the next
// chunk's 4 loads in flight while it computes the current one. Per packed
// word: lop3 turns nibble pairs into half2 (1024 + q) or (1024 + 16 q), one
// hadd2 / hfma2 with the group's -(1024 + z) or (1/16, -(64 + z)) makes
// (q - z) exact, one hfma2 per token row multiplies by x. The products of a
// chunk (16 per half lane) are summed in fp16, then the group scale is
// applied in fp32; ExLlama v2 sums in fp16 the same way. The 8 warps' sums
// meet in shared memory in warp order; with split-K the last block of a
// tile adds the splits' fp32 partials in split order: deterministic.
// Launched with programmatic dependent launch: the first chunk's weights,
// scales and zeros are requested before waiting for the kernel that wrote x.
//
// Dequantize: one thread per packed word column group (4 columns x 8 k),
// writing W^T rows [k][out_padded] with 8-byte stores (256 bytes per warp
// and row).
//
// PRECOND: K % 32 == 0; group_size % 32 == 0; K % group_size == 0;
//          out_padded % 128 == 0; 16-byte aligned pointers; counters zero on
//          entry (left zero on exit).
#include <cuda_fp16.h>

#include <algorithm>

#include "cuda/cuda_check.h"
#include "cuda/device_info.h"
#include "cuda/exllama_matmul.h"
#include "cuda/mma_util.cuh"
#include "cuda/pdl.cuh"

namespace awq::cuda {
namespace {

constexpr int kWarps = 8, kThreads = kWarps * 32, kTile = 128, kChunkK = 32;

struct ExllamaParams {
  const uint4* qweight;
  const uint32_t* qzeros;
  const __half* scales;
  const __half* bias;
  const __half* x;
  __half* y;
  int m, n, n_padded, k, group_size, splits;
  int swiglu;  // SwiGLU epilogue (see the end of the GEMV kernel)
  float* partial;
  unsigned* counters;
};

__device__ __forceinline__ __half2 as_half2(uint32_t v) { return *reinterpret_cast<__half2*>(&v); }

// The group's constants of the lane's 4 columns: half2 -(1024 + z),
// -(64 + z) and the fp32 scale.
struct GroupConsts {
  __half2 z1[4], z16[4];
  float s[4];
};

__device__ __forceinline__ void load_group(const uint32_t* qzeros, const __half* scales, int n_padded, int group,
                                           int col0, GroupConsts& gc) {
  const uint2 s4 = __ldg(reinterpret_cast<const uint2*>(scales + size_t(group) * n_padded + col0));
  const uint32_t zw = __ldg(qzeros + size_t(group) * (n_padded / 8) + col0 / 8) >> (4 * (col0 % 8));
  const __half2 s01 = as_half2(s4.x), s23 = as_half2(s4.y);
  gc.s[0] = __low2float(s01);
  gc.s[1] = __high2float(s01);
  gc.s[2] = __low2float(s23);
  gc.s[3] = __high2float(s23);
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    const int z = int((zw >> (4 * j)) + 1) & 0xf;  // stored (z - 1) & 15
    gc.z1[j] = __float2half2_rn(-1024.f - float(z));
    gc.z16[j] = __float2half2_rn(-64.f - float(z));
  }
}

template <int M>
__global__ void __launch_bounds__(kThreads) exllama_gemv_kernel(const ExllamaParams p) {
  extern __shared__ float red[];  // [kWarps][M][kTile]
  __shared__ int is_last;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int tile = blockIdx.x, col0 = tile * kTile + lane * 4;
  const int nchunks = p.k / kChunkK;
  const int b_begin = int(blockIdx.y) * nchunks / p.splits, b_end = (int(blockIdx.y) + 1) * nchunks / p.splits;
  const int c_begin = b_begin + warp * (b_end - b_begin) / kWarps;
  const int c_end = b_begin + (warp + 1) * (b_end - b_begin) / kWarps;
  const size_t row_stride = size_t(p.n_padded) / 4;  // uint4 per packed row
  const uint4* wp = p.qweight + col0 / 4;

  uint4 cur[4], nxt[4];
  auto load = [&](int chunk, uint4(&dst)[4]) {
#pragma unroll
    for (int r = 0; r < 4; ++r) dst[r] = __ldcs(wp + (size_t(chunk) * 4 + r) * row_stride);
  };
  GroupConsts gc;
  int group = -1, group_end = 0;

  pdl_launch_dependents();
  if (c_begin < c_end) {
    load(c_begin, cur);
    group = c_begin * kChunkK / p.group_size;
    group_end = (group + 1) * p.group_size;
    load_group(p.qzeros, p.scales, p.n_padded, group, col0, gc);
  }
  pdl_wait();

  float acc[M][4];
#pragma unroll
  for (int t = 0; t < M; ++t)
#pragma unroll
    for (int j = 0; j < 4; ++j) acc[t][j] = 0.f;
  const __half2 sixteenth = __float2half2_rn(1.f / 16.f);

  for (int c = c_begin; c < c_end; ++c) {
    if (c + 1 < c_end) load(c + 1, nxt);
    if (c * kChunkK >= group_end) {  // this warp's chunks are contiguous: groups only move forward
      group = c * kChunkK / p.group_size;
      group_end = (group + 1) * p.group_size;
      load_group(p.qzeros, p.scales, p.n_padded, group, col0, gc);
    }
    __half2 h[M][4];
#pragma unroll
    for (int t = 0; t < M; ++t)
#pragma unroll
      for (int j = 0; j < 4; ++j) h[t][j] = __float2half2_rn(0.f);
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      uint4 xv[M];
#pragma unroll
      for (int t = 0; t < M; ++t)
        xv[t] = __ldg(reinterpret_cast<const uint4*>(p.x + size_t(t) * p.k + c * kChunkK + r * 8));
      const uint32_t words[4] = {cur[r].x, cur[r].y, cur[r].z, cur[r].w};
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const uint32_t w = words[j], w8 = w >> 8;
        const __half2 d0 = __hadd2(as_half2(lop3_and_or(w, 0x000f000fu, 0x64006400u)), gc.z1[j]);
        const __half2 d1 = __hfma2(as_half2(lop3_and_or(w, 0x00f000f0u, 0x64006400u)), sixteenth, gc.z16[j]);
        const __half2 d2 = __hadd2(as_half2(lop3_and_or(w8, 0x000f000fu, 0x64006400u)), gc.z1[j]);
        const __half2 d3 = __hfma2(as_half2(lop3_and_or(w8, 0x00f000f0u, 0x64006400u)), sixteenth, gc.z16[j]);
#pragma unroll
        for (int t = 0; t < M; ++t) {
          h[t][j] = __hfma2(d0, as_half2(xv[t].x), h[t][j]);
          h[t][j] = __hfma2(d1, as_half2(xv[t].y), h[t][j]);
          h[t][j] = __hfma2(d2, as_half2(xv[t].z), h[t][j]);
          h[t][j] = __hfma2(d3, as_half2(xv[t].w), h[t][j]);
        }
      }
    }
#pragma unroll
    for (int t = 0; t < M; ++t)
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const float2 f = __half22float2(h[t][j]);
        acc[t][j] += gc.s[j] * (f.x + f.y);
      }
#pragma unroll
    for (int r = 0; r < 4; ++r) cur[r] = nxt[r];
  }

#pragma unroll
  for (int t = 0; t < M; ++t)
    *reinterpret_cast<float4*>(&red[(warp * M + t) * kTile + lane * 4]) =
        make_float4(acc[t][0], acc[t][1], acc[t][2], acc[t][3]);
  __syncthreads();
  const int tile0 = tile * kTile;
  auto block_sum = [&](int t, int c) {
    float v = 0.f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) v += red[(w * M + t) * kTile + c];
    return v;
  };
  // The tile's result for token t and column c: the warps' sums, or (last
  // block of a split-K tile) the splits' partials in split order; plus bias.
  auto result = [&](int t, int c, bool from_partials) {
    float v = 0.f;
    if (from_partials) {
      for (int s = 0; s < p.splits; ++s) v += __ldcg(&p.partial[(size_t(s) * M + t) * p.n_padded + tile0 + c]);
    } else {
      v = block_sum(t, c);
    }
    return p.bias && tile0 + c < p.n ? v + __half2float(p.bias[tile0 + c]) : v;
  };
  // Plain: y[t][column]. SwiGLU epilogue (gate+up packed with
  // kExllamaSwigluBlock): columns 0-63 of the tile are the gate and 64-127
  // the up values of features 64 tile .. 64 tile + 63; y[t][feature] =
  // silu(gate) * up, y rows of n / 2.
  auto write = [&](bool from_partials) {
    if (p.swiglu) {
      for (int i = threadIdx.x; i < M * 64; i += kThreads) {
        const int t = i / 64, c = i % 64;
        const float g = result(t, c, from_partials), u = result(t, c + 64, from_partials);
        p.y[size_t(t) * (p.n / 2) + tile * 64 + c] = __float2half_rn(g / (1.f + __expf(-g)) * u);
      }
      return;
    }
    for (int i = threadIdx.x; i < M * kTile; i += kThreads) {
      const int t = i / kTile, c = i % kTile;
      if (tile0 + c < p.n) p.y[size_t(t) * p.n + tile0 + c] = __float2half_rn(result(t, c, from_partials));
    }
  };
  if (p.splits == 1) return write(false);
  // partial[split][token][n_padded]
  for (int i = threadIdx.x; i < M * kTile; i += kThreads) {
    const int t = i / kTile, c = i % kTile;
    __stcg(&p.partial[(size_t(blockIdx.y) * M + t) * p.n_padded + tile0 + c], block_sum(t, c));
  }
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) is_last = atomicAdd(&p.counters[tile], 1u) == unsigned(p.splits - 1);
  __syncthreads();
  if (!is_last) return;
  __threadfence();
  write(true);
  if (threadIdx.x == 0) p.counters[tile] = 0;
}

template <int M>
void launch_gemv(ExllamaParams p, const MatmulWorkspace& ws, int split_k, cudaStream_t stream) {
  const int tiles = p.n_padded / kTile, nchunks = p.k / kChunkK;
  const size_t smem = size_t(kWarps) * M * kTile * sizeof(float);
  int splits = split_k;
  if (splits <= 0) {
    static int resident = 0;
    if (!resident) {
      int per_sm = 0;
      AWQ_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, exllama_gemv_kernel<M>, kThreads, smem));
      resident = std::max(1, per_sm) * device_sm_count();
    }
    // The largest power of two that keeps the grid within one wave of
    // resident blocks: awq-kernel-bench --exllama (H200) found it the best
    // split or within 3% of it for every Mistral-7B shape at m = 1..8 (a
    // second partial wave costs more than the extra split saves).
    splits = 1;
    while (2 * splits * tiles <= resident && 2 * splits <= std::max(1, nchunks / kWarps)) splits *= 2;
  }
  splits = std::clamp(splits, 1, nchunks);
  while (splits > 1 && (size_t(splits) * M * p.n_padded > ws.partial_floats || size_t(tiles) > ws.counter_count))
    --splits;
  p.splits = splits;
  p.partial = ws.partial;
  p.counters = ws.counters;
  launch_pdl(exllama_gemv_kernel<M>, dim3(tiles, splits), kThreads, smem, stream, p);
  AWQ_CUDA_CHECK_LAUNCH();
}

__global__ void exllama_dequant_kernel(const uint4* qweight, const uint32_t* qzeros, const __half* scales,
                                       __half* out, int n_padded, int k, int group_size) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int row = blockIdx.y * kWarps + warp;  // packed row: k = 8 row .. 8 row + 7
  if (row * 8 >= k) return;
  const int col0 = blockIdx.x * kTile + lane * 4;
  GroupConsts gc;
  load_group(qzeros, scales, n_padded, row * 8 / group_size, col0, gc);
  const uint4 q = __ldcs(qweight + size_t(row) * (n_padded / 4) + col0 / 4);
  const uint32_t words[4] = {q.x, q.y, q.z, q.w};
  const __half2 sixteenth = __float2half2_rn(1.f / 16.f);
  __half2 d[4][4];  // [column][pair]: pair i holds k = 2i, 2i + 1
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    const uint32_t w = words[j], w8 = w >> 8;
    const __half2 s2 = __float2half2_rn(gc.s[j]);
    d[j][0] = __hmul2(__hadd2(as_half2(lop3_and_or(w, 0x000f000fu, 0x64006400u)), gc.z1[j]), s2);
    d[j][1] = __hmul2(__hfma2(as_half2(lop3_and_or(w, 0x00f000f0u, 0x64006400u)), sixteenth, gc.z16[j]), s2);
    d[j][2] = __hmul2(__hadd2(as_half2(lop3_and_or(w8, 0x000f000fu, 0x64006400u)), gc.z1[j]), s2);
    d[j][3] = __hmul2(__hfma2(as_half2(lop3_and_or(w8, 0x00f000f0u, 0x64006400u)), sixteenth, gc.z16[j]), s2);
  }
#pragma unroll
  for (int kk = 0; kk < 8; ++kk) {
    __half v[4];
#pragma unroll
    for (int j = 0; j < 4; ++j) v[j] = kk % 2 ? __high2half(d[j][kk / 2]) : __low2half(d[j][kk / 2]);
    *reinterpret_cast<uint2*>(out + size_t(row * 8 + kk) * n_padded + col0) = *reinterpret_cast<uint2*>(v);
  }
}

}  // namespace

void exllama_gemv_matmul(const ExllamaWeightsView& w, const uint16_t* x, int m, uint16_t* y,
                         const MatmulWorkspace& ws, void* stream, int split_k, bool swiglu) {
  if (m <= 0) return;
  if (m > kExllamaGemvMaxRows)
    throw_cuda_error(cudaErrorInvalidValue, "exllama_gemv_matmul: m > 8", __FILE__, __LINE__);
  if (w.group_size % 32 != 0 || w.in_features % w.group_size != 0 || w.out_padded % kTile != 0)
    throw_cuda_error(cudaErrorInvalidValue, "exllama_gemv_matmul: unsupported shape", __FILE__, __LINE__);
  const ExllamaParams p{reinterpret_cast<const uint4*>(w.qweight), w.qzeros,
                        reinterpret_cast<const __half*>(w.scales), reinterpret_cast<const __half*>(w.bias),
                        reinterpret_cast<const __half*>(x), reinterpret_cast<__half*>(y), m, w.out_features,
                        w.out_padded, w.in_features, w.group_size, 1, swiglu ? 1 : 0, nullptr, nullptr};
  if (swiglu && (w.out_features % kTile != 0 || w.out_padded != w.out_features))
    throw_cuda_error(cudaErrorInvalidValue, "exllama_gemv_matmul: SwiGLU epilogue needs whole 128-column tiles",
                     __FILE__, __LINE__);
  const auto s = static_cast<cudaStream_t>(stream);
  switch (m) {
    case 1: return launch_gemv<1>(p, ws, split_k, s);
    case 2: return launch_gemv<2>(p, ws, split_k, s);
    case 3: return launch_gemv<3>(p, ws, split_k, s);
    case 4: return launch_gemv<4>(p, ws, split_k, s);
    case 5: return launch_gemv<5>(p, ws, split_k, s);
    case 6: return launch_gemv<6>(p, ws, split_k, s);
    case 7: return launch_gemv<7>(p, ws, split_k, s);
    default: return launch_gemv<8>(p, ws, split_k, s);
  }
}

void exllama_dequantize(const ExllamaWeightsView& w, uint16_t* out, void* stream) {
  const dim3 grid(w.out_padded / kTile, (w.in_features / 8 + kWarps - 1) / kWarps);
  exllama_dequant_kernel<<<grid, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      reinterpret_cast<const uint4*>(w.qweight), w.qzeros, reinterpret_cast<const __half*>(w.scales),
      reinterpret_cast<__half*>(out), w.out_padded, w.in_features, w.group_size);
  AWQ_CUDA_CHECK_LAUNCH();
}

}  // namespace awq::cuda
