// config.json and generation_config.json of a Hugging Face LlamaForCausalLM,
// from GGUF metadata (keys as transformers' GGUF_CONFIG_MAPPING reads them,
// tokenizer.md §5.4).
#pragma once
#include <nlohmann/json.hpp>

#include "tools/gguf_convert/gguf_file.h"

namespace awq {

struct LlamaDims {
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_layers = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int vocab_size = 0;
  bool tie_word_embeddings = false;  // true when the file has no output.weight
};

// Throws Error(Input) for architectures other than "llama" and for missing or
// inconsistent keys, naming the file and the key.
LlamaDims read_llama_dims(const GgufFile& file);

// group_size 0 writes no quantization_config (plain fp16 checkpoint).
nlohmann::ordered_json make_config_json(const GgufFile& file, const LlamaDims& dims, int group_size);
nlohmann::ordered_json make_generation_config_json(const GgufFile& file);

// The shortest decimal that reads back as the same float32 (1e-05, not
// 9.999999747378752e-06), as a JSON number.
double tidy_float(double value_stored_as_f32);

}  // namespace awq
