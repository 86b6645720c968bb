// The canonical in-memory form of one AWQ 4-bit linear layer, independent of
// the on-disk layout (GEMM or GEMV). Every backend repacks from this form.
//
//   W[o][i] = (q[o][i] - zero[o][g]) * scale[o][g],   g = i / group_size
//   y[o]    = sum_i x[i] * W[o][i] + bias[o]
//
// Rows are output channels (nn.Linear orientation); along a row the 4-bit
// values of inputs i and i+1 (i even) share one byte, i in the low nibble.
#pragma once
#include <cstdint>
#include <vector>

#include "src/common/half.h"

namespace awq {

struct QuantLinear {
  int in_features = 0;
  int out_features = 0;
  int group_size = 0;             // resolved: never -1 (a group_size of -1 means in_features)
  std::vector<uint8_t> qweight;   // [out][in/2] packed nibbles
  std::vector<uint8_t> zeros;     // [out][groups], each 0..15
  std::vector<uint16_t> scales;   // [out][groups], fp16 bits
  std::vector<float> bias;        // [out] or empty

  int groups() const { return in_features / group_size; }
  uint8_t q(int o, int i) const {
    const uint8_t b = qweight[size_t(o) * (in_features / 2) + i / 2];
    return (i & 1) ? (b >> 4) : (b & 0xf);
  }
  uint8_t zero(int o, int g) const { return zeros[size_t(o) * groups() + g]; }
  float scale(int o, int g) const { return fp16_to_float(scales[size_t(o) * groups() + g]); }
  // Dequantized weight, computed as the AWQ GEMM kernel does: (q - z) exact, times the fp16 scale.
  float weight(int o, int i) const {
    const int g = i / group_size;
    return float(int(q(o, i)) - int(zero(o, g))) * scale(o, g);
  }
  void set_q(int o, int i, uint8_t v) {
    uint8_t& b = qweight[size_t(o) * (in_features / 2) + i / 2];
    b = (i & 1) ? uint8_t((b & 0x0f) | (v << 4)) : uint8_t((b & 0xf0) | (v & 0xf));
  }
  // Allocates zero-filled storage for the given shape.
  static QuantLinear allocate(int in_features, int out_features, int group_size, bool with_bias = false);
};

}  // namespace awq
