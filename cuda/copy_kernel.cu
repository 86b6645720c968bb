// Grid-stride uint4 copy. PRECOND: bytes % 16 == 0, 16-byte aligned pointers.
#include "cuda/copy_kernel.h"
#include "cuda/cuda_check.h"

namespace awq::cuda {
namespace {

__global__ void copy_u4(uint4* __restrict__ dst, const uint4* __restrict__ src, size_t n) {
  for (size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    dst[i] = src[i];
}

}  // namespace

void copy_kernel(void* dst, const void* src, size_t bytes, void* stream) {
  copy_u4<<<132 * 8, 512, 0, static_cast<cudaStream_t>(stream)>>>(static_cast<uint4*>(dst),
                                                                    static_cast<const uint4*>(src), bytes / 16);
  AWQ_CUDA_CHECK_LAUNCH();
}

}  // namespace awq::cuda
