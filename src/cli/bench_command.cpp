// awqrun bench: AutoAWQ's benchmark table (prefill and decode tok/s per
// length, memory) plus the decode's achieved bandwidth and, on the GPU, an
// fp16 cuBLAS baseline of the same linear shapes. Results go to stdout,
// progress to stderr (-v).
#include <algorithm>
#include <cstdio>
#include <ctime>

#include "src/bench/bench_loop.h"
#include "src/bench/bench_plan.h"
#include "src/bench/bench_report.h"
#include "src/bench/build_info.h"
#include "src/bench/decode_traffic.h"
#include "src/bench/process_memory.h"
#include "src/bench/stats.h"
#include "src/cli/commands.h"
#include "src/cli/interrupt.h"
#include "src/cli/model_location.h"
#include "src/cli/session.h"
#include "src/common/error.h"
#include "src/common/log.h"
#ifdef AWQRUN_HAVE_CUDA
#include "src/bench/gpu_measurements.h"
#endif

namespace awq {
namespace {

constexpr int kCopyReps = 10;
constexpr int kMinBaselineReps = 5;  // a baseline pass is cheap; more reps steady its median
constexpr double kGiB = double(1 << 30);

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return text;
}

BenchRow measure_length(ModelRunner& runner, const GreedyDriver& driver, const ModelWeights& w, int length, int reps,
                        size_t kv_bytes, bool on_gpu) {
  LengthRunOptions o;
  o.length = length;
  o.reps = reps;
  o.vocab_size = w.config.vocab_size;
  o.on_step = check_interrupt;
  const LengthTimings t = time_length(driver, o);
  BenchRow row;
  row.prefill_length = row.decode_length = length;
  row.prefill_tokens_per_s = length / median(t.prefill_s);
  row.decode_tokens_per_s = 1.0 / median(t.decode_step_s);
  row.decode_bytes_per_step = decode_step_bytes(w, length, length, kv_bytes);
#ifdef AWQRUN_HAVE_CUDA
  if (on_gpu) {
    const VramUse v = vram_in_use();
    row.memory_gib = v.gib;
    row.memory_percent = v.percent;
  }
#endif
  if (!on_gpu) row.memory_gib = double(resident_bytes()) / kGiB;
  log_info("bench: length {} on {}: prefill {:.2f} tok/s, decode {:.2f} tok/s", length, runner.describe(),
           row.prefill_tokens_per_s, row.decode_tokens_per_s);
  return row;
}

#ifdef AWQRUN_HAVE_CUDA
// Copy bandwidth and the fp16 baseline, measured after the model's rows so
// that the rows' memory figures do not include their buffers.
void add_gpu_measurements(BenchReport& report, const ModelConfig& config, int reps) {
  BenchHeader& h = report.header;
  const GpuFacts facts = gpu_facts();
  h.device = facts.name;
  h.sm_count = facts.sm_count;
  log_info("bench: measuring the copy bandwidth");
  const CopyBandwidthResult copy = measure_copy_bandwidth(kCopyReps);
  h.copy_gbps = copy.gbps;
  h.copy_method = copy.method;
  for (BenchRow& r : report.rows) r.percent_of_copy = 100.0 * r.decode_gbps() / copy.gbps;

  std::vector<int> lengths;
  for (const BenchRow& r : report.rows) lengths.push_back(r.prefill_length);
  log_info("bench: timing the fp16 cuBLAS baseline");
  try {
    const Fp16Baseline b = measure_fp16_baseline(config, lengths, std::max(reps, kMinBaselineReps));
    h.baseline_method = b.method;
    for (BenchRow& r : report.rows) {
      r.fp16_prefill_tokens_per_s = b.prefill_tokens_per_s.at(r.prefill_length);
      r.fp16_decode_tokens_per_s = b.decode_tokens_per_s;
    }
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::Device) throw;
    h.notes.push_back(std::string("no fp16 baseline: ") + e.what());
  }
}
#endif

}  // namespace

int run_bench(const BenchCommand& cmd) {
  if (cmd.batch != 1) usage_error("--batch {}: only batch size 1 is supported today", cmd.batch);
  const std::vector<int> lengths = parse_lengths(cmd.lengths);
  ModelFlags flags = cmd.model;
  const ModelConfig config = load_model_config(resolve_model_dir(flags.model_dir));
  flags.ctx = bench_context(lengths, config.max_position_embeddings, flags.ctx);
  Session s = open_session(flags, "");
  ModelRunner& runner = *s.runner;
  const bool on_gpu = runs_on_gpu(runner);

  BenchReport report;
  report.on_gpu = on_gpu;
  BenchHeader& h = report.header;
  h.model_dir = s.dir.string();
  h.model_shapes = model_shape_summary(*s.weights);
  h.device = "cpu";
  h.backend = runner.describe();
  h.version = awqrun_version();
  h.git_commit = awqrun_git_commit();
  h.reps = cmd.reps;
  if (flags.lm_head == "int8")
    h.notes.push_back("--lm-head int8: Decode GB/s counts the checkpoint's fp16 lm_head, not the int8 copy read "
                      "(34 bytes per 32 weights instead of 64)");

  const GreedyDriver driver = make_greedy_driver(runner);
  const size_t kv_bytes = kv_element_bytes(on_gpu, flags.dtype);
  for (int length : lengths) {
    if (positions_needed(length) > runner.max_context()) {
      h.notes.push_back(fmt::format("length {} skipped: it needs {} positions and the context holds {}{}", length,
                                    positions_needed(length), runner.max_context(),
                                    cmd.model.ctx > 0 ? "" : " (the model's max_position_embeddings; see --ctx)"));
      continue;
    }
    report.rows.push_back(measure_length(runner, driver, *s.weights, length, cmd.reps, kv_bytes, on_gpu));
  }
#ifdef AWQRUN_HAVE_CUDA
  if (on_gpu) add_gpu_measurements(report, s.weights->config, cmd.reps);
#endif
  h.date = utc_now();

  const std::string out = cmd.json ? bench_json(report).dump(2) + "\n" : format_bench_table(report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace awq
