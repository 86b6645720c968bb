// Facts about the current CUDA device, read once and cached.
#pragma once
#include <cstddef>
#include <string>

namespace awq::cuda {

int device_sm_count();  // multiprocessors of the current device
// Programmatic dependent launch: compute capability >= 9.0, not switched off
// by AWQRUN_NO_PDL, and no ScopedPdlOff alive on the calling thread.
bool pdl_supported();

// Launches on this thread go without programmatic dependent launch while one
// is alive. The multi-sequence passes (packed prefill, decode rows) use it:
// their device test failed 3 of 5 runs with PDL on an H200 (single rows
// 3-4% off) and passed 4 of 4 with AWQRUN_NO_PDL=1; the cause is not found
// yet (docs/GPU_TESTS.md), so they run fully ordered.
class ScopedPdlOff {
 public:
  ScopedPdlOff();
  ~ScopedPdlOff();
  ScopedPdlOff(const ScopedPdlOff&) = delete;
  ScopedPdlOff& operator=(const ScopedPdlOff&) = delete;
};

// Throws Error(Device) "no CUDA device ..." when the runtime finds no usable
// GPU or driver; otherwise selects `index` and returns its name.
std::string select_device(int index);

struct MemInfo {
  size_t free_bytes = 0, total_bytes = 0;
};
MemInfo device_memory();

// A benchmark A/B switch (AWQRUN_NO_PDL, AWQRUN_NO_LOGIT_POOL): set to
// anything but "" or "0".
bool env_switch_on(const char* name);

}  // namespace awq::cuda
