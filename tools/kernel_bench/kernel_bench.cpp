// awq-kernel-bench: for each Mistral-7B / Llama-2-7B linear shape and token
// count M, times (CUDA events around graph replays, warm-up, median of 25)
// the tensor-core AWQ kernel, dequantize + cuBLAS, and plain cuBLAS on the
// same shape, with fp16 activations (bf16 with --bf16). Launches rotate over
// several weight copies so that L2 (50 MB on H100) cannot serve repeats.
// Prints achieved GB/s (int4 weights + scales + zeros + activations in and
// out) and its share of the device-to-device copy bandwidth measured in the
// same run, and TFLOP/s for M >= 64.
// Usage: awq-kernel-bench [--bf16]   (stdout: the table)
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "cuda/awq_matmul.h"
#include "cuda/awq_pack.h"
#include "cuda/copy_kernel.h"
#include "cuda/cublas_gemm.h"
#include "cuda/cuda_check.h"
#include "cuda/device_buffer.h"
#include "cuda/device_info.h"
#include "cuda/exllama_matmul.h"
#include "cuda/exllama_pack.h"
#include "cuda/matmul_scratch.h"
#include "src/common/half.h"

namespace awq::cuda {
namespace {

constexpr int kReps = 25;
constexpr size_t kRotateBytes = size_t(200) << 20;  // > 4x L2

struct Shape {
  const char* name;
  int k, n;
};

// Median over kReps of (one graph replay of `launches` calls) / launches, in us.
double time_graph(cudaStream_t stream, int launches, const std::function<void(int)>& launch) {
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  AWQ_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  for (int i = 0; i < launches; ++i) launch(i);
  AWQ_CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
  AWQ_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  cudaEvent_t a, b;
  AWQ_CUDA_CHECK(cudaEventCreate(&a));
  AWQ_CUDA_CHECK(cudaEventCreate(&b));
  for (int i = 0; i < 3; ++i) AWQ_CUDA_CHECK(cudaGraphLaunch(exec, stream));
  std::vector<double> us;
  for (int r = 0; r < kReps; ++r) {
    AWQ_CUDA_CHECK(cudaEventRecord(a, stream));
    AWQ_CUDA_CHECK(cudaGraphLaunch(exec, stream));
    AWQ_CUDA_CHECK(cudaEventRecord(b, stream));
    AWQ_CUDA_CHECK(cudaEventSynchronize(b));
    float ms = 0;
    AWQ_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    us.push_back(ms * 1000.0 / launches);
  }
  AWQ_CUDA_CHECK(cudaEventDestroy(a));
  AWQ_CUDA_CHECK(cudaEventDestroy(b));
  AWQ_CUDA_CHECK(cudaGraphExecDestroy(exec));
  AWQ_CUDA_CHECK(cudaGraphDestroy(graph));
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

double copy_bandwidth_gbs(cudaStream_t stream) {
  const size_t bytes = size_t(1) << 30;
  DeviceBuffer<uint8_t> src(bytes), dst(bytes);
  device_memset(src.get(), 1, bytes);
  const double us = time_graph(stream, 2, [&](int) {
    AWQ_CUDA_CHECK(cudaMemcpyAsync(dst.get(), src.get(), bytes, cudaMemcpyDeviceToDevice, stream));
  });
  return 2.0 * bytes / (us * 1e-6) / 1e9;  // read + write
}

double copy_kernel_gbs(cudaStream_t stream) {
  const size_t bytes = size_t(1) << 30;
  DeviceBuffer<uint8_t> src(bytes), dst(bytes);
  device_memset(src.get(), 1, bytes);
  const double us = time_graph(stream, 2, [&](int) { copy_kernel(dst.get(), src.get(), bytes, stream); });
  return 2.0 * bytes / (us * 1e-6) / 1e9;
}

QuantLinear random_linear(int k, int n, int group) {
  QuantLinear l = QuantLinear::allocate(k, n, group);
  uint32_t s = 12345;
  auto next = [&] { s = s * 1664525u + 1013904223u; return s >> 8; };
  for (auto& q : l.qweight) q = uint8_t(next());
  for (auto& z : l.zeros) z = uint8_t(4 + next() % 8);
  for (auto& sc : l.scales) sc = float_to_fp16(0.004f + float(next() % 1000) * 1.6e-5f);
  return l;
}

struct Device {
  std::vector<DeviceBuffer<uint32_t>> qweight, scale_zero;
  std::vector<DeviceBuffer<uint16_t>> dense;  // W for the cuBLAS baseline
  std::vector<MmaWeightsView> views;
};

// Several copies of one shape's packed weights (so that L2 cannot serve
// repeats), for activations of type act, and dense copies for the cuBLAS
// baseline when dense > 0.
Device upload_shape(const Shape& s, int group, int dense, int& copies_out, Act act = Act::F16) {
  MmaPackedHost packed = pack_mma(random_linear(s.k, s.n, group));
  if (act == Act::BF16) mma_pack_to_bf16(packed);
  const size_t q_bytes = packed.qweight.size() * 4 + packed.scale_zero.size() * 4;
  const int copies = int(std::clamp<size_t>(kRotateBytes / q_bytes + 1, 2, 24));
  Device d;
  for (int i = 0; i < copies; ++i) {
    d.qweight.emplace_back(std::span<const uint32_t>(packed.qweight));
    d.scale_zero.emplace_back(std::span<const uint32_t>(packed.scale_zero));
    d.views.push_back(
        {d.qweight.back().get(), d.scale_zero.back().get(), nullptr, s.k, s.n, packed.out_padded, group, act});
  }
  for (int i = 0; i < dense; ++i) {
    d.dense.emplace_back(size_t(s.k) * s.n);
    device_memset(d.dense.back().get(), 0x24, d.dense.back().bytes());
  }
  copies_out = copies;
  return d;
}

// Batched decode (continuous batching: 17..64 rows): the GEMM kernel at
// several split-K counts against the GEMV kernel run on 16- and 32-row
// pieces, and awq_rows_matmul (what a decode step of m sequences runs).
void run_batch_rows() {
  select_device(0);
  cudaStream_t stream;
  AWQ_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  MatmulScratch scratch;
  const MatmulWorkspace ws = scratch.view();
  const Shape shapes[] = {{"mistral q/o 4096x4096", 4096, 4096}, {"mistral qkv 4096x6144", 4096, 6144},
                          {"mistral gate+up 4096x28672", 4096, 28672}, {"mistral down 14336x4096", 14336, 4096}};
  const int splits[] = {0, 2, 4, 8, 16, 32};
  DeviceBuffer<uint16_t> x(size_t(64) * 14336), y(size_t(64) * 28672);
  device_memset(x.get(), 0x3c, x.bytes());
  std::printf("%-28s %3s | gemm us by split-K (0 = auto):", "shape (KxN)", "M");
  for (int sp : splits) std::printf(" %7d", sp);
  std::printf(" | gemv x16 gemv x32 | rows us\n");
  for (const Shape& s : shapes) {
    int copies = 0;
    const Device d = upload_shape(s, 128, 0, copies);
    const int launches = std::max(copies, 8);
    for (int m : {24, 32, 48, 64}) {
      std::printf("%-28s %3d |                              ", s.name, m);
      for (int sp : splits)
        std::printf(" %7.2f", time_graph(stream, launches, [&](int i) {
                      awq_gemm_matmul(d.views[i % copies], x.get(), m, y.get(), ws, stream, sp);
                    }));
      auto gemv_pieces = [&](int rows) {
        return time_graph(stream, launches, [&](int i) {
          for (int r = 0; r < m; r += rows)
            awq_gemv_matmul(d.views[i % copies], x.get() + size_t(r) * s.k, std::min(rows, m - r),
                            y.get() + size_t(r) * s.n, ws, stream);
        });
      };
      const double t_rows = time_graph(stream, launches, [&](int i) {
        awq_rows_matmul(d.views[i % copies], x.get(), m, y.get(), ws, stream);
      });
      std::printf(" | %7.2f %7.2f | %7.2f\n", gemv_pieces(kGemvMaxTokens), gemv_pieces(kGemvMaxRows), t_rows);
      std::fflush(stdout);
    }
  }
  AWQ_CUDA_CHECK(cudaStreamDestroy(stream));
}

// --version exllama against the default path: the exllama GEMV kernel (auto
// split and forced split-K counts) against the tensor-core GEMV at m <= 8,
// and both layouts' dequantize + cuBLAS at prefill sizes.
void run_exllama() {
  const std::string name = select_device(0);
  cudaStream_t stream;
  AWQ_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  const double copy_gbs = std::max(copy_bandwidth_gbs(stream), copy_kernel_gbs(stream));
  std::printf("device: %s, %d SMs; %%bw below is of %.0f GB/s (D2D copy)\n", name.c_str(), device_sm_count(), copy_gbs);
  MatmulScratch scratch;
  const MatmulWorkspace ws = scratch.view();
  Cublas blas(stream);
  const Shape shapes[] = {{"mistral q/o 4096x4096", 4096, 4096}, {"mistral qkv 4096x6144", 4096, 6144},
                          {"mistral gate+up 4096x28672", 4096, 28672}, {"mistral down 14336x4096", 14336, 4096}};
  const int splits[] = {0, 1, 2, 4, 8, 16, 32};
  DeviceBuffer<uint16_t> x(size_t(2048) * 14336), y(size_t(2048) * 28672), wdq(size_t(14336) * 4096 * 2);
  device_memset(x.get(), 0x3c, x.bytes());
  std::printf("%-28s %5s | %8s %6s | exllama us by split-K (0 = auto):", "shape (KxN)", "M", "mma us", "%bw");
  for (int sp : splits) std::printf(" %7d", sp);
  std::printf(" | %6s\n", "%bw");
  for (const Shape& s : shapes) {
    int copies = 0;
    const Device d = upload_shape(s, 128, 0, copies);
    const ExllamaPackedHost packed = pack_exllama(random_linear(s.k, s.n, 128));
    std::vector<DeviceBuffer<uint32_t>> xq, xz;
    std::vector<DeviceBuffer<uint16_t>> xs;
    std::vector<ExllamaWeightsView> xv;
    for (int i = 0; i < copies; ++i) {
      xq.emplace_back(std::span<const uint32_t>(packed.qweight));
      xz.emplace_back(std::span<const uint32_t>(packed.qzeros));
      xs.emplace_back(std::span<const uint16_t>(packed.scales));
      xv.push_back({xq.back().get(), xz.back().get(), xs.back().get(), nullptr, s.k, s.n, packed.out_padded, 128});
    }
    const double awq_bytes = double(s.k) * s.n / 2 + double(s.k) / 128 * s.n * 2.5;
    const int launches = std::max(copies, 8);
    for (int m : {1, 2, 4, 8}) {
      const double bytes = awq_bytes + 2.0 * m * (s.k + s.n);
      const double t_mma = time_graph(stream, launches, [&](int i) {
        awq_gemv_matmul(d.views[i % copies], x.get(), m, y.get(), ws, stream);
      });
      std::printf("%-28s %5d | %8.2f %5.1f%% |                                 ", s.name, m, t_mma,
                  100.0 * bytes / (t_mma * 1e-6) / 1e9 / copy_gbs);
      double t_auto = 0;
      for (int sp : splits) {
        const double t = time_graph(stream, launches, [&](int i) {
          exllama_gemv_matmul(xv[i % copies], x.get(), m, y.get(), ws, stream, sp);
        });
        if (sp == 0) t_auto = t;
        std::printf(" %7.2f", t);
      }
      std::printf(" | %5.1f%%\n", 100.0 * bytes / (t_auto * 1e-6) / 1e9 / copy_gbs);
      std::fflush(stdout);
    }
    for (int m : {64, 256, 2048}) {
      const double t_mma = time_graph(stream, launches, [&](int i) {
        awq_dequantize(d.views[i % copies], wdq.get(), stream);
        blas.gemm(Act::F16, wdq.get(), x.get(), y.get(), m, s.n, s.k);
      });
      const double t_exl = time_graph(stream, launches, [&](int i) {
        exllama_dequantize(xv[i % copies], wdq.get(), stream);
        blas.gemm_f16_kn(wdq.get(), packed.out_padded, x.get(), y.get(), m, s.n, s.k);
      });
      const double t_dq_mma = time_graph(stream, launches, [&](int i) { awq_dequantize(d.views[i % copies], wdq.get(), stream); });
      const double t_dq_exl = time_graph(stream, launches, [&](int i) { exllama_dequantize(xv[i % copies], wdq.get(), stream); });
      std::printf("%-28s %5d | dq+cb us: mma layout %8.2f, exllama %8.2f | dequantize alone: %7.2f / %7.2f us\n",
                  s.name, m, t_mma, t_exl, t_dq_mma, t_dq_exl);
      std::fflush(stdout);
    }
  }
  AWQ_CUDA_CHECK(cudaStreamDestroy(stream));
}

void run(int max_m_arg, Act act) {
  const std::string name = select_device(0);
  cudaStream_t stream;
  AWQ_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  const double memcpy_gbs = copy_bandwidth_gbs(stream), kernel_gbs = copy_kernel_gbs(stream);
  const double copy_gbs = std::max(memcpy_gbs, kernel_gbs);
  std::printf("device: %s, %d SMs; 1 GiB D2D copy (read+write): cudaMemcpy %.0f GB/s, copy kernel %.0f GB/s; "
              "%%bw below is of %.0f GB/s; %s activations\n",
              name.c_str(), device_sm_count(), memcpy_gbs, kernel_gbs, copy_gbs, act_name(act));

  MatmulScratch scratch;
  const MatmulWorkspace ws = scratch.view();
  Cublas blas(stream);

  const Shape shapes[] = {{"mistral q/o 4096x4096", 4096, 4096}, {"mistral k/v 4096x1024", 4096, 1024},
                          {"mistral qkv 4096x6144", 4096, 6144}, {"mistral gate/up 4096x14336", 4096, 14336},
                          {"mistral gate+up 4096x28672", 4096, 28672}, {"mistral down 14336x4096", 14336, 4096},
                          {"llama2 gate/up 4096x11008", 4096, 11008}, {"llama2 down 11008x4096", 11008, 4096}};
  const int ms[] = {1, 2, 4, 8, 16, 32, 64, 256, 1024, 2048};
  const int group = 128;
  const int max_m = 2048;
  DeviceBuffer<uint16_t> x(size_t(max_m) * 14336), y(size_t(max_m) * 28672), wdq(size_t(14336) * 4096 * 2);
  device_memset(x.get(), 0x3c, x.bytes());  // fp16 ~1.06, bf16 ~0.011 everywhere: finite, nonzero

  std::printf("%-28s %5s | %9s %8s %6s %7s | %9s %7s | %9s %7s | %s\n", "shape (KxN)", "M", "awq us", "GB/s", "%bw",
              "TFLOP/s", "dq+cb us", "TFLOP/s", act == Act::F16 ? "fp16cb us" : "bf16cb us", "TFLOP/s",
              "best awq path");
  for (const Shape& s : shapes) {
    const int dense_copies = int(std::clamp<size_t>(kRotateBytes / (size_t(s.k) * s.n * 2) + 1, 2, 8));
    int copies = 0;
    const Device d = upload_shape(s, group, dense_copies, copies, act);
    // AWQ bytes as stored on disk: int4 weights, fp16 scales, int4 zeros.
    const double awq_bytes = double(s.k) * s.n / 2 + double(s.k) / group * s.n * 2.5;
    for (int m : ms) {
      if (m > max_m_arg) break;
      const double act_bytes = 2.0 * m * (s.k + s.n), flops = 2.0 * m * s.k * s.n;
      const int launches = std::max(copies, 8);
      const double t_mma = time_graph(stream, launches, [&](int i) {
        awq_mma_matmul(d.views[i % copies], x.get(), m, y.get(), ws, stream);
      });
      const double t_dq = time_graph(stream, launches, [&](int i) {
        awq_dequantize(d.views[i % copies], wdq.get(), stream);
        blas.gemm(act, wdq.get(), x.get(), y.get(), m, s.n, s.k);
      });
      const double t_cb = time_graph(stream, std::max(dense_copies, 8), [&](int i) {
        blas.gemm(act, d.dense[i % dense_copies].get(), x.get(), y.get(), m, s.n, s.k);
      });
      const double gbs = (awq_bytes + act_bytes) / (t_mma * 1e-6) / 1e9;
      auto tf = [&](double us) { return m >= 64 ? flops / (us * 1e-6) / 1e12 : 0.0; };
      std::printf("%-28s %5d | %9.2f %8.0f %5.1f%% %7.1f | %9.2f %7.1f | %9.2f %7.1f | %s\n", s.name, m, t_mma, gbs,
                  100.0 * gbs / copy_gbs, tf(t_mma), t_dq, tf(t_dq), t_cb, tf(t_cb),
                  t_mma <= t_dq ? "mma" : "dequant+cublas");
      std::fflush(stdout);
    }
  }
  AWQ_CUDA_CHECK(cudaStreamDestroy(stream));
}

}  // namespace
}  // namespace awq::cuda

// Usage: awq-kernel-bench [--bf16] [MAX_M]  (token counts up to MAX_M,
// default 2048; 16 gives the decode rows only; --bf16: bf16 activations),
// awq-kernel-bench --batch-rows, or awq-kernel-bench --exllama.
int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--batch-rows") == 0) {
    awq::cuda::run_batch_rows();
    return 0;
  }
  if (argc > 1 && std::strcmp(argv[1], "--exllama") == 0) {
    awq::cuda::run_exllama();
    return 0;
  }
  const bool bf16 = argc > 1 && std::strcmp(argv[1], "--bf16") == 0;
  if (bf16) {
    --argc;
    ++argv;
  }
  const int max_m = argc > 1 ? std::atoi(argv[1]) : 2048;
  if (max_m < 1) {
    std::fprintf(stderr, "usage: awq-kernel-bench [--bf16] [MAX_M]\n");
    return 2;
  }
  try {
    awq::cuda::run(max_m, bf16 ? awq::cuda::Act::BF16 : awq::cuda::Act::F16);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "awq-kernel-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
