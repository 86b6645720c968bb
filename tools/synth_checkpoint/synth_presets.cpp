// Model shapes of the presets, and the config files written beside the weights.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "src/common/error.h"
#include "tools/synth_checkpoint/synth_config.h"

namespace awq {
namespace {

std::vector<SynthPreset> presets() {
  // Shapes and settings as in the published config.json of each model.
  SynthPreset llama2_7b{"llama2-7b", "LlamaForCausalLM", 4096, 11008, 32, 32, 32, 32000, 4096, 10000.f, {}, false,
                        {1}, {2}};
  SynthPreset mistral_7b{"mistral-7b", "MistralForCausalLM", 4096, 14336, 32, 32, 8, 32000, 32768, 10000.f, 4096,
                         false, {1}, {2}};
  SynthPreset llama3_8b{"llama3-8b", "LlamaForCausalLM", 4096, 14336, 32, 32, 8, 128256, 131072, 500000.f, {}, true,
                        {128000}, {128001, 128008, 128009}};
  SynthPreset llama2_13b{"llama2-13b", "LlamaForCausalLM", 5120, 13824, 40, 40, 40, 32000, 4096, 10000.f, {}, false,
                         {1}, {2}};
  SynthPreset tiny{"tiny", "LlamaForCausalLM", 256, 512, 4, 4, 2, 512, 2048, 10000.f, {}, false, {1}, {2}};
  return {llama2_7b, mistral_7b, llama3_8b, llama2_13b, tiny};
}

}  // namespace

std::vector<std::string> synth_preset_names() {
  std::vector<std::string> names;
  for (const auto& p : presets()) names.push_back(p.name);
  return names;
}

SynthPreset find_synth_preset(const std::string& name) {
  for (const auto& p : presets())
    if (p.name == name) return p;
  usage_error("unknown preset {} (choose one of: {})", name, fmt::join(synth_preset_names(), ", "));
}

std::string synth_config_json(const SynthPreset& p, int group_size, AwqLayout layout) {
  nlohmann::ordered_json c;
  c["architectures"] = {p.architecture};
  c["model_type"] = p.architecture == "MistralForCausalLM" ? "mistral" : "llama";
  c["hidden_size"] = p.hidden;
  c["intermediate_size"] = p.intermediate;
  c["num_hidden_layers"] = p.layers;
  c["num_attention_heads"] = p.heads;
  c["num_key_value_heads"] = p.kv_heads;
  c["vocab_size"] = p.vocab;
  c["max_position_embeddings"] = p.max_positions;
  c["rms_norm_eps"] = 1e-5;
  c["rope_theta"] = p.rope_theta;
  c["rope_scaling"] = nullptr;
  if (p.llama3_rope_scaling)
    c["rope_scaling"] = {{"factor", 8.0}, {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
                         {"original_max_position_embeddings", 8192}, {"rope_type", "llama3"}};
  if (p.architecture == "MistralForCausalLM")
    c["sliding_window"] = p.sliding_window ? nlohmann::ordered_json(*p.sliding_window) : nullptr;
  c["hidden_act"] = "silu";
  c["tie_word_embeddings"] = false;
  c["bos_token_id"] = p.bos.size() == 1 ? nlohmann::ordered_json(p.bos[0]) : nlohmann::ordered_json(p.bos);
  c["eos_token_id"] = p.eos.size() == 1 ? nlohmann::ordered_json(p.eos[0]) : nlohmann::ordered_json(p.eos);
  c["torch_dtype"] = "float16";
  c["quantization_config"] = {{"bits", 4}, {"group_size", group_size}, {"modules_to_not_convert", nullptr},
                              {"quant_method", "awq"}, {"version", layout == AwqLayout::Gemm ? "gemm" : "gemv"},
                              {"zero_point", true}};
  return c.dump(2) + "\n";
}

std::string synth_generation_config_json(const SynthPreset& p) {
  nlohmann::ordered_json g;
  g["bos_token_id"] = p.bos.size() == 1 ? nlohmann::ordered_json(p.bos[0]) : nlohmann::ordered_json(p.bos);
  g["eos_token_id"] = p.eos.size() == 1 ? nlohmann::ordered_json(p.eos[0]) : nlohmann::ordered_json(p.eos);
  return g.dump(2) + "\n";
}

}  // namespace awq
