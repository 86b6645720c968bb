// What the SIMD kernel files share that is not SIMD: how far ahead the
// row-streaming kernels prefetch, and the shape of an int4 matrix as its
// decode kernels use it.
#pragma once
#include <algorithm>
#include <cstddef>

namespace awq {

// Decode reads each weight row once per step, from memory. The hardware
// prefetcher alone left the row kernels waiting on it (int4: 5 GB/s, fp16:
// 6-11 GB/s of the ~24 GB/s one core reads here), so the kernels prefetch the
// rows this far ahead themselves; 4 to 16 rows measured the same.
inline constexpr int kPrefetchRows = 8;

// How many rows past a block of R rows at r0 to prefetch: kPrefetchRows, or
// fewer so that no address lies past the matrix's last row. (Not the call's
// last row: with one thread the next rows are this thread's next task.)
inline size_t prefetch_distance(int rows, int r0, int R) {
  return size_t(std::clamp(rows - r0 - R, 0, kPrefetchRows));
}

// Groups whose scales an int4 decode kernel converts to fp32 at a time (a
// stack buffer per row).
inline constexpr int kScaleChunk = 64;

struct Int4Shape {
  int K, G, ng;      // inputs, group size, groups per row
  size_t row_bytes;  // K / 2
};

}  // namespace awq
