// The GPU-only parts of `awqrun bench` (built with CUDA only): the card, its
// memory in use, its copy bandwidth and the fp16 cuBLAS baseline, reduced to
// the figures the report prints. All on the current device.
#pragma once
#include <map>
#include <span>
#include <string>

#include "src/model/model_config.h"

namespace awq {

struct GpuFacts {
  std::string name;
  int sm_count = 0;
};
GpuFacts gpu_facts();

struct VramUse {
  double gib = 0, percent = 0;  // in use on the card (total - free: every process, CUDA context included)
};
VramUse vram_in_use();

struct CopyBandwidthResult {
  double gbps = 0;     // the better of cudaMemcpy and the copy kernel; read + write counted
  std::string method;  // what was measured, for the header
};
// Up to 1 GiB (less when a quarter of the free memory is smaller).
CopyBandwidthResult measure_copy_bandwidth(int reps);

struct Fp16Baseline {
  std::string method;
  std::map<int, double> prefill_tokens_per_s;  // by length
  double decode_tokens_per_s = 0;
};
// The model's linears as fp16 cuBLAS GEMMs at m = each length (prefill) and
// m = 1 (decode), plus the lm_head on one row. Error(Device) when it does not fit.
Fp16Baseline measure_fp16_baseline(const ModelConfig& c, std::span<const int> lengths, int reps);

}  // namespace awq
