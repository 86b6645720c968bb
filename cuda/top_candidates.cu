// The largest logits of one row for the sampler's LogitPool (sampler.h):
// every logit >= the count-th largest, so that ~count (id, value) pairs cross
// to the host instead of the vocab-sized row.
//
// One 1024-thread block per row. A radix select on the logits' order-preserving
// 32-bit keys finds the count-th largest key 8 bits at a time (4 passes over
// the row, a 256-bin shared histogram each; warps add their lanes' bins
// with one atomic per distinct bin, since logits share their top bits), then
// a fifth pass writes every logit whose key is >= it. The output order
// depends on thread timing; the host sorts. More than `cap` qualifying
// logits (ties at the cut) are counted in *n_out but not written.
//
// PRECOND: 1 <= count <= vocab; logits fp32, no NaN.
#include <cstdint>

#include "cuda/cuda_check.h"
#include "cuda/launch.h"

namespace awq::cuda {
namespace {

constexpr int kThreads = 1024;

// Unsigned order equals float order: negative floats have their bits
// flipped, positive ones their sign bit set.
__device__ __forceinline__ uint32_t order_key(float f) {
  const uint32_t u = __float_as_uint(f);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

__global__ void __launch_bounds__(kThreads) top_candidates_kernel(const float* all_logits, int vocab, const int* counts,
                                                                   int cap, int* all_ids, float* all_values) {
  const float* logits = all_logits + size_t(blockIdx.x) * vocab;
  int* ids = all_ids + size_t(blockIdx.x) * (cap + 1);
  float* values = all_values + size_t(blockIdx.x) * cap;
  const int count = counts[blockIdx.x];
  __shared__ unsigned hist[256];
  __shared__ uint32_t prefix_s;
  __shared__ int remaining_s, written_s;
  const int lane = threadIdx.x % 32;
  uint32_t prefix = 0, mask = 0;
  int remaining = count;  // rank (from the top, 1-based) of the wanted key among those matching prefix
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (int i = threadIdx.x; i < 256; i += kThreads) hist[i] = 0;
    __syncthreads();
    for (int base = 0; base < vocab; base += kThreads) {
      const int v = base + int(threadIdx.x);
      const uint32_t key = v < vocab ? order_key(logits[v]) : 0u;
      const bool counted = v < vocab && (key & mask) == prefix;
      const unsigned bin = counted ? (key >> shift) & 255u : 256u;  // 256: not counted
      const unsigned same = __match_any_sync(0xffffffffu, bin);
      if (counted && lane == __ffs(same) - 1) atomicAdd(&hist[bin], unsigned(__popc(same)));
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      int above = 0;
      for (int d = 255; d >= 0; --d) {
        if (above + int(hist[d]) >= remaining) {
          prefix_s = prefix | (uint32_t(d) << shift);
          remaining_s = remaining - above;
          break;
        }
        above += int(hist[d]);
      }
      written_s = 0;
    }
    __syncthreads();
    prefix = prefix_s;
    remaining = remaining_s;
    mask |= 255u << shift;
    __syncthreads();  // before the next pass clears hist
  }
  for (int v = threadIdx.x; v < vocab; v += kThreads) {
    const float x = logits[v];
    if (order_key(x) < prefix) continue;
    const int slot = atomicAdd(&written_s, 1);
    if (slot < cap) {
      ids[slot] = v;
      values[slot] = x;
    }
  }
  __syncthreads();
  if (threadIdx.x == 0) ids[cap] = written_s;
}

}  // namespace

void top_candidates(const float* logits, int rows, int vocab, const int* counts, int cap, int* ids, float* values,
                    void* stream) {
  if (rows <= 0) return;
  top_candidates_kernel<<<rows, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(logits, vocab, counts, cap, ids,
                                                                                 values);
  AWQ_CUDA_CHECK_LAUNCH();
}

}  // namespace awq::cuda
