// Checked CUDA calls for code inside cuda/. Every runtime call goes through
// AWQ_CUDA_CHECK, which throws awq::Error (Device for a missing/broken device
// or out of memory, Runtime otherwise) naming file:line and the CUDA error.
// Kernel launches are followed by AWQ_CUDA_CHECK_LAUNCH(): it always picks up
// launch-configuration errors and, in debug builds, synchronizes so that a
// faulting kernel is reported at its own launch site.
#pragma once
#include <cuda_runtime.h>

namespace awq::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* what, const char* file, int line);

inline void check_cuda(cudaError_t err, const char* what, const char* file, int line) {
  if (err != cudaSuccess) throw_cuda_error(err, what, file, line);
}

}  // namespace awq::cuda

#define AWQ_CUDA_CHECK(call) ::awq::cuda::check_cuda((call), #call, __FILE__, __LINE__)

#ifdef NDEBUG
#define AWQ_CUDA_CHECK_LAUNCH() AWQ_CUDA_CHECK(cudaGetLastError())
#else
#define AWQ_CUDA_CHECK_LAUNCH()              \
  do {                                       \
    AWQ_CUDA_CHECK(cudaGetLastError());      \
    AWQ_CUDA_CHECK(cudaDeviceSynchronize()); \
  } while (0)
#endif
