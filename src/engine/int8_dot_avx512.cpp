// AVX-512 int8 lm_head kernels: two 32-input blocks per 512-bit register,
// int32 lanes 0-7 holding the first block's partial sums and 8-15 the
// second's. The BW version multiplies with maddubs + madd, the VNNI one with
// dpbusd; both carry their target attribute and run only after a CPU check.
#include "src/engine/int8_dot.h"

#if defined(__x86_64__)
#include <immintrin.h>

// GCC 12 flags the deliberately undefined registers inside its own AVX-512
// intrinsics (_mm512_undefined_*) as maybe-uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define AWQ_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))
#define AWQ_AVX512_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

namespace awq {
namespace {

// |w| (unsigned) and x * sign(w) for 64 bytes: what maddubs and dpbusd take,
// since one of their operands is unsigned; their products are w * x.
// AVX-512 has no vpsignb, so x is negated under the mask of w's sign bits
// (w == 0 needs no care: |w| = 0 zeroes the product).
struct SignSplit {
  __m512i abs_w, signed_x;
};

AWQ_AVX512 inline SignSplit sign_split(const int8_t* w, const int8_t* x) {
  const __m512i wv = _mm512_loadu_si512(w), xv = _mm512_loadu_si512(x);
  const __mmask64 negative = _mm512_movepi8_mask(wv);
  return {_mm512_abs_epi8(wv), _mm512_mask_sub_epi8(xv, negative, _mm512_setzero_si512(), xv)};
}

// The scales of blocks b and b + 1, each in the 8 lanes its sums occupy.
AWQ_AVX512 inline __m512 pair_scale(const uint16_t* ws, const float* xs, int b) {
  return _mm512_mask_blend_ps(__mmask16(0xff00), _mm512_set1_ps(_cvtsh_ss(ws[b]) * xs[b]),
                              _mm512_set1_ps(_cvtsh_ss(ws[b + 1]) * xs[b + 1]));
}

// A lone last block (odd block count), with 256-bit instructions.
AWQ_AVX512 inline float last_block(const int8_t* w, const int8_t* x, float scale) {
  const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
  const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
  const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(wv, wv), _mm256_sign_epi8(xv, wv));
  const __m256i p32 = _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
  return scale * float(_mm512_reduce_add_epi32(_mm512_zextsi256_si512(p32)));
}

// Sum over the blocks of the pairs' scaled int32 sums, plus the odd last block.
AWQ_AVX512 inline float finish(__m512 acc, const int8_t* wq, const uint16_t* ws, const int8_t* xq, const float* xs,
                               int b, int nb) {
  float s = _mm512_reduce_add_ps(acc);
  if (b < nb) s += last_block(wq + b * kInt8Block, xq + b * kInt8Block, _cvtsh_ss(ws[b]) * xs[b]);
  return s;
}

// One row . one token. The two versions differ only in the multiply; each
// needs its own target attribute, so the short loop is written twice.
// Pairs of products are at most 2 * 127 * 127, so maddubs never saturates.
AWQ_AVX512 float dot_bw(const int8_t* wq, const uint16_t* ws, const int8_t* xq, const float* xs, int nb) {
  __m512 acc = _mm512_setzero_ps();
  int b = 0;
  for (; b + 2 <= nb; b += 2) {
    const SignSplit s = sign_split(wq + b * kInt8Block, xq + b * kInt8Block);
    const __m512i sums = _mm512_madd_epi16(_mm512_maddubs_epi16(s.abs_w, s.signed_x), _mm512_set1_epi16(1));
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), pair_scale(ws, xs, b), acc);
  }
  return finish(acc, wq, ws, xq, xs, b, nb);
}

AWQ_AVX512_VNNI float dot_vnni(const int8_t* wq, const uint16_t* ws, const int8_t* xq, const float* xs, int nb) {
  __m512 acc = _mm512_setzero_ps();
  int b = 0;
  for (; b + 2 <= nb; b += 2) {
    const SignSplit s = sign_split(wq + b * kInt8Block, xq + b * kInt8Block);
    const __m512i sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(), s.abs_w, s.signed_x);
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), pair_scale(ws, xs, b), acc);
  }
  return finish(acc, wq, ws, xq, xs, b, nb);
}

}  // namespace

AWQ_AVX512 void int8_rows_avx512bw(const Int8Matrix& w, int r0, int r1, const Int8Activations& x, float* y,
                                   int ldy) {
  int8_rows_each(w, r0, r1, x, y, ldy, dot_bw);
}

AWQ_AVX512_VNNI void int8_rows_avx512vnni(const Int8Matrix& w, int r0, int r1, const Int8Activations& x, float* y,
                                          int ldy) {
  int8_rows_each(w, r0, r1, x, y, ldy, dot_vnni);
}

bool cpu_has_avx512_vnni() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
}

}  // namespace awq

#endif
