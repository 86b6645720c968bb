#include "src/engine/int8_matrix.h"

#include <algorithm>
#include <cmath>

#include "src/common/half.h"

namespace awq {
namespace {

float block_scale(const float* x, int n) {
  float m = 0.f;
  for (int j = 0; j < n; ++j) m = std::max(m, std::fabs(x[j]));
  return m / 127.f;
}

// q[0..32): x[0..n) / scale rounded to nearest (ties to even), then zeros.
void quantize_block(const float* x, int n, float scale, int8_t* q) {
  const float inv = scale > 0.f ? 1.f / scale : 0.f;
  for (int j = 0; j < n; ++j) q[j] = int8_t(std::clamp(std::nearbyint(x[j] * inv), -127.f, 127.f));
  std::fill(q + n, q + kInt8Block, int8_t(0));
}

}  // namespace

void quantize_int8_row(const float* x, int n, int8_t* q, float* scales) {
  for (int b = 0; b * kInt8Block < n; ++b) {
    const int len = std::min(kInt8Block, n - b * kInt8Block);
    scales[b] = block_scale(x + b * kInt8Block, len);
    quantize_block(x + b * kInt8Block, len, scales[b], q + b * kInt8Block);
  }
}

void quantize_int8_row_f16(const float* x, int n, int8_t* q, uint16_t* scales) {
  for (int b = 0; b * kInt8Block < n; ++b) {
    const int len = std::min(kInt8Block, n - b * kInt8Block);
    scales[b] = float_to_fp16(block_scale(x + b * kInt8Block, len));
    quantize_block(x + b * kInt8Block, len, fp16_to_float(scales[b]), q + b * kInt8Block);
  }
}

void quantize_int8_activations(const float* x, int rows, int cols, Int8Activations& out) {
  out.rows = rows;
  out.cols = cols;
  const int nb = out.blocks();
  out.q.resize(size_t(rows) * nb * kInt8Block);
  out.scales.resize(size_t(rows) * nb);
  for (int t = 0; t < rows; ++t)
    quantize_int8_row(x + size_t(t) * cols, cols, out.q.data() + size_t(t) * nb * kInt8Block,
                      out.scales.data() + size_t(t) * nb);
}

void dequantize_int8_rows(const Int8Matrix& w, int r0, int n, float* out) {
  const int nb = w.blocks();
  for (int r = r0; r < r0 + n; ++r, out += w.cols) {
    const int8_t* q = w.q.data() + size_t(r) * nb * kInt8Block;
    const uint16_t* s = w.scales.data() + size_t(r) * nb;
    const int full = w.cols / kInt8Block;
    for (int b = 0; b < full; ++b) {  // fixed trip count: the compiler vectorizes it
      const float scale = fp16_to_float(s[b]);
      for (int j = 0; j < kInt8Block; ++j) out[b * kInt8Block + j] = float(q[b * kInt8Block + j]) * scale;
    }
    if (full < nb)
      for (int j = full * kInt8Block; j < w.cols; ++j) out[j] = float(q[j]) * fp16_to_float(s[full]);
  }
}

}  // namespace awq
