// Owner of the split-K scratch that the AWQ matmul kernels share
// (MatmulWorkspace, awq_matmul.h): fp32 partials and per-tile counters,
// the counters zeroed once here (every launch leaves them zero).
#pragma once
#include "cuda/awq_matmul.h"
#include "cuda/device_buffer.h"

namespace awq::cuda {

struct MatmulScratch {
  DeviceBuffer<float> partial{kMatmulPartialFloats};
  DeviceBuffer<unsigned> counters{kMatmulCounters};
  MatmulScratch() { device_memset(counters.get(), 0, counters.bytes()); }
  MatmulWorkspace view() { return {partial.get(), partial.size(), counters.get(), counters.size()}; }
};

}  // namespace awq::cuda
