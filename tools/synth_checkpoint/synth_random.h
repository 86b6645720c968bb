// Counter-based random numbers for the synthetic checkpoint: the value at
// (stream, index) never depends on how the work is split across threads.
#pragma once
#include <array>
#include <cmath>
#include <cstdint>

namespace awq::synth {

inline uint64_t mix64(uint64_t x) {  // splitmix64 finalizer
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

inline uint64_t random_bits(uint64_t stream, uint64_t index) { return mix64(stream ^ mix64(index)); }

// Approximately standard normal from 64 random bits (sum of four uniforms, Irwin-Hall).
inline float normal_from_bits(uint64_t bits) {
  const float sum = float((bits & 0xffff) + ((bits >> 16) & 0xffff) + ((bits >> 32) & 0xffff) + (bits >> 48));
  return (sum / 65536.f - 2.f) * 1.7320508f;
}

// 256-entry lookup tables turning one random byte into a 4-bit value.
struct NibbleTable {
  std::array<uint8_t, 256> value{};
  double mean = 0, mean_square = 0;
};

// Weights: bell-shaped around 8 (discretized normal, sd 2.5, clipped to 0..15).
inline NibbleTable weight_table() {
  NibbleTable t;
  std::array<double, 16> p{};
  double total = 0;
  for (int q = 0; q < 16; ++q) total += p[q] = std::exp(-0.5 * std::pow((q - 8) / 2.5, 2));
  double cdf = 0;
  int q = 0;
  for (int u = 0; u < 256; ++u) {
    while (q < 15 && (u + 0.5) / 256 > cdf + p[q] / total) cdf += p[q++] / total;
    t.value[u] = uint8_t(q);
  }
  return t;
}

// Zero points: mostly 4..11, with about 2% each at the extremes 0 and 15.
inline NibbleTable zero_table() {
  NibbleTable t;
  for (int u = 0; u < 256; ++u) t.value[u] = u < 5 ? 0 : u >= 251 ? 15 : uint8_t(4 + (u - 5) * 8 / 246);
  return t;
}

inline void finish_moments(NibbleTable& t) {
  for (uint8_t v : t.value) {
    t.mean += v / 256.0;
    t.mean_square += v * v / 256.0;
  }
}

}  // namespace awq::synth
