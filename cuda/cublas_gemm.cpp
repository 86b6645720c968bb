#include "cuda/cublas_gemm.h"

#include <cublas_v2.h>

#include "cuda/cuda_check.h"
#include "src/common/error.h"

namespace awq::cuda {
namespace {

void check_cublas(cublasStatus_t st, const char* what) {
  if (st != CUBLAS_STATUS_SUCCESS)
    throw_error(st == CUBLAS_STATUS_NOT_INITIALIZED || st == CUBLAS_STATUS_ALLOC_FAILED ? ErrorKind::Device
                                                                                         : ErrorKind::Runtime,
                "cuBLAS error {} in {}", cublasGetStatusName(st), what);
}

cudaDataType_t data_type(Act act) { return act == Act::F16 ? CUDA_R_16F : CUDA_R_16BF; }

}  // namespace

struct Cublas::Impl {
  cublasHandle_t handle = nullptr;
  void* workspace = nullptr;
};

// A fixed workspace keeps cuBLAS from allocating while a CUDA graph is captured.
constexpr size_t kWorkspaceBytes = size_t(32) << 20;

Cublas::Cublas(void* stream) : impl_(std::make_unique<Impl>()) {
  check_cublas(cublasCreate(&impl_->handle), "cublasCreate");
  check_cublas(cublasSetStream(impl_->handle, static_cast<cudaStream_t>(stream)), "cublasSetStream");
  AWQ_CUDA_CHECK(cudaMalloc(&impl_->workspace, kWorkspaceBytes));
  check_cublas(cublasSetWorkspace(impl_->handle, impl_->workspace, kWorkspaceBytes), "cublasSetWorkspace");
}

Cublas::~Cublas() {
  if (impl_ && impl_->handle) cublasDestroy(impl_->handle);
  if (impl_ && impl_->workspace) cudaFree(impl_->workspace);
}

// Row-major y[m][n] = x W^T is column-major y^T (n x m) = W^T-as-stored (op T) * x^T.
void Cublas::gemm(Act act, const uint16_t* w, const uint16_t* x, uint16_t* y, int m, int n, int k) {
  const float one = 1.f, zero = 0.f;
  const cudaDataType_t t = data_type(act);
  check_cublas(cublasGemmEx(impl_->handle, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, &one, w, t, k, x, t, k, &zero, y, t, n,
                            CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
               "cublasGemmEx");
}

// W^T row-major [k][ldw] is column-major W (n x k, leading dimension ldw): no transpose.
void Cublas::gemm_f16_kn(const uint16_t* wt, int ldw, const uint16_t* x, uint16_t* y, int m, int n, int k) {
  const float one = 1.f, zero = 0.f;
  check_cublas(cublasGemmEx(impl_->handle, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &one, wt, CUDA_R_16F, ldw, x, CUDA_R_16F,
                            k, &zero, y, CUDA_R_16F, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
               "cublasGemmEx f16 kn");
}

void Cublas::gemm_f32out(Act act, const uint16_t* w, const uint16_t* x, float* y, int m, int n, int k) {
  const float one = 1.f, zero = 0.f;
  const cudaDataType_t t = data_type(act);
  check_cublas(cublasGemmEx(impl_->handle, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, &one, w, t, k, x, t, k, &zero, y,
                            CUDA_R_32F, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
               "cublasGemmEx f32 out");
}

}  // namespace awq::cuda
