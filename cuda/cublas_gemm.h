// fp16 / bf16 GEMMs through cuBLAS (fp32 accumulation): the large-m path of
// the quantized linears (after awq_dequantize) and the lm_head.
#pragma once
#include <cstdint>
#include <memory>

#include "cuda/act_type.h"

namespace awq::cuda {

class Cublas {
 public:
  explicit Cublas(void* stream);
  ~Cublas();
  Cublas(const Cublas&) = delete;
  Cublas& operator=(const Cublas&) = delete;

  // y[m][n] = x[m][k] * W[n][k]^T; x, W row-major of type act; y of type
  // act or fp32.
  void gemm(Act act, const uint16_t* w, const uint16_t* x, uint16_t* y, int m, int n, int k);
  void gemm_f32out(Act act, const uint16_t* w, const uint16_t* x, float* y, int m, int n, int k);
  // The fp16 product from W^T stored as wt[k][ldw] (ldw >= n; columns past n
  // unused): the layout exllama_dequantize writes (exllama is fp16 only).
  void gemm_f16_kn(const uint16_t* wt, int ldw, const uint16_t* x, uint16_t* y, int m, int n, int k);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace awq::cuda
