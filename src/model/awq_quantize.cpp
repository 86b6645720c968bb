#include "src/model/awq_quantize.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <thread>
#include <vector>

#include "src/common/error.h"
#include "src/common/half.h"

namespace awq {
namespace {

constexpr float kMaxInt = 15.f;

// One fp16 tensor op: compute in float, round the result to fp16.
float to_half(float x) { return fp16_to_float(float_to_fp16(x)); }

// torch.round: half to even (nearbyint in the default rounding mode).
float round_even(float x) { return std::nearbyint(x); }

void quantize_rows(const float* w, int row_begin, int row_end, int in, int group, QuantLinear& out) {
  const int groups = in / group;
  const float min_scale = to_half(1e-5f);
  std::vector<float> h(static_cast<size_t>(group));
  for (int o = row_begin; o < row_end; ++o) {
    for (int g = 0; g < groups; ++g) {
      const float* src = w + size_t(o) * in + size_t(g) * group;
      for (int k = 0; k < group; ++k) h[k] = to_half(src[k]);
      const auto [lo, hi] = std::minmax_element(h.begin(), h.end());
      const float min_val = *lo;
      const float range = std::max(to_half(*hi - min_val), min_scale);
      const uint16_t scale_bits = float_to_fp16(range / kMaxInt);
      const float scale = fp16_to_float(scale_bits);
      const float zero = std::clamp(-round_even(to_half(min_val / scale)), 0.f, kMaxInt);
      out.scales[size_t(o) * groups + g] = scale_bits;
      out.zeros[size_t(o) * groups + g] = uint8_t(zero);
      for (int k = 0; k < group; ++k) {
        const float q = std::clamp(round_even(to_half(h[k] / scale)) + zero, 0.f, kMaxInt);
        out.set_q(o, g * group + k, uint8_t(q));
      }
    }
  }
}

}  // namespace

QuantLinear quantize_rtn(const float* w, int out_features, int in_features, int group_size) {
  if (group_size <= 0 || group_size % 2 != 0 || in_features % group_size != 0)
    usage_error("group size {} must be even and divide the input width {}", group_size, in_features);
  QuantLinear out = QuantLinear::allocate(in_features, out_features, group_size);
  // Rows are independent; split them over a few threads (the model has ~100M weights).
  const int n_threads = int(std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
  const int per = (out_features + n_threads - 1) / n_threads;
  std::vector<std::thread> workers;
  for (int t = 0; t < n_threads; ++t) {
    const int begin = t * per, end = std::min(out_features, begin + per);
    if (begin >= end) break;
    workers.emplace_back(quantize_rows, w, begin, end, in_features, group_size, std::ref(out));
  }
  for (auto& th : workers) th.join();
  return out;
}

}  // namespace awq
