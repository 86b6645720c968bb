#include "cuda/device_buffer.h"

#include "cuda/cuda_check.h"
#include "src/common/error.h"

namespace awq::cuda {

void* device_alloc(size_t bytes) {
  void* p = nullptr;
  const cudaError_t err = cudaMalloc(&p, bytes);
  if (err != cudaSuccess) {
    cudaGetLastError();
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    device_error("cudaMalloc of {:.2f} GiB failed ({}), {:.2f} GiB free", double(bytes) / (1 << 30),
                 cudaGetErrorName(err), double(free_b) / (1 << 30));
  }
  return p;
}

void device_free(void* p) noexcept {
  if (p) cudaFree(p);
}

void copy_to_device(void* dst, const void* src, size_t bytes) {
  if (bytes) AWQ_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}

void copy_to_host(void* dst, const void* src, size_t bytes) {
  if (bytes) AWQ_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}

void device_memset(void* dst, int value, size_t bytes) {
  if (bytes) AWQ_CUDA_CHECK(cudaMemset(dst, value, bytes));
}

}  // namespace awq::cuda
