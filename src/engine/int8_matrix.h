// Int8 rows in blocks of 32 inputs with one scale per block (the layout of
// llama.cpp's Q8_0, written from its description): the opt-in int8 lm_head
// (CpuRunnerOptions::lm_head, `--lm-head int8`) and the activations it is
// multiplied with. A non-reference fast mode: the default lm_head stays in
// the checkpoint's precision.
//
// Why: a decode step reads every weight once, so it is memory-bound; for
// SmolLM2-135M the tied fp16 lm_head (49152 x 576) is half of the bytes read.
// Int8 values plus an fp16 scale per 32 inputs is 34 bytes per 32 weights
// instead of 64.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace awq {

inline constexpr int kInt8Block = 32;

inline int int8_blocks(int cols) { return (cols + kInt8Block - 1) / kInt8Block; }

// Weights: value[r][i] ~= q[r][i] * scale[r][i / 32]. Each row is padded with
// zeros to blocks() * 32 values so that kernels read whole blocks only.
struct Int8Matrix {
  int rows = 0, cols = 0;
  std::vector<int8_t> q;          // [rows][blocks() * 32]
  std::vector<uint16_t> scales;   // [rows][blocks()], fp16 bits
  int blocks() const { return int8_blocks(cols); }
  size_t bytes() const { return q.size() + scales.size() * sizeof(uint16_t); }
};

// Activations, quantized on every call: the same layout with fp32 scales
// (they are a few hundred bytes, so there is no reason to round them).
struct Int8Activations {
  int rows = 0, cols = 0;  // rows: tokens
  std::vector<int8_t> q;       // [rows][blocks() * 32]
  std::vector<float> scales;   // [rows][blocks()]
  int blocks() const { return int8_blocks(cols); }
};

// One row of n values into int8_blocks(n) blocks: scale = max |x| / 127 (0
// for an all-zero block), q = x / scale rounded to nearest, in [-127, 127]
// (never -128, which the kernels' sign trick relies on); the padding of the
// last block is 0.
void quantize_int8_row(const float* x, int n, int8_t* q, float* scales);
// The same with the scale rounded to fp16 first, and q computed from the
// rounded scale (so q * scale is what the kernels multiply).
void quantize_int8_row_f16(const float* x, int n, int8_t* q, uint16_t* scales);

// x is [rows][cols]; out is resized and filled.
void quantize_int8_activations(const float* x, int rows, int cols, Int8Activations& out);

// out[i][c] = q * scale of rows [r0, r0 + n), cols values each (no padding):
// the many-token path, which multiplies fp32 tiles (see LinearRunner::run).
void dequantize_int8_rows(const Int8Matrix& w, int r0, int n, float* out);

}  // namespace awq
