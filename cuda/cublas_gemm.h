// fp16 GEMMs through cuBLAS (fp32 accumulation): the large-m path of the
// quantized linears (after awq_dequantize) and the fp16 lm_head.
#pragma once
#include <cstdint>
#include <memory>

namespace awq::cuda {

class Cublas {
 public:
  explicit Cublas(void* stream);
  ~Cublas();
  Cublas(const Cublas&) = delete;
  Cublas& operator=(const Cublas&) = delete;

  // y[m][n] = x[m][k] * W[n][k]^T; x, W fp16 row-major; y fp16 or fp32.
  void gemm_f16(const uint16_t* w, const uint16_t* x, uint16_t* y, int m, int n, int k);
  void gemm_f32out(const uint16_t* w, const uint16_t* x, float* y, int m, int n, int k);
  // The same product from W^T stored as wt[k][ldw] (ldw >= n; columns past n
  // unused): the layout exllama_dequantize writes.
  void gemm_f16_kn(const uint16_t* wt, int ldw, const uint16_t* x, uint16_t* y, int m, int n, int k);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace awq::cuda
