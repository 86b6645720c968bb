// Programmatic dependent launch (Hopper, sm_90+): a kernel launched through
// launch_pdl() may be scheduled while the previous kernel of the stream is
// still running, so a decode step's ~10 small kernels per layer overlap
// their launch and ramp-up with the tail of the kernel before them.
// Contract for every kernel launched this way:
//   - pdl_wait() before reading anything an earlier kernel wrote and before
//     writing anything an earlier kernel may still read (it returns once
//     the previous grid has completed and its memory is visible; since that
//     grid waited too, every earlier kernel is then complete as well);
//     at least one block of every grid waits (blocks with nothing to do may
//     return before it), or the guarantee would not pass on;
//   - work that reads only what cannot change during the pass may go before
//     it: weights, and - because a pass's first kernel (the embedding) is an
//     ordinary launch, complete after everything enqueued before the pass -
//     the pass's uploads (token ids, positions, slots) and the cache rows
//     of earlier passes;
//   - pdl_launch_dependents() early: the next kernel's blocks are scheduled
//     once every block of this grid has issued it (or exited).
// Kernels launched the ordinary way stay fully ordered; on older GPUs the
// attribute is not set and both calls compile to nothing.
#pragma once
#include <cuda_runtime.h>

#include "cuda/cuda_check.h"
#include "cuda/device_info.h"

namespace awq::cuda {

__device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}

__device__ __forceinline__ void pdl_launch_dependents() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}

template <typename... Params, typename... Args>
void launch_pdl(void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem, cudaStream_t stream, Args&&... args) {
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = smem;
  config.stream = stream;
  config.attrs = attr;
  config.numAttrs = pdl_supported() ? 1 : 0;
  AWQ_CUDA_CHECK(cudaLaunchKernelEx(&config, kernel, static_cast<Params>(args)...));
}

}  // namespace awq::cuda
