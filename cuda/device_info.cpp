#include "cuda/device_info.h"

#include <cstdlib>

#include "cuda/cuda_check.h"
#include "src/common/error.h"

namespace awq::cuda {

int device_sm_count() {
  static thread_local int cached_device = -1, cached_sms = 0;
  int dev = 0;
  AWQ_CUDA_CHECK(cudaGetDevice(&dev));
  if (dev != cached_device) {
    AWQ_CUDA_CHECK(cudaDeviceGetAttribute(&cached_sms, cudaDevAttrMultiProcessorCount, dev));
    cached_device = dev;
  }
  return cached_sms;
}

bool env_switch_on(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::string(v) != "0";
}

namespace {
thread_local int pdl_off_depth = 0;
}  // namespace

ScopedPdlOff::ScopedPdlOff() { ++pdl_off_depth; }
ScopedPdlOff::~ScopedPdlOff() { --pdl_off_depth; }

bool pdl_supported() {
  if (pdl_off_depth > 0) return false;
  static thread_local int cached_device = -1;
  static thread_local bool cached = false;
  int dev = 0;
  AWQ_CUDA_CHECK(cudaGetDevice(&dev));
  if (dev != cached_device) {
    int major = 0;
    AWQ_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
    // AWQRUN_NO_PDL=1 turns it off: an A/B switch for benchmarks and a way
    // to rule it out when chasing a kernel-ordering bug.
    cached = major >= 9 && !env_switch_on("AWQRUN_NO_PDL");
    cached_device = dev;
  }
  return cached;
}

std::string select_device(int index) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();
    device_error("no CUDA device: {} ({})", cudaGetErrorName(err), cudaGetErrorString(err));
  }
  if (count == 0) device_error("no CUDA device: the driver reports 0 GPUs");
  if (index < 0 || index >= count) device_error("cuda:{} does not exist ({} GPU(s) found)", index, count);
  AWQ_CUDA_CHECK(cudaSetDevice(index));
  cudaDeviceProp prop{};
  AWQ_CUDA_CHECK(cudaGetDeviceProperties(&prop, index));
  if (prop.major < 8)
    device_error("cuda:{} ({}) has compute capability {}.{}; awqrun needs 8.0 or newer", index, prop.name,
                 prop.major, prop.minor);
  return prop.name;
}

MemInfo device_memory() {
  MemInfo m;
  AWQ_CUDA_CHECK(cudaMemGetInfo(&m.free_bytes, &m.total_bytes));
  return m;
}

}  // namespace awq::cuda
