// The result of `awqrun bench` and its two renderings: a Markdown table with
// header lines (the layout of AutoAWQ's examples/benchmark.py, plus bandwidth
// and fp16 baseline columns) and JSON.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "src/model/weights.h"

namespace awq {

struct BenchHeader {
  std::string model_dir;
  std::string model_shapes;  // model_shape_summary()
  std::string device;        // GPU name, or "cpu"
  std::string backend;       // the runner's describe()
  std::optional<int> sm_count;
  std::optional<double> copy_gbps;  // measured device-to-device copy, read + write counted
  std::string copy_method;          // how copy_gbps was measured
  std::string version, git_commit, date;
  int reps = 0;
  std::optional<std::string> baseline_method;  // set when the fp16 cuBLAS columns were measured
  std::vector<std::string> notes;              // skipped lengths, a baseline that could not run
};

struct BenchRow {
  int batch_size = 1, prefill_length = 0, decode_length = 0;
  double prefill_tokens_per_s = 0, decode_tokens_per_s = 0;
  double memory_gib = 0;                  // GPU: in use on the card (cudaMemGetInfo); CPU: resident set
  std::optional<double> memory_percent;   // of the card (GPU only)
  double decode_bytes_per_step = 0;       // decode_step_bytes()
  std::optional<double> percent_of_copy;  // decode GB/s over the measured copy bandwidth (GPU only)
  std::optional<double> fp16_prefill_tokens_per_s, fp16_decode_tokens_per_s;  // cuBLAS linears only

  double decode_gbps() const { return decode_bytes_per_step * decode_tokens_per_s / 1e9; }
};

struct BenchReport {
  BenchHeader header;
  std::vector<BenchRow> rows;
  bool on_gpu = false;
};

// "LlamaForCausalLM, hidden 4096, 32 layers, 32 heads (8 KV) x 128, FFN 14336,
//  vocab 32000, AWQ int4 g128 gemm"
std::string model_shape_summary(const ModelWeights& w);

// Header lines ("key: value"), a blank line, then the Markdown table. Columns
// without a value in any row (the GPU-only ones on the CPU) are left out.
std::string format_bench_table(const BenchReport& report);

// {"model": ..., ..., "rows": [{"batch_size": 1, "prefill_length": 32, ...}]};
// absent values are left out of each row.
nlohmann::ordered_json bench_json(const BenchReport& report);

}  // namespace awq
