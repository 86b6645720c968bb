// `--version exllama`: AWQ int4 x fp16 products from the ExLlama-v2-style
// layout of cuda/exllama_pack.h. Device pointers only; no CUDA types leak.
//
//   y[m][n] = sum_k x[m][k] * W[n][k] + bias[n],  x, y fp16 row-major.
//
// As in ExLlama v2, small m runs a CUDA-core kernel that dequantizes in
// registers (no tensor cores: at m <= 8 an mma tile would be mostly empty),
// and large m dequantizes the matrix to fp16 for cuBLAS.
#pragma once
#include <cstdint>

#include "cuda/awq_matmul.h"

namespace awq::cuda {

struct ExllamaWeightsView {
  const uint32_t* qweight = nullptr;  // device, [K/8][out_padded]
  const uint32_t* qzeros = nullptr;   // device, [groups][out_padded/8], (z - 1) & 15 per nibble
  const uint16_t* scales = nullptr;   // device fp16 [groups][out_padded]
  const uint16_t* bias = nullptr;     // device fp16 [out] or null
  int in_features = 0, out_features = 0, out_padded = 0, group_size = 0;
};

// 1 <= m <= kExllamaGemvMaxRows. Split-K partials go through the workspace
// and are added in split order by the last block of each column tile
// (deterministic); split_k = 0 picks the split from the grid size, > 0
// forces it (tests, kernel bench). swiglu (gate+up packed with
// kExllamaSwigluBlock): the epilogue writes y[m][out/2] = silu(gate) * up.
inline constexpr int kExllamaGemvMaxRows = 8;
void exllama_gemv_matmul(const ExllamaWeightsView& w, const uint16_t* x, int m, uint16_t* y,
                         const MatmulWorkspace& ws, void* stream, int split_k = 0, bool swiglu = false);

// W^T as fp16 [K][out_padded] (row k holds every output channel's weight of
// input k; padded columns are zero), for cuBLAS at large m (Cublas::gemm_f16_kn).
void exllama_dequantize(const ExllamaWeightsView& w, uint16_t* out, void* stream);

}  // namespace awq::cuda
