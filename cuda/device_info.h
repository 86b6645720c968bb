// Facts about the current CUDA device, read once and cached.
#pragma once
#include <cstddef>
#include <string>

namespace awq::cuda {

int device_sm_count();  // multiprocessors of the current device
// Programmatic dependent launch: compute capability >= 9.0, not switched off
// by AWQRUN_NO_PDL, and no ScopedPdlOff alive on the calling thread.
bool pdl_supported();

// Launches on this thread go without programmatic dependent launch while
// one is alive: the fully ordered reference of the test that holds batch
// passes with PDL to the same bits (tests/cuda/test_runner_batch.cpp).
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
