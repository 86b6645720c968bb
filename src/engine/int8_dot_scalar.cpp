// Portable int8 lm_head kernel: the fallback without AVX2 and the baseline of
// the SIMD versions.
#include "src/common/half.h"
#include "src/engine/int8_dot.h"

namespace awq {
namespace {

float dot(const int8_t* wq, const uint16_t* ws, const int8_t* xq, const float* xs, int nb) {
  float acc = 0.f;
  for (int b = 0; b < nb; ++b) {
    int sum = 0;
    for (int j = b * kInt8Block; j < (b + 1) * kInt8Block; ++j) sum += int(wq[j]) * int(xq[j]);
    acc += float(sum) * (fp16_to_float(ws[b]) * xs[b]);
  }
  return acc;
}

}  // namespace

void int8_rows_scalar(const Int8Matrix& w, int r0, int r1, const Int8Activations& x, float* y, int ldy) {
  int8_rows_each(w, r0, r1, x, y, ldy, dot);
}

}  // namespace awq
