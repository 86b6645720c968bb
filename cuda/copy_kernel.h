// A plain 16-byte-per-thread device copy, the bandwidth yardstick of the
// kernel bench (beside cudaMemcpy D2D, which may run on the copy engines).
#pragma once
#include <cstddef>

namespace awq::cuda {

void copy_kernel(void* dst, const void* src, size_t bytes, void* stream);  // bytes % 16 == 0

}  // namespace awq::cuda
