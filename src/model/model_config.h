// config.json (+ generation_config.json) of a Llama-family checkpoint.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace awq {

enum class Arch { Llama, Mistral, Qwen2 };

struct RopeScaling {
  enum class Type { None, Linear, Dynamic, Llama3, Yarn };
  Type type = Type::None;
  float factor = 1.f;
  float low_freq_factor = 1.f;   // llama3
  float high_freq_factor = 4.f;  // llama3
  int original_max_position_embeddings = 0;  // llama3, yarn
};

struct ModelConfig {
  std::string architecture;  // as written, e.g. "LlamaForCausalLM"
  Arch arch = Arch::Llama;
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_layers = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;  // hidden_size / num_heads unless given
  int vocab_size = 0;
  int max_position_embeddings = 0;
  float rms_norm_eps = 1e-6f;
  float rope_theta = 10000.f;
  RopeScaling rope_scaling;
  std::optional<int> sliding_window;  // Mistral; null or absent means none
  bool tie_word_embeddings = false;
  bool attention_bias = false;        // Qwen2: q/k/v have biases
  std::vector<int> bos_token_ids;
  std::vector<int> eos_token_ids;     // config.json, then generation_config.json
  std::string torch_dtype;            // "float16", "bfloat16", ... or empty
};

// Sampling defaults from generation_config.json (absent keys stay unset).
struct GenerationDefaults {
  std::optional<bool> do_sample;
  std::optional<float> temperature, top_p, min_p, repetition_penalty;
  std::optional<int> top_k, max_new_tokens;
  std::vector<int> eos_token_ids;
};

// Throws Error(Input) naming the file and key. Unsupported architecture or
// rope_scaling type: the message lists what is supported.
ModelConfig load_model_config(const std::filesystem::path& model_dir);
ModelConfig parse_model_config(const std::string& json_text, const std::string& source_name);
GenerationDefaults load_generation_defaults(const std::filesystem::path& model_dir);  // absent file: all unset

}  // namespace awq
