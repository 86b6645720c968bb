// GPU measurements for `awqrun bench` that are not part of running a model:
// facts about the card, its device-to-device copy bandwidth (the yardstick
// for the decode's achieved GB/s) and an fp16 cuBLAS baseline of a model's
// linear layers. No CUDA types in this header. Everything runs on the
// current device.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace awq::cuda {

struct DeviceFacts {
  std::string name;
  int sm_count = 0;
  size_t l2_bytes = 0;
};
DeviceFacts current_device_facts();

struct CopyTimes {
  size_t bytes = 0;                            // copied per measurement
  std::vector<double> memcpy_ms, kernel_ms;    // one per rep
};

// Copies `bytes` (a multiple of 16) between two fresh buffers with
// cudaMemcpyAsync and with copy_kernel, reps times each after a warm-up,
// timed with CUDA events.
CopyTimes time_device_copies(size_t bytes, int reps);

struct DenseGemmShape {
  int n = 0, k = 0;  // y[m][n] = x[m][k] W[n][k]^T
};

// The linears of a model as fp16 cuBLAS GEMMs on random data. One layer's
// weights exist in a few copies, used in turn, so that the weights of
// consecutive layers do not hit in L2 any more than a real model's would.
class DenseLinearsBench {
 public:
  // Throws Error(Device) when not even one copy of the layer fits in memory.
  DenseLinearsBench(const std::vector<DenseGemmShape>& layer, int layers, DenseGemmShape lm_head, int max_m);
  ~DenseLinearsBench();
  DenseLinearsBench(const DenseLinearsBench&) = delete;
  DenseLinearsBench& operator=(const DenseLinearsBench&) = delete;

  // Times (ms, one per rep, after one warm-up) of one pass: every layer's
  // GEMMs at m rows, then the lm_head on one row (the last position's logits).
  std::vector<double> pass_ms(int m, int reps);
  int weight_copies() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace awq::cuda
