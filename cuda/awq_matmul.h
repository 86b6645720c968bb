// AWQ int4 x fp16 or bf16 matrix products on the GPU. Device pointers only;
// no CUDA types leak out (streams are passed as void*, fp16/bf16 data as
// uint16_t bits).
//
//   y[m][n] = sum_k x[m][k] * W[n][k] + bias[n],  W dequantized from the
//   mma-tile layout of cuda/awq_pack.h; x, y row-major of the view's
//   activation type (MmaWeightsView::act); fp32 accumulation.
#pragma once
#include <cstddef>
#include <cstdint>

#include "cuda/act_type.h"

namespace awq::cuda {

struct MmaWeightsView {
  const uint32_t* qweight = nullptr;     // device, layout of awq_pack.h
  const uint32_t* scale_zero = nullptr;  // device, fp16 form, or bf16 form (mma_pack_to_bf16) for Act::BF16
  const uint16_t* bias = nullptr;        // device [out] of type act, or null
  int in_features = 0, out_features = 0, out_padded = 0, group_size = 0;
  Act act = Act::F16;                    // type of x, y and bias; the kernels are instantiated for both
};

// Split-K scratch: fp32 partial sums and per-tile arrival counters (the
// counters must be zero when first used; each launch leaves them zero).
struct MatmulWorkspace {
  float* partial = nullptr;
  size_t partial_floats = 0;
  unsigned* counters = nullptr;
  size_t counter_count = 0;
};
inline constexpr size_t kMatmulPartialFloats = size_t(4) << 20;  // 16 MiB: enough for every decode shape
inline constexpr size_t kMatmulCounters = 1 << 16;

// Tensor-core kernels with in-register dequantization (split_k = 0 picks the
// split from the grid size; > 0 forces it, for tests):
//  - awq_gemv_matmul: decode, 1 <= m <= kGemvMaxRows (awq_gemv.cu);
//  - awq_gemm_matmul: any m, tiled 256 rows x 64 tokens (awq_matmul.cu);
//  - awq_mma_matmul: the GEMV kernel for m <= kGemvMaxTokens, else the GEMM one;
//  - awq_rows_matmul: a continuous-batching decode step of m sequences: the
//    GEMV kernel on pieces of up to 32 rows (measured faster than the GEMM
//    kernel up to m = 64 at least: awq-kernel-bench --batch-rows).
// swiglu (GEMV kernel only; gate+up packed with kMmaSwigluBlock): the
// epilogue writes y[m][out/2] = silu(gate) * up instead of the product.
inline constexpr int kGemvMaxTokens = 16;
inline constexpr int kGemvMaxRows = 32;
void awq_gemv_matmul(const MmaWeightsView& w, const uint16_t* x, int m, uint16_t* y, const MatmulWorkspace& ws,
                     void* stream, int split_k = 0, bool swiglu = false);
void awq_gemm_matmul(const MmaWeightsView& w, const uint16_t* x, int m, uint16_t* y, const MatmulWorkspace& ws,
                     void* stream, int split_k = 0);
void awq_mma_matmul(const MmaWeightsView& w, const uint16_t* x, int m, uint16_t* y, const MatmulWorkspace& ws,
                    void* stream, int split_k = 0);
void awq_rows_matmul(const MmaWeightsView& w, const uint16_t* x, int m, uint16_t* y, const MatmulWorkspace& ws,
                     void* stream, bool swiglu = false);

// Dequantizes the packed weights into W[out][in] (row-major) of type w.act,
// for the cuBLAS path at large m. `out` holds out_features * in_features
// 16-bit values.
void awq_dequantize(const MmaWeightsView& w, uint16_t* out, void* stream);

// y[m][n] += bias[n], y and bias of type act; used after cuBLAS.
void add_bias(uint16_t* y, const uint16_t* bias, int m, int n, Act act, void* stream);

}  // namespace awq::cuda
