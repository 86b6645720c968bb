// Portable kernels: the fallback on CPUs without AVX2 and the baseline that
// the SIMD kernels are tested against.
#include "src/common/half.h"
#include "src/engine/cpu_kernels.h"

namespace awq {
namespace {

void int4_rows(const Int4Matrix& w, int r0, int r1, const float* x, int T, const float* xsum, float* y, int ldy) {
  const int K = w.cols, G = w.group_size, ng = w.groups();
  for (int r = r0; r < r1; ++r) {
    const uint8_t* q = w.q.data() + size_t(r) * (K / 2);
    for (int t = 0; t < T; ++t) {
      const float* xt = x + size_t(t) * K;
      float acc = 0.f;
      for (int g = 0; g < ng; ++g) {
        float dot = 0.f;
        for (int i = g * G; i < (g + 1) * G; i += 32) {
          const uint8_t* blk = q + i / 2;
          for (int j = 0; j < 16; ++j) dot += float(blk[j] & 0xf) * xt[i + j] + float(blk[j] >> 4) * xt[i + 16 + j];
        }
        const float s = fp16_to_float(w.scales[size_t(r) * ng + g]);
        acc += s * (dot - float(w.zeros[size_t(r) * ng + g]) * xsum[t * ng + g]);
      }
      y[size_t(t) * ldy + r] = acc;
    }
  }
}

void int4_dequant(const Int4Matrix& w, int r0, int n, float* out) {
  const int K = w.cols, G = w.group_size, ng = w.groups();
  for (int r = r0; r < r0 + n; ++r, out += K) {
    const uint8_t* q = w.q.data() + size_t(r) * (K / 2);
    for (int i = 0; i < K; i += 32) {
      const int g = i / G;
      const float s = fp16_to_float(w.scales[size_t(r) * ng + g]);
      const int z = w.zeros[size_t(r) * ng + g];
      for (int j = 0; j < 16; ++j) {
        out[i + j] = float(int(q[i / 2 + j] & 0xf) - z) * s;
        out[i + 16 + j] = float(int(q[i / 2 + j] >> 4) - z) * s;
      }
    }
  }
}

void f16_rows(const uint16_t* w, int, int K, int r0, int r1, const float* x, int T, float* y, int ldy) {
  for (int r = r0; r < r1; ++r) {
    const uint16_t* row = w + size_t(r) * K;
    for (int t = 0; t < T; ++t) {
      float acc = 0.f;
      for (int i = 0; i < K; ++i) acc += fp16_to_float(row[i]) * x[size_t(t) * K + i];
      y[size_t(t) * ldy + r] = acc;
    }
  }
}

void f16_to_float(const uint16_t* in, int n, float* out) {
  for (int i = 0; i < n; ++i) out[i] = fp16_to_float(in[i]);
}

void float_tile(const float* w, int R, int K, const float* x, int T, float* y, int ldy, int r0) {
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < R; ++r) {
      float acc = 0.f;
      for (int i = 0; i < K; ++i) acc += w[size_t(r) * K + i] * x[size_t(t) * K + i];
      y[size_t(t) * ldy + r0 + r] = acc;
    }
}

}  // namespace

const KernelTable& scalar_kernels() {
  static const KernelTable table{SimdLevel::Scalar, int4_rows, int4_dequant, f16_rows, f16_to_float, float_tile,
                                int8_rows_scalar};
  return table;
}

}  // namespace awq
