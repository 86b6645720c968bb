// Small device helpers shared by the tensor-core kernels: cp.async, ldmatrix,
// lop3 and the int4 -> fp16x2 / bf16x2 dequant (the mma itself is
// mma_16816_t in act_type.cuh).
#pragma once
#include <cuda_fp16.h>

#include <cstdint>

#include "cuda/act_type.cuh"

namespace awq::cuda {

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// 16-byte global -> shared copy; src_bytes < 16 zero-fills the rest.
__device__ __forceinline__ void cp_async16(void* dst, const void* src, int src_bytes = 16) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src), "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

__device__ __forceinline__ void ldmatrix_x2(uint32_t (&r)[2], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\n"
               : "=r"(r[0]), "=r"(r[1]) : "r"(smem_addr(p)));
}
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(smem_addr(p)));
}

// Transposing load: lane gets elements (row 2c, 2c+1; column g) of each 8x8
// matrix, i.e. the B fragment when the rows are the k dimension.
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(smem_addr(p)));
}

__device__ __forceinline__ uint32_t lop3_and_or(uint32_t a, uint32_t mask, uint32_t magic) {
  uint32_t r;
  asm("lop3.b32 %0, %1, %2, %3, 0xea;\n" : "=r"(r) : "r"(a), "r"(mask), "r"(magic));  // (a & mask) | magic
  return r;
}

// Nibbles at bits [0,4) and [16,20) of v -> the pair (q_lo, q_hi) - zero,
// times scale, in activation type A. zero2 holds kBias + z in both halves
// (1024 + z for fp16, 128 + z for bf16): (kBias + q) - (kBias + z) is exact.
template <Act A>
__device__ __forceinline__ uint32_t dequant_pair(uint32_t v, uint32_t scale2, uint32_t zero2) {
  using T2 = typename ActTraits<A>::T2;
  const uint32_t biased = lop3_and_or(v, 0x000f000fu, ActTraits<A>::kMagic2);
  T2 h = *reinterpret_cast<const T2*>(&biased);
  h = __hmul2(__hsub2(h, *reinterpret_cast<const T2*>(&zero2)), *reinterpret_cast<const T2*>(&scale2));
  return *reinterpret_cast<uint32_t*>(&h);
}

// {scale, kBias+zero} pair word -> both halves = scale / both halves = kBias+zero.
__device__ __forceinline__ uint32_t dup_low(uint32_t w) { return __byte_perm(w, 0, 0x1010); }
__device__ __forceinline__ uint32_t dup_high(uint32_t w) { return __byte_perm(w, 0, 0x3232); }

}  // namespace awq::cuda
