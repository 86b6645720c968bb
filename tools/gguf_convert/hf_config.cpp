#include "tools/gguf_convert/hf_config.h"

#include <fmt/format.h>

#include <string>

#include "src/common/error.h"

namespace awq {
namespace {

int get_int(const GgufFile& f, const std::string& key) {
  const uint64_t v = f.get_uint(key);
  if (v == 0 || v > uint64_t(1) << 30) input_error("{}: '{}' = {} is out of range", f.path().string(), key, v);
  return int(v);
}

void add_token_id(const GgufFile& f, nlohmann::ordered_json& j, const char* json_key, const char* gguf_key) {
  const std::string key = std::string("tokenizer.ggml.") + gguf_key;
  if (f.has(key)) j[json_key] = f.get_uint(key);
}

}  // namespace

double tidy_float(double value_stored_as_f32) {
  return std::stod(fmt::format("{}", static_cast<float>(value_stored_as_f32)));
}

LlamaDims read_llama_dims(const GgufFile& f) {
  const std::string arch = f.get_string("general.architecture");
  if (arch != "llama")
    input_error("{}: architecture '{}' is not supported yet (the converter handles 'llama')", f.path().string(),
                arch);
  const std::string p = arch + ".";
  LlamaDims d;
  d.hidden_size = get_int(f, p + "embedding_length");
  d.intermediate_size = get_int(f, p + "feed_forward_length");
  d.num_layers = get_int(f, p + "block_count");
  d.num_heads = get_int(f, p + "attention.head_count");
  d.num_kv_heads = f.has(p + "attention.head_count_kv") ? get_int(f, p + "attention.head_count_kv") : d.num_heads;
  d.head_dim = f.has(p + "attention.key_length") ? get_int(f, p + "attention.key_length")
                                                  : d.hidden_size / d.num_heads;
  if (d.num_heads % d.num_kv_heads != 0 || d.head_dim % 2 != 0)
    input_error("{}: inconsistent attention shape: {} heads, {} kv heads, head_dim {}", f.path().string(),
                d.num_heads, d.num_kv_heads, d.head_dim);
  if (f.has(p + "rope.dimension_count") && int(f.get_uint(p + "rope.dimension_count")) != d.head_dim)
    input_error("{}: partial rotary embeddings (rope.dimension_count {} < head_dim {}) are not supported",
                f.path().string(), f.get_uint(p + "rope.dimension_count"), d.head_dim);
  if (f.has(p + "vocab_size")) d.vocab_size = get_int(f, p + "vocab_size");
  else d.vocab_size = int(f.get_string_array("tokenizer.ggml.tokens").size());
  d.tie_word_embeddings = f.find_tensor("output.weight") == nullptr;
  if (f.find_tensor("rope_freqs.weight"))
    input_error("{}: Llama-3.1-style rope scaling (rope_freqs tensor) is not supported yet", f.path().string());
  return d;
}

nlohmann::ordered_json make_config_json(const GgufFile& f, const LlamaDims& d, int group_size) {
  const std::string p = "llama.";
  nlohmann::ordered_json j;
  j["architectures"] = {"LlamaForCausalLM"};
  j["model_type"] = "llama";
  j["hidden_act"] = "silu";
  j["hidden_size"] = d.hidden_size;
  j["intermediate_size"] = d.intermediate_size;
  j["num_hidden_layers"] = d.num_layers;
  j["num_attention_heads"] = d.num_heads;
  j["num_key_value_heads"] = d.num_kv_heads;
  j["head_dim"] = d.head_dim;
  j["vocab_size"] = d.vocab_size;
  j["max_position_embeddings"] = get_int(f, p + "context_length");
  j["rms_norm_eps"] = tidy_float(f.get_float(p + "attention.layer_norm_rms_epsilon"));
  j["rope_theta"] = f.has(p + "rope.freq_base") ? tidy_float(f.get_float(p + "rope.freq_base")) : 10000.0;
  j["rope_scaling"] = nullptr;
  const std::string scaling_key = p + "rope.scaling.type";
  if (f.has(scaling_key) && f.get_string(scaling_key) != "none") {
    const std::string type = f.get_string(scaling_key);
    if (type != "linear")
      input_error("{}: rope scaling '{}' is not supported yet (only linear)", f.path().string(), type);
    j["rope_scaling"] = {{"type", "linear"}, {"factor", tidy_float(f.get_float(p + "rope.scaling.factor"))}};
  }
  j["attention_bias"] = f.find_tensor("blk.0.attn_q.bias") != nullptr;
  j["mlp_bias"] = false;
  j["tie_word_embeddings"] = d.tie_word_embeddings;
  add_token_id(f, j, "bos_token_id", "bos_token_id");
  add_token_id(f, j, "eos_token_id", "eos_token_id");
  add_token_id(f, j, "pad_token_id", "padding_token_id");
  j["torch_dtype"] = "float16";
  j["use_cache"] = true;
  if (group_size > 0)
    j["quantization_config"] = {{"quant_method", "awq"}, {"zero_point", true},  {"group_size", group_size},
                                {"bits", 4},             {"version", "gemm"},   {"modules_to_not_convert", nullptr}};
  return j;
}

nlohmann::ordered_json make_generation_config_json(const GgufFile& f) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  add_token_id(f, j, "bos_token_id", "bos_token_id");
  add_token_id(f, j, "eos_token_id", "eos_token_id");
  add_token_id(f, j, "pad_token_id", "padding_token_id");
  return j;
}

}  // namespace awq
