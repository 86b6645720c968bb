// awq-synth: writes a synthetic AWQ checkpoint (see synth_checkpoint.h).
#include <CLI/CLI.hpp>
#include <fmt/ranges.h>

#include "src/common/error.h"
#include "src/common/log.h"
#include "tools/synth_checkpoint/synth_checkpoint.h"

int main(int argc, char** argv) {
  awq::SynthOptions o;
  std::string version = "gemm", out;
  std::string tokenizer;
  int layers = 0, vocab = 0;
  double max_shard_gb = 2.0;
  CLI::App app{"Write a synthetic AWQ checkpoint with the shapes of a real model and random weights"};
  app.add_option("--preset", o.preset, "Model shapes")
      ->check(CLI::IsMember(awq::synth_preset_names()))->capture_default_str();
  app.add_option("-o,--out", out, "Output directory")->required();
  app.add_option("--layers", layers, "Number of layers (default: the preset's)")->check(CLI::PositiveNumber);
  app.add_option("--vocab", vocab, "Vocabulary size (default: the preset's)")->check(CLI::PositiveNumber);
  app.add_option("--group-size", o.group_size, "AWQ group size: 32, 64, 128 or -1")->capture_default_str();
  app.add_option("--version", version, "AWQ layout")->check(CLI::IsMember({"gemm", "gemv"}))->capture_default_str();
  app.add_option("--seed", o.seed, "Random seed")->capture_default_str();
  app.add_option("--tokenizer", tokenizer, "Folder whose tokenizer.json (+ tokenizer_config.json) is copied");
  app.add_option("--threads", o.threads, "Worker threads (default: all cores)");
  app.add_option("--max-shard-gb", max_shard_gb, "Largest shard, in GB")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  o.out_dir = out;
  if (layers > 0) o.layers = layers;
  if (vocab > 0) o.vocab = vocab;
  if (!tokenizer.empty()) o.tokenizer_dir = tokenizer;
  o.layout = version == "gemv" ? awq::AwqLayout::Gemv : awq::AwqLayout::Gemm;
  o.max_shard_bytes = uint64_t(max_shard_gb * 1e9);
  try {
    awq::write_synthetic_checkpoint(o);
  } catch (const awq::Error& e) {
    fmt::print(stderr, "awq-synth: {}\n", e.what());
    return awq::exit_code(e.kind());
  } catch (const std::exception& e) {
    fmt::print(stderr, "awq-synth: {}\n", e.what());
    return 1;
  }
  return 0;
}
