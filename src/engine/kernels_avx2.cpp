// AVX2 + FMA + F16C kernels (8 lanes). Same structure as kernels_avx512.cpp;
// tails shorter than a vector fall back to scalar code.
#include "src/engine/cpu_kernels.h"

#if defined(__x86_64__)
#include "src/engine/simd_avx2.h"

namespace awq {
namespace {

// 8 bytes of a block: lo = inputs j..j+7, hi = inputs j+16..j+23.
AWQ_AVX2 inline void unpack8(const uint8_t* bytes, __m256& lo, __m256& hi) {
  const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(bytes)));
  lo = _mm256_cvtepi32_ps(_mm256_and_si256(v, _mm256_set1_epi32(0xf)));
  hi = _mm256_cvtepi32_ps(_mm256_srli_epi32(v, 4));
}

template <int T>
AWQ_AVX2 void int4_rows_t(const Int4Matrix& w, int r0, int r1, const float* x, const float* xsum, float* y, int ldy) {
  const int K = w.cols, G = w.group_size, ng = w.groups();
  for (int r = r0; r < r1; ++r) {
    const uint8_t* q = w.q.data() + size_t(r) * (K / 2);
    const uint16_t* sc = w.scales.data() + size_t(r) * ng;
    const uint8_t* zr = w.zeros.data() + size_t(r) * ng;
    __m256 acc[T];
    float zterm[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps(), zterm[t] = 0.f;
    for (int g = 0; g < ng; ++g) {
      __m256 d0[T], d1[T];
      for (int t = 0; t < T; ++t) d0[t] = _mm256_setzero_ps(), d1[t] = _mm256_setzero_ps();
      for (int i = g * G; i < (g + 1) * G; i += 32) {
        for (int half = 0; half < 16; half += 8) {
          __m256 lo, hi;
          unpack8(q + i / 2 + half, lo, hi);
          for (int t = 0; t < T; ++t) {
            d0[t] = _mm256_fmadd_ps(lo, _mm256_loadu_ps(x + t * K + i + half), d0[t]);
            d1[t] = _mm256_fmadd_ps(hi, _mm256_loadu_ps(x + t * K + i + 16 + half), d1[t]);
          }
        }
      }
      const float s = _cvtsh_ss(sc[g]);
      const float sz = s * float(zr[g]);
      for (int t = 0; t < T; ++t) {
        acc[t] = _mm256_fmadd_ps(_mm256_add_ps(d0[t], d1[t]), _mm256_set1_ps(s), acc[t]);
        zterm[t] += sz * xsum[t * ng + g];
      }
    }
    for (int t = 0; t < T; ++t) y[size_t(t) * ldy + r] = hsum(acc[t]) - zterm[t];
  }
}

AWQ_AVX2 void int4_rows(const Int4Matrix& w, int r0, int r1, const float* x, int T, const float* xsum, float* y,
                        int ldy) {
  switch (T) {
    case 1: return int4_rows_t<1>(w, r0, r1, x, xsum, y, ldy);
    case 2: return int4_rows_t<2>(w, r0, r1, x, xsum, y, ldy);
    case 3: return int4_rows_t<3>(w, r0, r1, x, xsum, y, ldy);
    default: return int4_rows_t<4>(w, r0, r1, x, xsum, y, ldy);
  }
}

AWQ_AVX2 void int4_dequant(const Int4Matrix& w, int r0, int n, float* out) {
  const int K = w.cols, G = w.group_size, ng = w.groups();
  for (int r = r0; r < r0 + n; ++r, out += K) {
    const uint8_t* q = w.q.data() + size_t(r) * (K / 2);
    for (int i = 0; i < K; i += 32) {
      const int g = i / G;
      const __m256 s = _mm256_set1_ps(_cvtsh_ss(w.scales[size_t(r) * ng + g]));
      const __m256 z = _mm256_set1_ps(float(w.zeros[size_t(r) * ng + g]));
      for (int half = 0; half < 16; half += 8) {
        __m256 lo, hi;
        unpack8(q + i / 2 + half, lo, hi);
        _mm256_storeu_ps(out + i + half, _mm256_mul_ps(_mm256_sub_ps(lo, z), s));
        _mm256_storeu_ps(out + i + 16 + half, _mm256_mul_ps(_mm256_sub_ps(hi, z), s));
      }
    }
  }
}

template <int T>
AWQ_AVX2 void f16_rows_t(const uint16_t* w, int K, int r0, int r1, const float* x, float* y, int ldy) {
  const int K8 = K & ~7;
  for (int r = r0; r < r1; ++r) {
    const uint16_t* row = w + size_t(r) * K;
    __m256 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
    for (int i = 0; i < K8; i += 8) {
      const __m256 wv = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + i)));
      for (int t = 0; t < T; ++t) acc[t] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + t * K + i), acc[t]);
    }
    for (int t = 0; t < T; ++t) {
      float s = hsum(acc[t]);
      for (int i = K8; i < K; ++i) s += _cvtsh_ss(row[i]) * x[t * K + i];
      y[size_t(t) * ldy + r] = s;
    }
  }
}

AWQ_AVX2 void f16_rows(const uint16_t* w, int K, int r0, int r1, const float* x, int T, float* y, int ldy) {
  switch (T) {
    case 1: return f16_rows_t<1>(w, K, r0, r1, x, y, ldy);
    case 2: return f16_rows_t<2>(w, K, r0, r1, x, y, ldy);
    case 3: return f16_rows_t<3>(w, K, r0, r1, x, y, ldy);
    default: return f16_rows_t<4>(w, K, r0, r1, x, y, ldy);
  }
}

AWQ_AVX2 void f16_to_float(const uint16_t* in, int n, float* out) {
  int i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i))));
  for (; i < n; ++i) out[i] = _cvtsh_ss(in[i]);
}

AWQ_AVX2 void float_tile(const float* w, int R, int K, const float* x, int T, float* y, int ldy, int r0) {
  const int K8 = K & ~7;
  for (int t = 0; t < T; ++t) {
    const float* xt = x + size_t(t) * K;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int i = 0; i < K8; i += 8) {
      const __m256 xv = _mm256_loadu_ps(xt + i);
      for (int r = 0; r < R; ++r) acc[r] = _mm256_fmadd_ps(_mm256_loadu_ps(w + size_t(r) * K + i), xv, acc[r]);
    }
    for (int r = 0; r < R; ++r) {
      float s = hsum(acc[r]);
      for (int i = K8; i < K; ++i) s += w[size_t(r) * K + i] * xt[i];
      y[size_t(t) * ldy + r0 + r] = s;
    }
  }
}

}  // namespace

const KernelTable* avx2_kernels() {
  static const KernelTable table{SimdLevel::Avx2, int4_rows, int4_dequant, f16_rows, f16_to_float, float_tile,
                                int8_rows_avx2};
  return &table;
}

}  // namespace awq

#else

namespace awq {
const KernelTable* avx2_kernels() { return nullptr; }
}  // namespace awq

#endif
