#include "src/bench/bench_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

namespace awq {
namespace {

struct Column {
  std::string title;
  std::vector<std::string> cells;
};

std::string fixed(double v, int decimals) { return fmt::format("{:.{}f}", v, decimals); }

std::string memory_cell(const BenchRow& r) {
  if (!r.memory_percent) return fmt::format("{:.2f} GiB", r.memory_gib);
  return fmt::format("{:.2f} GiB ({:.2f}%)", r.memory_gib, *r.memory_percent);
}

// A column of optional values, or nothing when no row has one.
std::optional<Column> optional_column(const std::string& title, const std::vector<BenchRow>& rows,
                                      const std::function<std::optional<double>(const BenchRow&)>& value,
                                      int decimals) {
  Column c{title, {}};
  bool any = false;
  for (const BenchRow& r : rows) {
    const std::optional<double> v = value(r);
    any = any || v.has_value();
    c.cells.push_back(v ? fixed(*v, decimals) : "-");
  }
  if (!any) return std::nullopt;
  return c;
}

std::vector<Column> table_columns(const BenchReport& report) {
  const auto& rows = report.rows;
  std::vector<Column> cols = {{"Batch Size", {}},    {"Prefill Length", {}},
                              {"Decode Length", {}}, {"Prefill tok/s", {}},
                              {"Decode tok/s", {}},  {report.on_gpu ? "Memory (VRAM)" : "Memory (RSS)", {}},
                              {"Decode GB/s", {}}};
  for (const BenchRow& r : rows) {
    cols[0].cells.push_back(std::to_string(r.batch_size));
    cols[1].cells.push_back(std::to_string(r.prefill_length));
    cols[2].cells.push_back(std::to_string(r.decode_length));
    cols[3].cells.push_back(fixed(r.prefill_tokens_per_s, 2));
    cols[4].cells.push_back(fixed(r.decode_tokens_per_s, 2));
    cols[5].cells.push_back(memory_cell(r));
    cols[6].cells.push_back(fixed(r.decode_gbps(), 1));
  }
  for (auto extra : {optional_column("% of copy BW", rows, [](const BenchRow& r) { return r.percent_of_copy; }, 1),
                     optional_column("fp16 cuBLAS (linears only) prefill tok/s", rows,
                                     [](const BenchRow& r) { return r.fp16_prefill_tokens_per_s; }, 2),
                     optional_column("fp16 cuBLAS (linears only) decode tok/s", rows,
                                     [](const BenchRow& r) { return r.fp16_decode_tokens_per_s; }, 2)})
    if (extra) cols.push_back(std::move(*extra));
  return cols;
}

std::string markdown_table(const std::vector<Column>& cols, size_t n_rows) {
  std::vector<size_t> width;
  for (const Column& c : cols) {
    size_t w = std::max<size_t>(c.title.size(), 3);
    for (const std::string& cell : c.cells) w = std::max(w, cell.size());
    width.push_back(w);
  }
  std::string out = "|";
  for (size_t i = 0; i < cols.size(); ++i) out += fmt::format(" {:<{}} |", cols[i].title, width[i]);
  out += "\n|";
  for (size_t w : width) out += fmt::format(" {:->{}}: |", "", w - 1);  // numbers: right-aligned
  out += "\n";
  for (size_t r = 0; r < n_rows; ++r) {
    out += "|";
    for (size_t i = 0; i < cols.size(); ++i) out += fmt::format(" {:>{}} |", cols[i].cells[r], width[i]);
    out += "\n";
  }
  return out;
}

std::string device_line(const BenchHeader& h) {
  std::string line = h.device;
  if (h.sm_count) line += fmt::format(", {} SMs", *h.sm_count);
  return line + " (" + h.backend + ")";
}

}  // namespace

std::string model_shape_summary(const ModelWeights& w) {
  const ModelConfig& c = w.config;
  std::string s = fmt::format("{}, hidden {}, {} layers, {} heads ({} KV) x {}, FFN {}, vocab {}", c.architecture,
                              c.hidden_size, c.num_layers, c.num_heads, c.num_kv_heads, c.head_dim,
                              c.intermediate_size, c.vocab_size);
  if (c.sliding_window) s += fmt::format(", sliding window {}", *c.sliding_window);
  if (c.tie_word_embeddings) s += ", tied embeddings";
  const std::string group = w.quant.group_size == -1 ? std::string("per row") : fmt::format("g{}", w.quant.group_size);
  return s + fmt::format(", AWQ int4 {} {}", group, w.quant.layout == AwqLayout::Gemm ? "gemm" : "gemv");
}

std::string format_bench_table(const BenchReport& report) {
  const BenchHeader& h = report.header;
  std::string out;
  out += fmt::format("model: {}\n", h.model_dir);
  out += fmt::format("shapes: {}\n", h.model_shapes);
  out += fmt::format("device: {}\n", device_line(h));
  if (h.copy_gbps) out += fmt::format("copy bandwidth: {:.1f} GB/s ({})\n", *h.copy_gbps, h.copy_method);
  out += fmt::format("awqrun: {} (git {})\n", h.version, h.git_commit);
  out += fmt::format("date: {}\n", h.date);
  out += fmt::format(
      "method: batch 1; length L = a prefill of L random tokens, then L greedy decode steps; prefill tok/s = L / "
      "time of that first forward, decode tok/s = 1 / median step time; medians of {} reps after a warm-up\n",
      h.reps);
  out += "decode GB/s: bytes one decode step reads (AWQ int4 weights + 16-bit scales + int4 zeros, 16-bit lm_head, "
         "norms, one embedding row, the KV cache at the mean decode context: 16-bit on the GPU, the --dtype on the "
         "CPU) x decode tok/s\n";
  out += report.on_gpu ? "memory: in use on the card after the row (cudaMemGetInfo total - free: the CUDA context and "
                         "any other process included; the KV cache is sized for the longest length)\n"
                       : "memory: resident set of the process after the row (weights are memory-mapped)\n";
  if (h.baseline_method) out += fmt::format("fp16 baseline: {}\n", *h.baseline_method);
  for (const std::string& note : h.notes) out += fmt::format("note: {}\n", note);
  out += "\n";
  return out + markdown_table(table_columns(report), report.rows.size());
}

nlohmann::ordered_json bench_json(const BenchReport& report) {
  const BenchHeader& h = report.header;
  nlohmann::ordered_json j;
  j["model"] = h.model_dir;
  j["shapes"] = h.model_shapes;
  j["device"] = h.device;
  j["backend"] = h.backend;
  if (h.sm_count) j["sm_count"] = *h.sm_count;
  if (h.copy_gbps) {
    j["copy_gbps"] = *h.copy_gbps;
    j["copy_method"] = h.copy_method;
  }
  j["version"] = h.version;
  j["git_commit"] = h.git_commit;
  j["date"] = h.date;
  j["reps"] = h.reps;
  if (h.baseline_method) j["fp16_baseline"] = *h.baseline_method;
  j["notes"] = h.notes;
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const BenchRow& r : report.rows) {
    nlohmann::ordered_json o;
    o["batch_size"] = r.batch_size;
    o["prefill_length"] = r.prefill_length;
    o["decode_length"] = r.decode_length;
    o["prefill_tokens_per_s"] = r.prefill_tokens_per_s;
    o["decode_tokens_per_s"] = r.decode_tokens_per_s;
    o[report.on_gpu ? "vram_gib" : "rss_gib"] = r.memory_gib;
    if (r.memory_percent) o["vram_percent"] = *r.memory_percent;
    o["decode_bytes_per_step"] = r.decode_bytes_per_step;
    o["decode_gbps"] = r.decode_gbps();
    if (r.percent_of_copy) o["percent_of_copy_bandwidth"] = *r.percent_of_copy;
    if (r.fp16_prefill_tokens_per_s) o["fp16_cublas_linears_prefill_tokens_per_s"] = *r.fp16_prefill_tokens_per_s;
    if (r.fp16_decode_tokens_per_s) o["fp16_cublas_linears_decode_tokens_per_s"] = *r.fp16_decode_tokens_per_s;
    rows.push_back(std::move(o));
  }
  j["rows"] = std::move(rows);
  return j;
}

}  // namespace awq
