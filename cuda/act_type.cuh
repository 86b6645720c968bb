// Device side of cuda/act_type.h: ActTraits<A> gives each kernel the scalar
// and pair types, conversions, the tensor-core mma and the int4 dequant
// constants of one activation type, so one kernel template serves both.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "cuda/act_type.h"

namespace awq::cuda {

template <Act A>
struct ActTraits;

template <>
struct ActTraits<Act::F16> {
  using T = __half;
  using T2 = __half2;
  static __device__ __forceinline__ float to_float(T v) { return __half2float(v); }
  static __device__ __forceinline__ T from_float(float v) { return __float2half_rn(v); }
  static __device__ __forceinline__ float2 to_float2(T2 v) { return __half22float2(v); }
  static __device__ __forceinline__ T2 from_float2(float2 v) { return __float22half2_rn(v); }
  // lop3 (w & 0x000f000f) | kMagic2 = the pair {kBias + q_lo, kBias + q_hi}, exact.
  static constexpr uint32_t kMagic2 = 0x64006400u;  // fp16 1024
  static constexpr float kBias = 1024.f;
  static constexpr uint32_t kOne2 = 0x3c003c00u;  // {1, 1}
  static constexpr uint16_t kNegInf = 0xfc00u;
};

template <>
struct ActTraits<Act::BF16> {
  using T = __nv_bfloat16;
  using T2 = __nv_bfloat162;
  static __device__ __forceinline__ float to_float(T v) { return __bfloat162float(v); }
  static __device__ __forceinline__ T from_float(float v) { return __float2bfloat16_rn(v); }
  static __device__ __forceinline__ float2 to_float2(T2 v) { return __bfloat1622float2(v); }
  static __device__ __forceinline__ T2 from_float2(float2 v) { return __float22bfloat162_rn(v); }
  // bf16 keeps 8 significant bits: 128 + q (q < 16) is exact, 1024 + q is not.
  static constexpr uint32_t kMagic2 = 0x43004300u;  // bf16 128
  static constexpr float kBias = 128.f;
  static constexpr uint32_t kOne2 = 0x3f803f80u;  // {1, 1}
  static constexpr uint16_t kNegInf = 0xff80u;
};

// d += a * b for one m16n8k16 tile of type A (fp32 accumulate).
template <Act A>
__device__ __forceinline__ void mma_16816_t(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  if constexpr (A == Act::F16) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
}

// Two floats -> the packed pair word of type A (low half = lo), e.g. the P
// operand of attention's P V mma.
template <Act A>
__device__ __forceinline__ uint32_t pack_pair(float lo, float hi) {
  typename ActTraits<A>::T2 v = ActTraits<A>::from_float2(make_float2(lo, hi));
  return *reinterpret_cast<uint32_t*>(&v);
}

// Calls f.template operator()<A>() for the runtime value, e.g.
//   with_act(act, [&]<Act A>() { kernel<A><<<...>>>(...); });
template <class F>
__host__ void with_act(Act act, F&& f) {
  if (act == Act::F16) f.template operator()<Act::F16>();
  else f.template operator()<Act::BF16>();
}

}  // namespace awq::cuda
