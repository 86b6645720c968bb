// Synthetic AWQ checkpoints with the exact shapes of real models and random
// weights of realistic magnitude: config.json (with quantization_config),
// generation_config.json, safetensors (sharded at max_shard_bytes) and an
// optional tokenizer copied from a folder. Used for benchmarks and tests.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "src/model/awq_format.h"

namespace awq {

struct SynthPreset {
  std::string name;
  std::string architecture;  // "LlamaForCausalLM" or "MistralForCausalLM"
  int hidden = 0, intermediate = 0, layers = 0, heads = 0, kv_heads = 0, vocab = 0;
  int max_positions = 0;
  float rope_theta = 10000.f;
  std::optional<int> sliding_window;
  bool llama3_rope_scaling = false;  // Llama-3.1's rope_scaling block
  std::vector<int> bos, eos;
};

// Throws Error(Usage) for an unknown name, listing the presets.
SynthPreset find_synth_preset(const std::string& name);
std::vector<std::string> synth_preset_names();

struct SynthOptions {
  std::string preset = "tiny";
  std::filesystem::path out_dir;
  std::optional<int> layers;          // overrides the preset
  std::optional<int> vocab;           // overrides the preset (e.g. to match --tokenizer)
  int group_size = 128;               // 32, 64, 128 or -1
  AwqLayout layout = AwqLayout::Gemm;
  uint64_t seed = 1;
  std::optional<std::filesystem::path> tokenizer_dir;
  uint64_t max_shard_bytes = 2'000'000'000ull;
  int threads = 0;                    // 0: all hardware threads
};

// Writes the checkpoint into options.out_dir (created if needed). Output is a
// function of the options only (not of the thread count).
void write_synthetic_checkpoint(const SynthOptions& options);

}  // namespace awq
