// The table and JSON renderings of a bench result.
#include <catch2/catch.hpp>

#include <sstream>

#include "src/bench/bench_report.h"

using namespace awq;

namespace {

BenchReport sample_report(bool gpu) {
  BenchReport r;
  r.on_gpu = gpu;
  r.header.model_dir = "/models/m";
  r.header.model_shapes = "LlamaForCausalLM, hidden 64";
  r.header.device = gpu ? "NVIDIA H100 80GB HBM3" : "cpu";
  r.header.backend = gpu ? "cuda:0 float16 auto" : "cpu float32, 2 threads";
  r.header.version = "0.1.0";
  r.header.git_commit = "abc1234";
  r.header.date = "2025-01-01 00:00:00 UTC";
  r.header.reps = 3;
  r.header.notes = {"length 4096 skipped"};
  for (int len : {32, 2048}) {
    BenchRow row;
    row.prefill_length = row.decode_length = len;
    row.prefill_tokens_per_s = 1000.0 + len;
    row.decode_tokens_per_s = 150.126;
    row.memory_gib = 4.5;
    row.decode_bytes_per_step = 4e9;
    if (gpu) {
      row.memory_percent = 5.68;
      row.percent_of_copy = 20.0;
      row.fp16_prefill_tokens_per_s = 9000.0;
      row.fp16_decode_tokens_per_s = 80.0;
    }
    r.rows.push_back(row);
  }
  if (gpu) {
    r.header.sm_count = 132;
    r.header.copy_gbps = 3000.0;
    r.header.copy_method = "1 GiB";
    r.header.baseline_method = "fp16 cuBLAS of the LINEAR LAYERS ONLY";
  }
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> cells_of(const std::string& row) {
  std::vector<std::string> cells;
  size_t start = row.find('|') + 1;
  for (size_t bar; (bar = row.find('|', start)) != std::string::npos; start = bar + 1) {
    std::string cell = row.substr(start, bar - start);
    cell.erase(0, cell.find_first_not_of(' '));
    cell.erase(cell.find_last_not_of(' ') + 1);
    cells.push_back(cell);
  }
  return cells;
}

// The table: the lines from the first that starts with '|'.
std::vector<std::vector<std::string>> table_of(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  for (const std::string& line : lines_of(text))
    if (!line.empty() && line[0] == '|') rows.push_back(cells_of(line));
  return rows;
}

}  // namespace

TEST_CASE("CPU table: the seed's columns plus decode GB/s, no GPU columns", "[bench]") {
  const std::string text = format_bench_table(sample_report(false));
  const auto table = table_of(text);
  REQUIRE(table.size() == 4);  // titles, alignment, two rows
  CHECK(table[0] == std::vector<std::string>{"Batch Size", "Prefill Length", "Decode Length", "Prefill tok/s",
                                             "Decode tok/s", "Memory (RSS)", "Decode GB/s"});
  CHECK(table[2] == std::vector<std::string>{"1", "32", "32", "1032.00", "150.13", "4.50 GiB", "600.5"});
  CHECK(table[3][1] == "2048");
  CHECK(text.find("model: /models/m\n") != std::string::npos);
  CHECK(text.find("note: length 4096 skipped\n") != std::string::npos);
  CHECK(text.find("git abc1234") != std::string::npos);
  CHECK(text.find("copy bandwidth") == std::string::npos);
  // Every line of the table has the same width: columns are padded.
  std::vector<size_t> widths;
  for (const std::string& line : lines_of(text))
    if (!line.empty() && line[0] == '|') widths.push_back(line.size());
  CHECK(std::adjacent_find(widths.begin(), widths.end(), std::not_equal_to<>()) == widths.end());
}

TEST_CASE("GPU table: VRAM with percent, % of copy bandwidth and the fp16 baseline", "[bench]") {
  const std::string text = format_bench_table(sample_report(true));
  const auto table = table_of(text);
  REQUIRE(table.size() == 4);
  CHECK(table[0].size() == 10);
  CHECK(table[0][5] == "Memory (VRAM)");
  CHECK(table[0][7] == "% of copy BW");
  CHECK(table[0][8].find("linears only") != std::string::npos);
  CHECK(table[0][9].find("linears only") != std::string::npos);
  CHECK(table[2][5] == "4.50 GiB (5.68%)");
  CHECK(table[2][7] == "20.0");
  CHECK(table[2][8] == "9000.00");
  CHECK(table[2][9] == "80.00");
  CHECK(text.find("device: NVIDIA H100 80GB HBM3, 132 SMs (cuda:0 float16 auto)") != std::string::npos);
  CHECK(text.find("copy bandwidth: 3000.0 GB/s") != std::string::npos);
  CHECK(text.find("fp16 baseline: fp16 cuBLAS of the LINEAR LAYERS ONLY") != std::string::npos);
}

TEST_CASE("JSON rows carry the same values, absent ones left out", "[bench]") {
  const nlohmann::ordered_json cpu = bench_json(sample_report(false));
  REQUIRE(cpu["rows"].size() == 2);
  const auto& row = cpu["rows"][0];
  CHECK(row["prefill_length"] == 32);
  CHECK(row["decode_tokens_per_s"].get<double>() == 150.126);
  CHECK(row["decode_gbps"].get<double>() == Approx(4e9 * 150.126 / 1e9));
  CHECK(row.contains("rss_gib"));
  CHECK_FALSE(row.contains("vram_percent"));
  CHECK_FALSE(row.contains("fp16_cublas_linears_decode_tokens_per_s"));
  CHECK_FALSE(cpu.contains("copy_gbps"));
  CHECK(cpu["notes"][0] == "length 4096 skipped");

  const nlohmann::ordered_json gpu = bench_json(sample_report(true));
  CHECK(gpu["copy_gbps"].get<double>() == 3000.0);
  CHECK(gpu["sm_count"] == 132);
  CHECK(gpu["rows"][1]["vram_percent"].get<double>() == 5.68);
  CHECK(gpu["rows"][1]["fp16_cublas_linears_prefill_tokens_per_s"].get<double>() == 9000.0);
  CHECK(gpu["rows"][1]["percent_of_copy_bandwidth"].get<double>() == 20.0);
}
