// `awqrun bench` end to end on the CPU with the tiny model: the table, the
// JSON, lengths that do not fit, and bad flags.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/cli/run_awqrun.h"

namespace fs = std::filesystem;
using awq::test::run_awqrun;
using awq::test::shell_quote;

namespace {

std::string tiny() {
  return "-m " + shell_quote((fs::path(AWQRUN_SOURCE_DIR) / "tests/data/engine/llama_gqa2").string());
}

}  // namespace

TEST_CASE("bench --json on the CPU: one row per length that fits", "[bench]") {
  // max_position_embeddings is 128: length 100 needs 200 positions.
  const auto r = run_awqrun("bench " + tiny() + " --device cpu -t 1 --lengths 8,16,100 --reps 2 --json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["device"] == "cpu");
  CHECK(j["reps"] == 2);
  CHECK(j["shapes"].get<std::string>().find("LlamaForCausalLM") != std::string::npos);
  REQUIRE(j["notes"].size() == 1);
  CHECK(j["notes"][0].get<std::string>().find("length 100 skipped") != std::string::npos);
  REQUIRE(j["rows"].size() == 2);
  int expected_length = 8;
  for (const auto& row : j["rows"]) {
    CHECK(row["batch_size"] == 1);
    CHECK(row["prefill_length"] == expected_length);
    CHECK(row["decode_length"] == expected_length);
    CHECK(row["prefill_tokens_per_s"].get<double>() > 0);
    CHECK(row["decode_tokens_per_s"].get<double>() > 0);
    CHECK(row["rss_gib"].get<double>() > 0);
    CHECK(row["decode_gbps"].get<double>() ==
          Approx(row["decode_bytes_per_step"].get<double>() * row["decode_tokens_per_s"].get<double>() / 1e9));
    CHECK_FALSE(row.contains("fp16_cublas_linears_decode_tokens_per_s"));
    expected_length *= 2;
  }
  // Longer context, more KV bytes per step.
  CHECK(j["rows"][1]["decode_bytes_per_step"].get<double>() > j["rows"][0]["decode_bytes_per_step"].get<double>());
}

TEST_CASE("bench prints header lines and a Markdown table", "[bench]") {
  const auto r = run_awqrun("bench " + tiny() + " --device cpu -t 1 --lengths 8,16 --reps 1");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("model: ") == 0);
  CHECK(r.out.find("\ndevice: cpu") != std::string::npos);
  CHECK(r.out.find("\nawqrun: ") != std::string::npos);
  CHECK(r.out.find("| Batch Size | Prefill Length | Decode Length | Prefill tok/s | Decode tok/s |") !=
        std::string::npos);
  CHECK(r.out.find("|          1 |              8 |             8 |") != std::string::npos);
  CHECK(r.out.find("|          1 |             16 |            16 |") != std::string::npos);
  CHECK(r.err.empty());
}

TEST_CASE("bench refuses bad flags with a usage error", "[bench]") {
  for (const char* flags : {"--lengths 8,x", "--lengths 0", "--batch 2", "--reps 0"}) {
    INFO(flags);
    const auto r = run_awqrun("bench " + tiny() + " --device cpu " + flags);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("awqrun: error: ", 0) == 0);
  }
}
