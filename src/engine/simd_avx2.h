// What every AVX2 translation unit shares: the target attribute its functions
// carry (they run only after a CPU check) and the horizontal sum.
#pragma once
#if defined(__x86_64__)
#include <immintrin.h>

#define AWQ_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace awq {

AWQ_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

}  // namespace awq
#endif
