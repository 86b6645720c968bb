// AVX2 + FMA + F16C kernels (8 lanes). Same structure as kernels_avx512.cpp;
// tails shorter than a vector fall back to scalar code.
#include "src/engine/cpu_kernels.h"
#include "src/engine/kernel_common.h"

#if defined(__x86_64__)
#include "src/engine/simd_avx2.h"

#include <algorithm>

namespace awq {
namespace {

// 8 bytes of a block: lo = inputs j..j+7, hi = inputs j+16..j+23.
AWQ_AVX2 inline void unpack8(const uint8_t* bytes, __m256& lo, __m256& hi) {
  const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(bytes)));
  lo = _mm256_cvtepi32_ps(_mm256_and_si256(v, _mm256_set1_epi32(0xf)));
  hi = _mm256_cvtepi32_ps(_mm256_srli_epi32(v, 4));
}

// The decode kernel below: per group s * (sum q_i x_i) - s * z * (sum x_i),
// with the group sums of x computed once per call. AVX2's vpermps indexes 8
// values, not 16, so nibbles become floats by conversion (1 uop), not by a
// table of the 16 dequantized weights as on AVX-512.

// Scales of groups [g0, g0 + n) of row r to fp32 in s; returns in zterm[t]
// the sum over those groups of s * z * xsum[t][g], the zero-point term.
template <int T>
AWQ_AVX2 void row_scales(const Int4Matrix& w, const Int4Shape& sh, int r, int g0, int n, const float* xsum, float* s,
                         float* zterm) {
  const uint16_t* sc = w.scales.data() + size_t(r) * sh.ng + g0;
  const uint8_t* z = w.zeros.data() + size_t(r) * sh.ng + g0;
  const float* xs = xsum + g0;
  __m256 zt[T];
  for (int t = 0; t < T; ++t) zt[t] = _mm256_setzero_ps();
  int j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 sv = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc + j)));
    _mm256_store_ps(s + j, sv);
    const __m128i zb = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(z + j));
    const __m256 sz = _mm256_mul_ps(sv, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(zb)));
    for (int t = 0; t < T; ++t) zt[t] = _mm256_fmadd_ps(sz, _mm256_loadu_ps(xs + size_t(t) * sh.ng + j), zt[t]);
  }
  for (int t = 0; t < T; ++t) zterm[t] = hsum(zt[t]);
  for (; j < n; ++j) {  // the last n % 8 groups
    s[j] = _cvtsh_ss(sc[j]);
    for (int t = 0; t < T; ++t) zterm[t] += s[j] * float(z[j]) * xs[size_t(t) * sh.ng + j];
  }
}

// Rows [r0, r0 + R) for T tokens. Two partial sums per row, token and group
// (low and high nibbles) give 2 * R * T FMA chains.
template <int R, int T>
AWQ_AVX2 void int4_row_block(const Int4Matrix& w, const Int4Shape& sh, int r0, const float* x, const float* xsum,
                             float* y, int ldy) {
  const size_t ahead = prefetch_distance(w.rows, r0, R) * sh.row_bytes;
  __m256 acc[R][T];
  float zterm[R][T] = {};
  for (auto& row : acc)
    for (auto& a : row) a = _mm256_setzero_ps();
  alignas(32) float s[R][kScaleChunk];
  for (int g0 = 0; g0 < sh.ng; g0 += kScaleChunk) {
    const int n = std::min(kScaleChunk, sh.ng - g0);
    for (int r = 0; r < R; ++r) {
      float zt[T];
      row_scales<T>(w, sh, r0 + r, g0, n, xsum, s[r], zt);
      for (int t = 0; t < T; ++t) zterm[r][t] += zt[t];
    }
    const uint8_t* q = w.q.data() + size_t(r0) * sh.row_bytes + size_t(g0) * (sh.G / 2);
    const float* xb = x + size_t(g0) * sh.G;
    for (int g = 0; g < n; ++g) {
      __m256 d[R][T][2];
      for (int r = 0; r < R; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(q + r * sh.row_bytes + ahead), _MM_HINT_T0);
        for (int t = 0; t < T; ++t) d[r][t][0] = d[r][t][1] = _mm256_setzero_ps();
      }
      for (int b = 0; b < sh.G; b += 32, q += 16, xb += 32)
        for (int half = 0; half < 16; half += 8)
          for (int r = 0; r < R; ++r) {
            __m256 lo, hi;
            unpack8(q + r * sh.row_bytes + half, lo, hi);
            for (int t = 0; t < T; ++t) {
              d[r][t][0] = _mm256_fmadd_ps(lo, _mm256_loadu_ps(xb + size_t(t) * sh.K + half), d[r][t][0]);
              d[r][t][1] = _mm256_fmadd_ps(hi, _mm256_loadu_ps(xb + size_t(t) * sh.K + 16 + half), d[r][t][1]);
            }
          }
      for (int r = 0; r < R; ++r) {
        const __m256 sv = _mm256_broadcast_ss(&s[r][g]);
        for (int t = 0; t < T; ++t) acc[r][t] = _mm256_fmadd_ps(_mm256_add_ps(d[r][t][0], d[r][t][1]), sv, acc[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) y[size_t(t) * ldy + r0 + r] = hsum(acc[r][t]) - zterm[r][t];
}

// 2 rows at a time for one token; more tokens have enough FMA chains in one
// row, and 2 rows of them would not fit the 16 registers.
template <int T>
AWQ_AVX2 void int4_rows_t(const Int4Matrix& w, int r0, int r1, const float* x, const float* xsum, float* y, int ldy) {
  constexpr int R = T == 1 ? 2 : 1;
  const Int4Shape sh{w.cols, w.group_size, w.groups(), size_t(w.cols) / 2};
  int r = r0;
  for (; r + R <= r1; r += R) int4_row_block<R, T>(w, sh, r, x, xsum, y, ldy);
  for (; r < r1; ++r) int4_row_block<1, T>(w, sh, r, x, xsum, y, ldy);
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

// Rows [r0, r0 + R) of an fp16 matrix [rows][K] for T tokens, one
// accumulator per row and token in input order; several rows give several FMA
// chains, and the prefetch keeps the rows streaming.
template <int R, int T>
AWQ_AVX2 void f16_row_block(const uint16_t* w, int rows, int K, int r0, const float* x, float* y, int ldy) {
  const size_t ahead = prefetch_distance(rows, r0, R) * K;
  const int K8 = K & ~7;
  const uint16_t* block = w + size_t(r0) * K;
  __m256 acc[R][T];
  for (auto& row : acc)
    for (auto& a : row) a = _mm256_setzero_ps();
  for (int i = 0; i < K8; i += 8)
    for (int r = 0; r < R; ++r) {
      const uint16_t* row = block + size_t(r) * K;
      if (i % 32 == 0) _mm_prefetch(reinterpret_cast<const char*>(row + ahead + i), _MM_HINT_T0);
      const __m256 wv = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + i)));
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + size_t(t) * K + i), acc[r][t]);
    }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) {
      float s = hsum(acc[r][t]);
      for (int i = K8; i < K; ++i) s += _cvtsh_ss(block[size_t(r) * K + i]) * x[size_t(t) * K + i];
      y[size_t(t) * ldy + r0 + r] = s;
    }
}

// 4 rows for one token, 2 for two, 1 for more (what the 16 registers hold).
template <int T>
AWQ_AVX2 void f16_rows_t(const uint16_t* w, int rows, int K, int r0, int r1, const float* x, float* y, int ldy) {
  constexpr int R = T == 1 ? 4 : T == 2 ? 2 : 1;
  int r = r0;
  for (; r + R <= r1; r += R) f16_row_block<R, T>(w, rows, K, r, x, y, ldy);
  for (; r < r1; ++r) f16_row_block<1, T>(w, rows, K, r, x, y, ldy);
}

AWQ_AVX2 void f16_rows(const uint16_t* w, int rows, int K, int r0, int r1, const float* x, int T, float* y,
                       int ldy) {
  switch (T) {
    case 1: return f16_rows_t<1>(w, rows, K, r0, r1, x, y, ldy);
    case 2: return f16_rows_t<2>(w, rows, K, r0, r1, x, y, ldy);
    case 3: return f16_rows_t<3>(w, rows, K, r0, r1, x, y, ldy);
    default: return f16_rows_t<4>(w, rows, K, r0, r1, x, y, ldy);
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
