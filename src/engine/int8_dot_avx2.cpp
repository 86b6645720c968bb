// AVX2 int8 lm_head kernel (one 32-input block per 256-bit register).
#include "src/engine/int8_dot.h"

#if defined(__x86_64__)
#include "src/engine/simd_avx2.h"

namespace awq {
namespace {

// acc += scale * (8 int32 partial sums of the 32 products of block w . x).
// maddubs multiplies unsigned by signed bytes, so it gets |w| and x * sign(w)
// (whose products are w * x); pairs of products are at most 2 * 127 * 127,
// which fits int16 without saturating because the quantizer never makes -128.
AWQ_AVX2 inline __m256 block_fma(const int8_t* w, const int8_t* x, float scale, __m256 acc) {
  const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
  const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
  const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(wv, wv), _mm256_sign_epi8(xv, wv));
  const __m256i p32 = _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), _mm256_set1_ps(scale), acc);
}

// One row . one token, with two accumulators so that consecutive blocks do
// not wait on each other's FMA.
AWQ_AVX2 float dot(const int8_t* wq, const uint16_t* ws, const int8_t* xq, const float* xs, int nb) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int b = 0;
  for (; b + 2 <= nb; b += 2) {
    acc0 = block_fma(wq + b * kInt8Block, xq + b * kInt8Block, _cvtsh_ss(ws[b]) * xs[b], acc0);
    acc1 = block_fma(wq + (b + 1) * kInt8Block, xq + (b + 1) * kInt8Block, _cvtsh_ss(ws[b + 1]) * xs[b + 1], acc1);
  }
  if (b < nb) acc0 = block_fma(wq + b * kInt8Block, xq + b * kInt8Block, _cvtsh_ss(ws[b]) * xs[b], acc0);
  return hsum(_mm256_add_ps(acc0, acc1));
}

}  // namespace

AWQ_AVX2 void int8_rows_avx2(const Int8Matrix& w, int r0, int r1, const Int8Activations& x, float* y, int ldy) {
  int8_rows_each(w, r0, r1, x, y, ldy, dot);
}

}  // namespace awq

#endif
