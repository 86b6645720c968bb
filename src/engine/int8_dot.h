// The int8 x int8 block dot product of the int8 lm_head, one implementation
// per instruction set. KernelTable::int8_rows points at one of them (see
// cpu_kernels.h); the tests call each directly.
//
// y[t * ldy + r] = sum over blocks b of  w.scale[r][b] * x.scale[t][b] *
//                  sum_{j < 32} w.q[r][32b + j] * x.q[t][32b + j]
// for rows r in [r0, r1) and every token t of x. The block sums are exact
// int32; only the scaled sum over blocks is fp32.
#pragma once
#include "src/engine/int8_matrix.h"
#include "src/engine/kernel_common.h"

namespace awq {

using Int8RowsFn = void (*)(const Int8Matrix& w, int r0, int r1, const Int8Activations& x, float* y, int ldy);

void int8_rows_scalar(const Int8Matrix& w, int r0, int r1, const Int8Activations& x, float* y, int ldy);

#if defined(__x86_64__)
// AVX2: _mm256_maddubs_epi16 on |w| and x * sign(w) (the sign trick: maddubs
// takes one unsigned operand), then _mm256_madd_epi16 to int32.
void int8_rows_avx2(const Int8Matrix& w, int r0, int r1, const Int8Activations& x, float* y, int ldy);
// AVX-512 BW: the same on two blocks per 512-bit register.
void int8_rows_avx512bw(const Int8Matrix& w, int r0, int r1, const Int8Activations& x, float* y, int ldy);
// AVX-512 VNNI: _mm512_dpbusd_epi32 does maddubs + madd in one instruction.
void int8_rows_avx512vnni(const Int8Matrix& w, int r0, int r1, const Int8Activations& x, float* y, int ldy);
bool cpu_has_avx512_vnni();
#endif

// Rows [r0, r1) x every token of x, with `dot(wq, ws, xq, xs, blocks)` giving
// one row . one token. No SIMD here, so no target attribute: it inlines into
// every kernel, and `dot` (which carries the kernel's target) is one call per
// row and token.
template <typename Dot>
inline void int8_rows_each(const Int8Matrix& w, int r0, int r1, const Int8Activations& x, float* y, int ldy,
                           Dot dot) {
  const int nb = w.blocks();
  const size_t row_len = size_t(nb) * kInt8Block;
  for (int r = r0; r < r1; ++r) {
    // The row kPrefetchRows ahead (see kernel_common.h), a cache line at a time.
    const size_t ahead = size_t(r) + prefetch_distance(w.rows, r, 1);
    for (size_t i = 0; i < row_len; i += 64) __builtin_prefetch(w.q.data() + ahead * row_len + i);
    __builtin_prefetch(w.scales.data() + ahead * nb);
    for (int t = 0; t < x.rows; ++t)
      y[size_t(t) * ldy + r] = dot(w.q.data() + size_t(r) * row_len, w.scales.data() + size_t(r) * nb,
                                   x.q.data() + size_t(t) * row_len, x.scales.data() + size_t(t) * nb, nb);
  }
}

}  // namespace awq
