// AVX-512 (F, BW, VL) + FMA + F16C kernels. Compiled for the baseline ISA;
// only the functions carry the target attribute, and they run only after
// kernel_table() has checked the CPU.
#include "src/engine/cpu_kernels.h"
#include "src/engine/kernel_common.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <algorithm>

// GCC 12 flags the deliberately undefined registers inside its own AVX-512
// intrinsics (_mm512_undefined_*) as (maybe-)uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#define AWQ_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

namespace awq {
namespace {

// Row r's 32-input block at `blk`: lo = inputs 0..15, hi = inputs 16..31.
AWQ_AVX512 inline void unpack_block(const uint8_t* blk, __m512& lo, __m512& hi) {
  const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
  lo = _mm512_cvtepi32_ps(_mm512_and_si512(v, _mm512_set1_epi32(0xf)));
  hi = _mm512_cvtepi32_ps(_mm512_srli_epi32(v, 4));
}

// The decode kernel below computes each weight as (q - z) * s in fp32, the
// value int4_dequant gives the prefill path, and multiplies it with x; per
// row and group the 16 possible weights go in one register and vpermps turns
// 16 nibbles into 16 weights (it reads only the low 4 bits of each index, so
// the low nibble needs no mask). Per 32 weights and token: a zero-extending
// load, a shift, 2 permutes, 2 FMAs; no per-group sums, no x-sums.

// Row z: the values j - z for j = 0..15 (exact in fp32), scaled per group.
struct NibbleTable {
  alignas(64) float v[16][16];
};
constexpr NibbleTable nibble_minus_zero() {
  NibbleTable t{};
  for (int z = 0; z < 16; ++z)
    for (int j = 0; j < 16; ++j) t.v[z][j] = float(j - z);
  return t;
}
alignas(64) constexpr NibbleTable kNibbleMinusZero = nibble_minus_zero();

// The 16 weights (j - z) * s of one row and group.
AWQ_AVX512 inline __m512 group_weights(uint8_t z, float s) {
  return _mm512_mul_ps(_mm512_load_ps(kNibbleMinusZero.v[z]), _mm512_set1_ps(s));
}

// The weights of a 32-input block: lo = inputs 0..15, hi = inputs 16..31.
AWQ_AVX512 inline void block_weights(const uint8_t* blk, __m512 table, __m512& lo, __m512& hi) {
  const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
  lo = _mm512_permutexvar_ps(v, table);
  hi = _mm512_permutexvar_ps(_mm512_srli_epi32(v, 4), table);
}

// n fp16 scales to fp32, 16 at a time (out has room for a multiple of 16).
AWQ_AVX512 inline void scales_to_float(const uint16_t* sc, int n, float* out) {
  for (int j = 0; j < n; j += 16) {
    const __mmask16 m = n - j >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - j)) - 1);
    _mm512_store_ps(out + j, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, sc + j)));
  }
}

// Lanes 0..3: the sums of a, b, c, d (one transposing reduction instead of four).
AWQ_AVX512 inline __m128 reduce4(__m512 a, __m512 b, __m512 c, __m512 d) {
  const __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
  const __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
  const __m512 abcd = _mm512_add_ps(_mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(1, 0, 1, 0)),
                                    _mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(3, 2, 3, 2)));  // a b c d per 128 bits
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(abcd),
                                 _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(abcd), 1)));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// y[t][r0 + r] = the horizontal sum of acc[r][t], for R rows and T tokens.
template <int R, int T>
AWQ_AVX512 inline void store_sums(const __m512 (&acc)[R][T], float* y, int ldy, int r0) {
  for (int t = 0; t < T; ++t) {
    float* yt = y + size_t(t) * ldy + r0;
    if constexpr (R == 4) _mm_storeu_ps(yt, reduce4(acc[0][t], acc[1][t], acc[2][t], acc[3][t]));
    else
      for (int r = 0; r < R; ++r) yt[r] = _mm512_reduce_add_ps(acc[r][t]);
  }
}

// Rows [r0, r0 + R) for T tokens. The R rows share each x load; one
// accumulator per row and token (4 rows give 4 FMA chains, each 2 FMAs per
// block, that is 8 cycles of latency behind ~13 of throughput).
template <int R, int T>
AWQ_AVX512 void int4_row_block(const Int4Matrix& w, const Int4Shape& sh, int r0, const float* x, float* y, int ldy) {
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  const size_t ahead = prefetch_distance(w.rows, r0, R) * sh.row_bytes;
  alignas(64) float s[R][kScaleChunk];
  for (int g0 = 0; g0 < sh.ng; g0 += kScaleChunk) {
    const int n = std::min(kScaleChunk, sh.ng - g0);
    for (int r = 0; r < R; ++r) scales_to_float(w.scales.data() + size_t(r0 + r) * sh.ng + g0, n, s[r]);
    const uint8_t* q = w.q.data() + size_t(r0) * sh.row_bytes + size_t(g0) * (sh.G / 2);
    const uint8_t* z = w.zeros.data() + size_t(r0) * sh.ng + g0;
    const float* xb = x + size_t(g0) * sh.G;
    for (int g = 0; g < n; ++g) {
      __m512 table[R];
      for (int r = 0; r < R; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(q + r * sh.row_bytes + ahead), _MM_HINT_T0);
        table[r] = group_weights(z[size_t(r) * sh.ng + g], s[r][g]);
      }
      for (int b = 0; b < sh.G; b += 32, q += 16, xb += 32) {
        __m512 xlo[T], xhi[T];
        for (int t = 0; t < T; ++t) {
          xlo[t] = _mm512_loadu_ps(xb + size_t(t) * sh.K);
          xhi[t] = _mm512_loadu_ps(xb + size_t(t) * sh.K + 16);
        }
        for (int r = 0; r < R; ++r) {
          __m512 lo, hi;
          block_weights(q + r * sh.row_bytes, table[r], lo, hi);
          for (int t = 0; t < T; ++t) {
            acc[r][t] = _mm512_fmadd_ps(lo, xlo[t], acc[r][t]);
            acc[r][t] = _mm512_fmadd_ps(hi, xhi[t], acc[r][t]);
          }
        }
      }
    }
  }
  store_sums<R, T>(acc, y, ldy, r0);
}

// 4 rows at a time (measured faster than 2 for every T <= 4), the rest one by one.
template <int T>
AWQ_AVX512 void int4_rows_t(const Int4Matrix& w, int r0, int r1, const float* x, float* y, int ldy) {
  const Int4Shape sh{w.cols, w.group_size, w.groups(), size_t(w.cols) / 2};
  int r = r0;
  for (; r + 4 <= r1; r += 4) int4_row_block<4, T>(w, sh, r, x, y, ldy);
  for (; r < r1; ++r) int4_row_block<1, T>(w, sh, r, x, y, ldy);
}

AWQ_AVX512 void int4_rows(const Int4Matrix& w, int r0, int r1, const float* x, int T, const float*, float* y,
                          int ldy) {
  switch (T) {
    case 1: return int4_rows_t<1>(w, r0, r1, x, y, ldy);
    case 2: return int4_rows_t<2>(w, r0, r1, x, y, ldy);
    case 3: return int4_rows_t<3>(w, r0, r1, x, y, ldy);
    default: return int4_rows_t<4>(w, r0, r1, x, y, ldy);
  }
}

AWQ_AVX512 void int4_dequant(const Int4Matrix& w, int r0, int n, float* out) {
  const int K = w.cols, G = w.group_size, ng = w.groups();
  for (int r = r0; r < r0 + n; ++r, out += K) {
    const uint8_t* q = w.q.data() + size_t(r) * (K / 2);
    for (int i = 0; i < K; i += 32) {
      const int g = i / G;
      const __m512 s = _mm512_set1_ps(_cvtsh_ss(w.scales[size_t(r) * ng + g]));
      const __m512 z = _mm512_set1_ps(float(w.zeros[size_t(r) * ng + g]));
      __m512 lo, hi;
      unpack_block(q + i / 2, lo, hi);
      _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_sub_ps(lo, z), s));
      _mm512_storeu_ps(out + i + 16, _mm512_mul_ps(_mm512_sub_ps(hi, z), s));
    }
  }
}

// Rows [r0, r0 + R) of an fp16 matrix [rows][K] for T tokens: the R rows share
// each x load, one accumulator per row and token (in input order, as one row
// alone would sum), and the prefetch keeps the rows streaming (the lm_head is
// 57 MB per token for SmolLM2; without it the kernel read 6-11 GB/s).
template <int R, int T>
AWQ_AVX512 void f16_row_block(const uint16_t* w, int rows, int K, int r0, const float* x, float* y, int ldy) {
  const size_t ahead = prefetch_distance(rows, r0, R) * K;
  const int K16 = K & ~15;
  const __mmask16 tail = __mmask16((1u << (K - K16)) - 1);
  const uint16_t* block = w + size_t(r0) * K;
  __m512 acc[R][T];
  for (auto& row : acc)
    for (auto& a : row) a = _mm512_setzero_ps();
  int i = 0;
  for (; i < K16; i += 16) {
    __m512 xv[T];
    for (int t = 0; t < T; ++t) xv[t] = _mm512_loadu_ps(x + size_t(t) * K + i);
    for (int r = 0; r < R; ++r) {
      const uint16_t* row = block + size_t(r) * K;
      if (i % 32 == 0) _mm_prefetch(reinterpret_cast<const char*>(row + ahead + i), _MM_HINT_T0);
      const __m512 wv = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + i)));
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  if (tail) {
    __m512 xv[T];
    for (int t = 0; t < T; ++t) xv[t] = _mm512_maskz_loadu_ps(tail, x + size_t(t) * K + i);
    for (int r = 0; r < R; ++r) {
      const __m512 wv = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(tail, block + size_t(r) * K + i));
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  store_sums<R, T>(acc, y, ldy, r0);
}

template <int T>
AWQ_AVX512 void f16_rows_t(const uint16_t* w, int rows, int K, int r0, int r1, const float* x, float* y, int ldy) {
  int r = r0;
  for (; r + 4 <= r1; r += 4) f16_row_block<4, T>(w, rows, K, r, x, y, ldy);
  for (; r < r1; ++r) f16_row_block<1, T>(w, rows, K, r, x, y, ldy);
}

AWQ_AVX512 void f16_rows(const uint16_t* w, int rows, int K, int r0, int r1, const float* x, int T, float* y,
                       int ldy) {
  switch (T) {
    case 1: return f16_rows_t<1>(w, rows, K, r0, r1, x, y, ldy);
    case 2: return f16_rows_t<2>(w, rows, K, r0, r1, x, y, ldy);
    case 3: return f16_rows_t<3>(w, rows, K, r0, r1, x, y, ldy);
    default: return f16_rows_t<4>(w, rows, K, r0, r1, x, y, ldy);
  }
}

AWQ_AVX512 void f16_to_float(const uint16_t* in, int n, float* out) {
  int i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(out + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i))));
  for (; i < n; ++i) out[i] = _cvtsh_ss(in[i]);
}

AWQ_AVX512 void float_tile(const float* w, int R, int K, const float* x, int T, float* y, int ldy, int r0) {
  const int K16 = K & ~15;
  const __mmask16 tail = __mmask16((1u << (K - K16)) - 1);
  for (int t = 0; t < T; ++t) {
    const float* xt = x + size_t(t) * K;
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    if (R == 4) {
      for (int i = 0; i < K16; i += 16) {
        const __m512 xv = _mm512_loadu_ps(xt + i);
        for (int r = 0; r < 4; ++r) acc[r] = _mm512_fmadd_ps(_mm512_loadu_ps(w + size_t(r) * K + i), xv, acc[r]);
      }
    } else {
      for (int i = 0; i < K16; i += 16) {
        const __m512 xv = _mm512_loadu_ps(xt + i);
        for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(_mm512_loadu_ps(w + size_t(r) * K + i), xv, acc[r]);
      }
    }
    if (tail) {
      const __m512 xv = _mm512_maskz_loadu_ps(tail, xt + K16);
      for (int r = 0; r < R; ++r)
        acc[r] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, w + size_t(r) * K + K16), xv, acc[r]);
    }
    for (int r = 0; r < R; ++r) y[size_t(t) * ldy + r0 + r] = _mm512_reduce_add_ps(acc[r]);
  }
}

}  // namespace

const KernelTable* avx512_kernels() {
  // VNNI is not part of the level (the other kernels do not use it): the int8
  // kernel takes it when the CPU has it.
  static const KernelTable table{SimdLevel::Avx512, int4_rows, int4_dequant, f16_rows, f16_to_float, float_tile,
                                 cpu_has_avx512_vnni() ? int8_rows_avx512vnni : int8_rows_avx512bw};
  return &table;
}

}  // namespace awq

#else

namespace awq {
const KernelTable* avx512_kernels() { return nullptr; }
}  // namespace awq

#endif
