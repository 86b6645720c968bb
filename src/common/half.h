// IEEE fp16 and bfloat16 <-> float32, bit-exact with round-to-nearest-even,
// so that host code reproduces what torch stores in .half()/.bfloat16().
#pragma once
#include <cstdint>
#include <cstring>

namespace awq {

inline float bits_to_float(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
inline uint32_t float_to_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }

inline float fp16_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t man = h & 0x3ff;
  if (exp == 0) {
    if (man == 0) return bits_to_float(sign);
    // Subnormal: renormalize.
    int e = -1;
    do { ++e; man <<= 1; } while ((man & 0x400) == 0);
    man &= 0x3ff;
    return bits_to_float(sign | uint32_t(127 - 15 - e) << 23 | man << 13);
  }
  if (exp == 31) return bits_to_float(sign | 0x7f800000u | man << 13);
  return bits_to_float(sign | (exp + 127 - 15) << 23 | man << 13);
}

inline uint16_t float_to_fp16(float f) {
  const uint32_t u = float_to_bits(f);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000);
  const uint32_t abs = u & 0x7fffffff;
  if (abs >= 0x7f800000u) return sign | 0x7c00 | (abs > 0x7f800000u ? 0x200 : 0);  // inf/nan
  if (abs >= 0x477ff000u) return sign | 0x7c00;  // rounds to >= 65520: overflow to inf
  if (abs < 0x38800000u) {                         // result is subnormal or zero
    if (abs < 0x33000000u) return sign;            // < 2^-25 rounds to zero
    const uint32_t exp = abs >> 23;
    const uint32_t man = (abs & 0x7fffff) | 0x800000;
    const uint32_t shift = 126 - exp;  // 14 + (113 - exp)
    const uint32_t half_ulp = 1u << (shift - 1);
    uint32_t r = man >> shift;
    const uint32_t rem = man & ((1u << shift) - 1);
    if (rem > half_ulp || (rem == half_ulp && (r & 1))) ++r;
    return sign | uint16_t(r);
  }
  uint32_t r = abs - 0x38000000u;  // rebias exponent 127 -> 15
  const uint32_t rem = r & 0x1fff;
  r >>= 13;
  if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) ++r;
  return sign | uint16_t(r);
}

inline float bf16_to_float(uint16_t b) { return bits_to_float(uint32_t(b) << 16); }

inline uint16_t float_to_bf16(float f) {
  uint32_t u = float_to_bits(f);
  if ((u & 0x7fffffff) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fff + ((u >> 16) & 1);
  return uint16_t(u >> 16);
}

}  // namespace awq
