#include "src/engine/cpu_kernels.h"

namespace awq {

SimdLevel detect_simd_level() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  if (avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl"))
    return SimdLevel::Avx512;
  if (avx2) return SimdLevel::Avx2;
#endif
  return SimdLevel::Scalar;
}

std::string_view simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::Avx512: return "avx512";
    case SimdLevel::Avx2: return "avx2";
    case SimdLevel::Scalar: break;
  }
  return "scalar";
}

const KernelTable& kernel_table(SimdLevel level) {
  const SimdLevel best = detect_simd_level();
  if (level > best) level = best;
  if (level == SimdLevel::Avx512 && avx512_kernels()) return *avx512_kernels();
  if (level >= SimdLevel::Avx2 && avx2_kernels()) return *avx2_kernels();
  return scalar_kernels();
}

}  // namespace awq
