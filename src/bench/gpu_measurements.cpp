#include "src/bench/gpu_measurements.h"

#include <fmt/format.h>

#include <algorithm>

#include "cuda/bench_support.h"
#include "cuda/device_info.h"
#include "src/bench/linear_shapes.h"
#include "src/bench/stats.h"

namespace awq {
namespace {

constexpr size_t kCopyBytes = size_t(1) << 30;
constexpr double kGiB = double(1 << 30);

double copy_gbps(size_t bytes, double ms) { return 2.0 * double(bytes) / (ms * 1e-3) / 1e9; }

}  // namespace

GpuFacts gpu_facts() {
  const cuda::DeviceFacts f = cuda::current_device_facts();
  return {f.name, f.sm_count};
}

VramUse vram_in_use() {
  const cuda::MemInfo m = cuda::device_memory();
  const size_t used = m.total_bytes - m.free_bytes;
  return {double(used) / kGiB, 100.0 * double(used) / double(m.total_bytes)};
}

CopyBandwidthResult measure_copy_bandwidth(int reps) {
  const size_t quarter_free = cuda::device_memory().free_bytes / 4 / 16 * 16;
  const size_t bytes = std::min(kCopyBytes, quarter_free);
  const cuda::CopyTimes t = cuda::time_device_copies(bytes, reps);
  const double by_memcpy = copy_gbps(bytes, median(t.memcpy_ms));
  const double by_kernel = copy_gbps(bytes, median(t.kernel_ms));
  return {std::max(by_memcpy, by_kernel),
          fmt::format("device-to-device copy of {:.2f} GiB, bytes read + written, median of {}: cudaMemcpy {:.1f}, "
                      "copy kernel {:.1f} GB/s; the better one is the yardstick",
                      double(bytes) / kGiB, reps, by_memcpy, by_kernel)};
}

Fp16Baseline measure_fp16_baseline(const ModelConfig& c, std::span<const int> lengths, int reps) {
  std::vector<cuda::DenseGemmShape> layer;
  std::string names;
  for (const LinearShape& s : layer_linear_shapes(c)) {
    layer.push_back({s.out_features, s.in_features});
    if (!names.empty()) names += ',';
    names.append(s.name, 0, s.name.find('_'));
  }
  const LinearShape head = lm_head_shape(c);
  const int max_m = lengths.empty() ? 1 : *std::max_element(lengths.begin(), lengths.end());
  cuda::DenseLinearsBench bench(layer, c.num_layers, {head.out_features, head.in_features}, max_m);

  Fp16Baseline b;
  for (int length : lengths) b.prefill_tokens_per_s[length] = length / (median(bench.pass_ms(length, reps)) * 1e-3);
  b.decode_tokens_per_s = 1.0 / (median(bench.pass_ms(1, reps)) * 1e-3);
  b.method = fmt::format(
      "fp16 cuBLAS (cublasGemmEx, fp32 accumulation) of the LINEAR LAYERS ONLY: {} x {} layers at m = L (prefill) "
      "or m = 1 (decode), plus lm_head on one row; random weights, {} layer copies in rotation against the L2; "
      "no attention, norms, RoPE or embedding; median of {} passes",
      names, c.num_layers, bench.weight_copies(), reps);
  return b;
}

}  // namespace awq
