// The command line as users and scripts meet it: exit codes, one-line errors
// on stderr, nothing but results on stdout. Runs build/awqrun on the tiny
// model in tests/data/engine/llama_gqa2 (random weights, real tokenizer files).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "tests/cli/run_awqrun.h"

namespace fs = std::filesystem;
using awq::test::read_text;
using awq::test::run_awqrun;
using awq::test::shell_quote;

namespace {

const fs::path kTiny = fs::path(AWQRUN_SOURCE_DIR) / "tests/data/engine/llama_gqa2";

std::string tiny() { return "-m " + shell_quote(kTiny.string()); }

// A copy of the tiny model that a test may break.
fs::path tiny_copy(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("awqrun-cli-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::copy(kTiny, dir, fs::copy_options::recursive);
  return dir;
}

void write_file(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

// Errors are exactly one line "awqrun: error: ..." (an optional hint line may follow).
void check_one_line_error(const awq::test::ProcessResult& r, int code, const std::string& needle) {
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == code);
  CHECK(r.out.empty());
  REQUIRE(r.err.rfind("awqrun: error: ", 0) == 0);
  const size_t first_eol = r.err.find('\n');
  CHECK(first_eol != std::string::npos);
  const std::string rest = r.err.substr(first_eol + 1);
  CHECK((rest.empty() || rest.rfind("awqrun: hint: ", 0) == 0));
  CHECK(r.err.find(needle) != std::string::npos);
}

}  // namespace

TEST_CASE("help and version go to stdout with exit code 0", "[cli]") {
  const auto help = run_awqrun("--help");
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("run") != std::string::npos);
  CHECK(help.err.empty());
  const auto version = run_awqrun("-V");
  CHECK(version.exit_code == 0);
  CHECK(version.out.rfind("awqrun ", 0) == 0);
}

TEST_CASE("usage errors exit with 2", "[cli]") {
  check_one_line_error(run_awqrun("--no-such-flag"), 2, "no-such-flag");
  check_one_line_error(run_awqrun(tiny() + " -p hi --temp -1"), 2, "--temp");
  check_one_line_error(run_awqrun(tiny() + " -p hi --dtype float8"), 2, "float8");
  check_one_line_error(run_awqrun(tiny() + " --raw"), 2, "no prompt");
  check_one_line_error(run_awqrun(tiny() + " -p hi --chat --raw"), 2, "excludes");
}

TEST_CASE("bad model directories exit with 3 and say what is wrong", "[cli]") {
  check_one_line_error(run_awqrun("-m /nonexistent/model -p hi"), 3, "/nonexistent/model");

  const fs::path no_tok = tiny_copy("notok");
  fs::remove(no_tok / "tokenizer.json");
  check_one_line_error(run_awqrun("-m " + shell_quote(no_tok.string()) + " -p hi"), 3, "tokenizer.json");

  const fs::path truncated = tiny_copy("truncated");
  fs::resize_file(truncated / "model.safetensors", fs::file_size(truncated / "model.safetensors") - 100);
  check_one_line_error(run_awqrun("-m " + shell_quote(truncated.string()) + " -p hi"), 3, "model.safetensors");

  const fs::path bad_json = tiny_copy("badjson");
  write_file(bad_json / "config.json", "{\"architectures\": [\"LlamaForCausalLM\"],");
  check_one_line_error(run_awqrun("-m " + shell_quote(bad_json.string()) + " -p hi"), 3, "config.json");

  const fs::path eight_bit = tiny_copy("8bit");
  auto config = nlohmann::json::parse(read_text(eight_bit / "config.json"));
  config["quantization_config"]["bits"] = 8;
  write_file(eight_bit / "config.json", config.dump());
  check_one_line_error(run_awqrun("-m " + shell_quote(eight_bit.string()) + " -p hi"), 3, "bits");

  for (const fs::path& p : {no_tok, truncated, bad_json, eight_bit}) fs::remove_all(p);
}

TEST_CASE("a prompt longer than the context is an input error before any work", "[cli]") {
  std::string long_prompt;
  for (int i = 0; i < 64; ++i) long_prompt += "hello world ";
  check_one_line_error(run_awqrun(tiny() + " --raw --ctx 32 -n 4 -p " + shell_quote(long_prompt)), 3,
                       "exceeds the context");
}

TEST_CASE("--fuse-max-seq-len preallocates the cache, says its size and bounds the request", "[cli]") {
  const auto ok = run_awqrun(tiny() + " -v --raw --fuse-max-seq-len 48 -n 4 -p hi");
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.err, Catch::Contains("KV cache preallocated for 48 positions"));
  std::string long_prompt;
  for (int i = 0; i < 16; ++i) long_prompt += "hello world ";
  check_one_line_error(run_awqrun(tiny() + " --raw --fuse-max-seq-len 24 -n 4 -p " + shell_quote(long_prompt)), 3,
                       "exceeds the context of 24");
  check_one_line_error(run_awqrun(tiny() + " --raw --fuse-max-seq-len 48 --ctx 64 -p hi"), 2, "disagree");
}

TEST_CASE("a device that is not there is a device error", "[cli]") {
  check_one_line_error(run_awqrun(tiny() + " --raw -p hi --device cuda:7"), 4, "cuda");
  check_one_line_error(run_awqrun(tiny() + " --raw -p hi --device tpu"), 2, "tpu");
}

TEST_CASE("the int8 lm_head runs on the CPU, logs its size at -v, and is a usage error on the GPU", "[cli]") {
  const auto ok = run_awqrun(tiny() + " -v --raw --device cpu --lm-head int8 -n 4 --temp 0 -p hi");
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.err, Catch::Contains("lm_head int8"));
  CHECK_THAT(ok.err, Catch::Contains("MiB extra"));
  check_one_line_error(run_awqrun(tiny() + " --raw -p hi --device cuda --lm-head int8"), 2, "--lm-head int8");
  check_one_line_error(run_awqrun("perplexity " + tiny() + " -f /dev/null --device cuda:0 --lm-head int8"), 2,
                       "CPU-only");
  check_one_line_error(run_awqrun(tiny() + " --raw -p hi --lm-head int4"), 2, "int4");
}

TEST_CASE("dtypes the GPU lacks are usage errors before any device is touched", "[cli]") {
  check_one_line_error(run_awqrun(tiny() + " --raw -p hi --device cuda --dtype float32"), 2, "float32");
  check_one_line_error(run_awqrun(tiny() + " --raw -p hi --device cuda:0 --dtype bfloat16 --version exllama"), 2,
                       "exllama runs in float16 only");
}

TEST_CASE("unfused modules are a GPU option: --no-fuse on the CPU is a usage error", "[cli]") {
  check_one_line_error(run_awqrun(tiny() + " --raw -p hi --device cpu --no-fuse"), 2, "--no-fuse");
}

TEST_CASE("generation prints only the text on stdout and is reproducible", "[cli]") {
  const auto a = run_awqrun(tiny() + " --raw -p 'hello there' -n 12 --temp 0.8 --seed 7");
  const auto b = run_awqrun(tiny() + " --raw -p 'hello there' -n 12 --temp 0.8 --seed 7");
  INFO("stderr: " << a.err);
  REQUIRE(a.exit_code == 0);
  CHECK(a.err.empty());
  CHECK(!a.out.empty());
  CHECK(a.out == b.out);

  const auto j = run_awqrun(tiny() + " --raw -p 'hello there' -n 12 --temp 0.8 --seed 7 --json");
  REQUIRE(j.exit_code == 0);
  const auto obj = nlohmann::json::parse(j.out);
  CHECK(obj.at("text").get<std::string>() + "\n" == a.out);
  CHECK(obj.at("completion_tokens").get<int>() >= 1);
  CHECK(obj.at("finish_reason").get<std::string>() == "length");
  CHECK(obj.at("seed").get<uint64_t>() == 7);
}

TEST_CASE("piped stdin comes before -p, separated by a blank line", "[cli]") {
  const auto both = run_awqrun("tokenize " + tiny() + " --ids --no-special -p 'Summarize.'", "Some text.");
  const auto joined = run_awqrun("tokenize " + tiny() + " --ids --no-special -p " + shell_quote("Some text.\n\nSummarize."));
  REQUIRE(both.exit_code == 0);
  CHECK(both.out == joined.out);
}

TEST_CASE("inspect describes the checkpoint", "[cli]") {
  const auto r = run_awqrun("inspect " + tiny());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("LlamaForCausalLM") != std::string::npos);
}

TEST_CASE("README documents every flag of awqrun run", "[cli]") {
  const std::string readme = read_text(fs::path(AWQRUN_SOURCE_DIR) / "README.md");
  const auto help = run_awqrun("run --help");
  REQUIRE(help.exit_code == 0);
  const std::regex flag("--[a-z][a-z0-9-]+");
  for (auto it = std::sregex_iterator(help.out.begin(), help.out.end(), flag); it != std::sregex_iterator(); ++it) {
    INFO("flag " << it->str());
    CHECK(readme.find(it->str()) != std::string::npos);
  }
}

TEST_CASE("batch --parallel takes a non-negative count", "[cli]") {
  check_one_line_error(run_awqrun("batch " + tiny() + " -i /dev/null -o - --parallel -2"), 2, "--parallel");
  check_one_line_error(run_awqrun("batch " + tiny() + " -i /dev/null -o - --parallel many"), 2, "--parallel");
}
