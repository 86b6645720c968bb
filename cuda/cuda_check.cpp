#include "cuda/cuda_check.h"

#include "src/common/error.h"

namespace awq::cuda {

void throw_cuda_error(cudaError_t err, const char* what, const char* file, int line) {
  cudaGetLastError();  // clear a sticky-free error so later calls start clean
  const bool device_fault = err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver ||
                            err == cudaErrorMemoryAllocation || err == cudaErrorInvalidDevice ||
                            err == cudaErrorDevicesUnavailable || err == cudaErrorSystemNotReady ||
                            err == cudaErrorCompatNotSupportedOnDevice || err == cudaErrorSystemDriverMismatch;
  throw Error(device_fault ? ErrorKind::Device : ErrorKind::Runtime,
              fmt::format("CUDA error {} ({}) in {} at {}:{}", cudaGetErrorName(err), cudaGetErrorString(err),
                          what, file, line));
}

}  // namespace awq::cuda
