// AVX-512 (F, BW, VL) + FMA + F16C kernels. Compiled for the baseline ISA;
// only the functions carry the target attribute, and they run only after
// kernel_table() has checked the CPU.
#include "src/engine/cpu_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

// GCC 12 flags the deliberately undefined registers inside its own AVX-512
// intrinsics (_mm512_undefined_*) as maybe-uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define AWQ_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

namespace awq {
namespace {

// Row r's 32-input block at `blk`: lo = inputs 0..15, hi = inputs 16..31.
AWQ_AVX512 inline void unpack_block(const uint8_t* blk, __m512& lo, __m512& hi) {
  const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
  lo = _mm512_cvtepi32_ps(_mm512_and_si512(v, _mm512_set1_epi32(0xf)));
  hi = _mm512_cvtepi32_ps(_mm512_srli_epi32(v, 4));
}

template <int T>
AWQ_AVX512 void int4_rows_t(const Int4Matrix& w, int r0, int r1, const float* x, const float* xsum, float* y,
                            int ldy) {
  const int K = w.cols, G = w.group_size, ng = w.groups();
  for (int r = r0; r < r1; ++r) {
    const uint8_t* q = w.q.data() + size_t(r) * (K / 2);
    const uint16_t* sc = w.scales.data() + size_t(r) * ng;
    const uint8_t* zr = w.zeros.data() + size_t(r) * ng;
    __m512 acc[T];
    float zterm[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps(), zterm[t] = 0.f;
    for (int g = 0; g < ng; ++g) {
      __m512 dlo[T], dhi[T];
      for (int t = 0; t < T; ++t) dlo[t] = _mm512_setzero_ps(), dhi[t] = _mm512_setzero_ps();
      for (int i = g * G; i < (g + 1) * G; i += 32) {
        __m512 lo, hi;
        unpack_block(q + i / 2, lo, hi);
        for (int t = 0; t < T; ++t) {
          dlo[t] = _mm512_fmadd_ps(lo, _mm512_loadu_ps(x + t * K + i), dlo[t]);
          dhi[t] = _mm512_fmadd_ps(hi, _mm512_loadu_ps(x + t * K + i + 16), dhi[t]);
        }
      }
      const float s = _cvtsh_ss(sc[g]);
      const float sz = s * float(zr[g]);
      for (int t = 0; t < T; ++t) {
        acc[t] = _mm512_fmadd_ps(_mm512_add_ps(dlo[t], dhi[t]), _mm512_set1_ps(s), acc[t]);
        zterm[t] += sz * xsum[t * ng + g];
      }
    }
    for (int t = 0; t < T; ++t) y[size_t(t) * ldy + r] = _mm512_reduce_add_ps(acc[t]) - zterm[t];
  }
}

AWQ_AVX512 void int4_rows(const Int4Matrix& w, int r0, int r1, const float* x, int T, const float* xsum, float* y,
                          int ldy) {
  switch (T) {
    case 1: return int4_rows_t<1>(w, r0, r1, x, xsum, y, ldy);
    case 2: return int4_rows_t<2>(w, r0, r1, x, xsum, y, ldy);
    case 3: return int4_rows_t<3>(w, r0, r1, x, xsum, y, ldy);
    default: return int4_rows_t<4>(w, r0, r1, x, xsum, y, ldy);
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

template <int T>
AWQ_AVX512 void f16_rows_t(const uint16_t* w, int K, int r0, int r1, const float* x, float* y, int ldy) {
  const int K16 = K & ~15;
  const __mmask16 tail = __mmask16((1u << (K - K16)) - 1);
  for (int r = r0; r < r1; ++r) {
    const uint16_t* row = w + size_t(r) * K;
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    int i = 0;
    for (; i < K16; i += 16) {
      const __m512 wv = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + i)));
      for (int t = 0; t < T; ++t) acc[t] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x + t * K + i), acc[t]);
    }
    if (tail) {
      const __m512 wv = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(tail, row + i));
      for (int t = 0; t < T; ++t) acc[t] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(tail, x + t * K + i), acc[t]);
    }
    for (int t = 0; t < T; ++t) y[size_t(t) * ldy + r] = _mm512_reduce_add_ps(acc[t]);
  }
}

AWQ_AVX512 void f16_rows(const uint16_t* w, int K, int r0, int r1, const float* x, int T, float* y, int ldy) {
  switch (T) {
    case 1: return f16_rows_t<1>(w, K, r0, r1, x, y, ldy);
    case 2: return f16_rows_t<2>(w, K, r0, r1, x, y, ldy);
    case 3: return f16_rows_t<3>(w, K, r0, r1, x, y, ldy);
    default: return f16_rows_t<4>(w, K, r0, r1, x, y, ldy);
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
