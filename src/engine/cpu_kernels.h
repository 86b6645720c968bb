// Matrix-product kernels of the CPU backend, one implementation per SIMD
// level (portable scalar, AVX2+FMA+F16C, AVX-512), chosen at run time.
//
// Layouts: activations x are [T][K] row-major (T tokens of K inputs); outputs
// y are [T][ldy] with y[t * ldy + r] for output row r. Accumulation is fp32.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "src/engine/int8_dot.h"

namespace awq {

enum class SimdLevel { Scalar, Avx2, Avx512 };

SimdLevel detect_simd_level();  // best level this CPU supports
std::string_view simd_level_name(SimdLevel level);

// An AWQ int4 matrix repacked for the CPU. Inputs come in blocks of 32; the 16
// bytes of a block hold input j in the low nibble of byte j and input j + 16
// in its high nibble, so one widening load and a mask/shift give 16
// consecutive inputs. Scales and zeros keep their checkpoint precision.
struct Int4Matrix {
  int rows = 0, cols = 0, group_size = 0;  // cols % 32 == 0, group_size % 32 == 0
  std::vector<uint8_t> q;         // [rows][cols / 2]
  std::vector<uint16_t> scales;   // [rows][groups], fp16 bits
  std::vector<uint8_t> zeros;     // [rows][groups]
  int groups() const { return cols / group_size; }
  uint8_t at(int r, int i) const {  // the 4-bit value of row r, input i
    const uint8_t b = q[size_t(r) * (cols / 2) + (i / 32) * 16 + (i % 16)];
    return (i % 32) < 16 ? (b & 0xf) : (b >> 4);
  }
};

// The most tokens the direct kernels (int4_rows, f16_rows) take in one pass.
inline constexpr int kDirectMaxTokens = 4;

struct KernelTable {
  SimdLevel level;
  // y[t][r] = sum_i x[t][i] * W[r][i] for r in [r0, r1), T <= kDirectMaxTokens.
  // xsum[t * groups + g] is the sum of x[t] over group g (shared by all rows;
  // the AVX2 and scalar kernels use it, the AVX-512 one multiplies with
  // (q - z) * s instead). Any x works; a 64-byte aligned one is faster.
  void (*int4_rows)(const Int4Matrix& w, int r0, int r1, const float* x, int T, const float* xsum, float* y,
                    int ldy);
  // out[n][i] = (q - z) * s of rows [r0, r0 + n).
  void (*int4_dequant)(const Int4Matrix& w, int r0, int n, float* out);
  // The same two for an fp16 matrix w [rows][K] (the kernels prefetch ahead
  // within its rows).
  void (*f16_rows)(const uint16_t* w, int rows, int K, int r0, int r1, const float* x, int T, float* y, int ldy);
  void (*f16_to_float)(const uint16_t* in, int n, float* out);
  // y[t][r0 + r] = dot(w[r], x[t]) for r < R (R <= 4), t < T; w is [R][K].
  void (*float_tile)(const float* w, int R, int K, const float* x, int T, float* y, int ldy, int r0);
  // The int8 lm_head (see int8_dot.h): rows [r0, r1) of w times every token of x.
  Int8RowsFn int8_rows;
};

// The table for a level; a level the CPU lacks falls back to the best it has.
const KernelTable& kernel_table(SimdLevel level);

const KernelTable& scalar_kernels();
const KernelTable* avx2_kernels();    // nullptr when not compiled in (non-x86)
const KernelTable* avx512_kernels();  // nullptr when not compiled in

}  // namespace awq
