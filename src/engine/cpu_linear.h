// Linear layers on the CPU: AWQ int4 (repacked once, dequantized on the fly),
// dense fp16/bf16/fp32 (modules_to_not_convert, lm_head), or the opt-in int8
// lm_head (int8_matrix.h), run over the thread pool with the output rows
// split between threads.
#pragma once
#include <optional>
#include <span>
#include <vector>

#include "src/engine/cpu_kernels.h"
#include "src/engine/thread_pool.h"
#include "src/model/weights.h"

namespace awq {

Int4Matrix repack_int4(const QuantLinear& q);  // throws Error(Input) when in_features % 32 != 0

struct CpuLinear {
  int in = 0, out = 0;
  std::optional<Int4Matrix> int4;
  std::optional<Int8Matrix> int8;  // the int8 lm_head (then dense is unset)
  DenseMatrix dense;        // [out][in] when not int4; F16, BF16 or F32
  std::vector<float> bias;  // [out] or empty
};

CpuLinear prepare_linear(const Linear& lin);
CpuLinear prepare_dense(const DenseMatrix& m);  // no bias (lm_head)
// The int8 copy of a dense matrix (quantize_int8_row_f16 on every row, rows
// split over the pool); no bias. The source matrix is left as it is.
CpuLinear prepare_int8(const DenseMatrix& m, ThreadPool& pool);

// Linears that read the same input (q/k/v, gate/up). When all are int4 with
// one group size they become ONE matrix (their rows stacked), so a decode
// step hands the thread pool one job instead of several; otherwise each part
// stays as it is. Either way the results are the parts' own, bit for bit.
struct LinearGroup {
  std::vector<CpuLinear> mats;  // the stacked matrix, or each part
  std::vector<int> widths;      // output width of each part, in order
  bool stacked() const { return mats.size() == 1 && widths.size() > 1; }
};
LinearGroup prepare_group(std::span<const Linear* const> parts);

// Converts row r of a dense matrix to fp32 (any of its dtypes).
void dense_row_to_float(const DenseMatrix& m, int r, float* out);

class LinearRunner {
 public:
  LinearRunner(const KernelTable& kernels, ThreadPool& pool) : k_(kernels), pool_(pool) {}
  // y[t][o] = x[t] . W[o] + bias[o] for T tokens; x is [T][in], y is [T][out].
  void run(const CpuLinear& lin, const float* x, int T, float* y);
  // Every part of the group: outs[p] receives [T][widths[p]].
  void run(const LinearGroup& group, const float* x, int T, std::span<float* const> outs);

 private:
  void run_direct(const CpuLinear& lin, const float* x, int T, float* y);
  void run_tiled(const CpuLinear& lin, const float* x, int T, float* y);
  void run_int8(const CpuLinear& lin, const float* x, int T, float* y);
  const float* aligned_x(const float* x, size_t n);

  const KernelTable& k_;
  ThreadPool& pool_;
  std::vector<float> xsum_;
  std::vector<float> x_aligned_;  // x copied to a 64-byte boundary for the direct kernels
  Int8Activations xq_;  // x quantized for the int8 kernel
  std::vector<std::vector<float>> scratch_;  // per thread: dequantized rows
  std::vector<float> stacked_out_;  // [T][sum of widths] of a stacked group
};

}  // namespace awq
