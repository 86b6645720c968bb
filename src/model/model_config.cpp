#include "src/model/model_config.h"

#include <algorithm>
#include <array>

#include "src/common/error.h"
#include "src/model/json_util.h"

namespace awq {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct ArchInfo {
  const char* name;
  const char* model_type;
  Arch arch;
  int default_max_positions;  // transformers' config-class defaults
};
constexpr std::array<ArchInfo, 3> kArchs{{
    {"LlamaForCausalLM", "llama", Arch::Llama, 2048},
    {"MistralForCausalLM", "mistral", Arch::Mistral, 4096 * 32},
    {"Qwen2ForCausalLM", "qwen2", Arch::Qwen2, 32768},
}};
constexpr const char* kSupportedArchs = "LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM";
constexpr const char* kSupportedRope = "linear, dynamic, llama3, yarn (or none/default)";

// Typed access with one message format: "<file>: <key> must be ..., got ...".
class Reader {
 public:
  Reader(const json& j, std::string source, std::string prefix = {})
      : j_(j), source_(std::move(source)), prefix_(std::move(prefix)) {}

  bool has(const char* key) const { return j_.contains(key) && !j_.at(key).is_null(); }
  const json& at(const char* key) const { return j_.at(key); }
  std::string where(const char* key) const { return fmt::format("{}: {}{}", source_, prefix_, key); }

  int positive_int(const char* key) const {
    if (!has(key)) input_error("{} is missing (required)", where(key));
    return positive_int_value(key);
  }
  int positive_int(const char* key, int fallback) const { return has(key) ? positive_int_value(key) : fallback; }
  float number(const char* key, float fallback) const {
    if (!has(key)) return fallback;
    if (!at(key).is_number()) input_error("{} must be a number, got {}", where(key), json_brief(at(key)));
    return at(key).get<float>();
  }
  float positive_number(const char* key, float fallback) const {
    const float v = number(key, fallback);
    if (!(v > 0.f)) input_error("{} must be positive, got {}", where(key), v);
    return v;
  }
  bool boolean(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!at(key).is_boolean()) input_error("{} must be true or false, got {}", where(key), json_brief(at(key)));
    return at(key).get<bool>();
  }
  // An int or a list of ints (bos/eos token ids); null or absent gives an empty list.
  std::vector<int> id_list(const char* key) const {
    std::vector<int> out;
    if (!has(key)) return out;
    const json& v = at(key);
    auto add = [&](const json& x) {
      if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > INT32_MAX)
        input_error("{} must be a token id or a list of token ids, got {}", where(key), json_brief(v));
      out.push_back(x.get<int>());
    };
    if (v.is_array()) for (const auto& x : v) add(x);
    else add(v);
    return out;
  }

 private:
  int positive_int_value(const char* key) const {
    const json& v = at(key);
    if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > INT32_MAX)
      input_error("{} must be a positive integer, got {}", where(key), json_brief(v));
    return v.get<int>();
  }

  const json& j_;
  std::string source_;
  std::string prefix_;
};

const ArchInfo& find_arch(const json& j, const std::string& source) {
  std::string name;
  if (j.contains("architectures")) {
    const json& a = j.at("architectures");
    if (!a.is_array() || a.empty() || !a[0].is_string())
      input_error("{}: architectures must be a list of names, got {}", source, json_brief(a));
    name = a[0].get<std::string>();
    for (const auto& info : kArchs) if (name == info.name) return info;
  } else if (j.contains("model_type") && j.at("model_type").is_string()) {
    name = j.at("model_type").get<std::string>();
    for (const auto& info : kArchs) if (name == info.model_type) return info;
  } else {
    input_error("{}: neither architectures nor model_type is given", source);
  }
  input_error("{}: architecture {} is not supported (supported: {})", source, name, kSupportedArchs);
}

RopeScaling parse_rope_scaling(const json& j, const std::string& source, const char* key, int max_positions) {
  RopeScaling rs;
  if (j.is_null()) return rs;
  const std::string where = fmt::format("{}: {}", source, key);
  if (!j.is_object()) input_error("{} must be an object or null, got {}", where, json_brief(j));
  const char* type_key = j.contains("rope_type") ? "rope_type" : "type";
  if (!j.contains(type_key) || !j.at(type_key).is_string())
    input_error("{} has no rope_type (supported: {})", where, kSupportedRope);
  const std::string type = j.at(type_key).get<std::string>();
  const Reader r(j, source, std::string(key) + ".");
  if (type == "default" || type == "none") return rs;
  if (type == "linear") rs.type = RopeScaling::Type::Linear;
  else if (type == "dynamic") rs.type = RopeScaling::Type::Dynamic;
  else if (type == "llama3") rs.type = RopeScaling::Type::Llama3;
  else if (type == "yarn") rs.type = RopeScaling::Type::Yarn;
  else input_error("{}: rope type \"{}\" is not supported (supported: {})", where, type, kSupportedRope);

  if (!r.has("factor")) input_error("{}.factor is missing (required for {} scaling)", where, type);
  rs.factor = r.positive_number("factor", 1.f);
  if (rs.type == RopeScaling::Type::Llama3) {
    for (const char* k : {"low_freq_factor", "high_freq_factor", "original_max_position_embeddings"})
      if (!r.has(k)) input_error("{}.{} is missing (required for llama3 scaling)", where, k);
    rs.low_freq_factor = r.positive_number("low_freq_factor", 1.f);
    rs.high_freq_factor = r.positive_number("high_freq_factor", 4.f);
    if (rs.high_freq_factor <= rs.low_freq_factor)
      input_error("{}: high_freq_factor {} must exceed low_freq_factor {}", where, rs.high_freq_factor,
                  rs.low_freq_factor);
  }
  // transformers falls back to max_position_embeddings when the original length is not given.
  rs.original_max_position_embeddings = r.positive_int("original_max_position_embeddings", max_positions);
  return rs;
}

std::optional<int> parse_sliding_window(const Reader& r, Arch arch, int num_layers) {
  if (arch == Arch::Llama) return std::nullopt;
  if (arch == Arch::Qwen2) {
    if (!r.boolean("use_sliding_window", false)) return std::nullopt;
    // Qwen2 slides only in layers >= max_window_layers; a mixed model is not supported.
    if (r.positive_int("max_window_layers", num_layers) >= num_layers) return std::nullopt;
    input_error("{}: sliding window in only some layers (max_window_layers < num_hidden_layers) is not supported",
                r.where("use_sliding_window"));
  }
  if (!r.has("sliding_window")) return std::nullopt;
  return r.positive_int("sliding_window");
}

void check_consistency(const ModelConfig& c, const Reader& r, bool head_dim_given) {
  if (!head_dim_given && c.hidden_size % c.num_heads != 0)
    input_error("{}: hidden_size {} is not divisible by num_attention_heads {}", r.where("hidden_size"),
                c.hidden_size, c.num_heads);
  if (c.num_heads % c.num_kv_heads != 0)
    input_error("{}: num_attention_heads {} is not a multiple of num_key_value_heads {}",
                r.where("num_key_value_heads"), c.num_heads, c.num_kv_heads);
  if (c.head_dim % 2 != 0) input_error("{}: head_dim {} must be even for rotary embeddings", r.where("head_dim"),
                                       c.head_dim);
  for (int id : c.bos_token_ids)
    if (id >= c.vocab_size) input_error("{}: {} is outside the vocabulary ({})", r.where("bos_token_id"), id,
                                        c.vocab_size);
  for (int id : c.eos_token_ids)
    if (id >= c.vocab_size) input_error("{}: {} is outside the vocabulary ({})", r.where("eos_token_id"), id,
                                        c.vocab_size);
}

void append_unique(std::vector<int>& to, const std::vector<int>& from) {
  for (int id : from) if (std::find(to.begin(), to.end(), id) == to.end()) to.push_back(id);
}

}  // namespace

ModelConfig parse_model_config(const std::string& json_text, const std::string& source) {
  const json j = parse_json_strict(json_text, source);
  if (!j.is_object()) input_error("{}: not a JSON object", source);
  const Reader r(j, source);
  const ArchInfo& info = find_arch(j, source);

  ModelConfig c;
  c.architecture = info.name;
  c.arch = info.arch;
  c.hidden_size = r.positive_int("hidden_size");
  c.intermediate_size = r.positive_int("intermediate_size");
  c.num_layers = r.positive_int("num_hidden_layers");
  c.num_heads = r.positive_int("num_attention_heads");
  c.num_kv_heads = r.positive_int("num_key_value_heads", c.num_heads);
  c.vocab_size = r.positive_int("vocab_size");
  const bool head_dim_given = r.has("head_dim");
  c.head_dim = r.positive_int("head_dim", c.hidden_size / c.num_heads);
  c.max_position_embeddings = r.positive_int("max_position_embeddings", info.default_max_positions);
  c.rms_norm_eps = r.positive_number("rms_norm_eps", 1e-6f);

  if (r.has("hidden_act") && j.at("hidden_act") != "silu")
    input_error("{}: activation {} is not supported (only silu)", r.where("hidden_act"), json_brief(j.at("hidden_act")));
  if (r.boolean("mlp_bias", false)) input_error("{}: MLP biases are not supported", r.where("mlp_bias"));

  // transformers 5 moved rope_theta and the scaling into rope_parameters.
  if (r.has("rope_parameters")) {
    const json& rp = j.at("rope_parameters");
    c.rope_theta = Reader(rp, source, "rope_parameters.").positive_number("rope_theta", 10000.f);
    c.rope_scaling = parse_rope_scaling(rp, source, "rope_parameters", c.max_position_embeddings);
  } else {
    c.rope_theta = r.positive_number("rope_theta", 10000.f);
    if (j.contains("rope_scaling"))
      c.rope_scaling = parse_rope_scaling(j.at("rope_scaling"), source, "rope_scaling", c.max_position_embeddings);
  }

  c.sliding_window = parse_sliding_window(r, c.arch, c.num_layers);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  c.attention_bias = c.arch == Arch::Qwen2 ? true : r.boolean("attention_bias", false);
  c.bos_token_ids = r.id_list("bos_token_id");
  c.eos_token_ids = r.id_list("eos_token_id");
  for (const char* key : {"torch_dtype", "dtype"})
    if (c.torch_dtype.empty() && r.has(key) && j.at(key).is_string()) c.torch_dtype = j.at(key).get<std::string>();
  check_consistency(c, r, head_dim_given);
  return c;
}

ModelConfig load_model_config(const fs::path& model_dir) {
  const fs::path path = model_dir / "config.json";
  if (!fs::is_regular_file(path)) input_error("{}: no config.json (is this a Hugging Face model directory?)",
                                              model_dir.string());
  ModelConfig c = parse_model_config(read_text_file(path), path.string());
  const GenerationDefaults g = load_generation_defaults(model_dir);
  for (int id : g.eos_token_ids)
    if (id >= c.vocab_size)
      input_error("{}: eos_token_id {} is outside the vocabulary ({})",
                  (model_dir / "generation_config.json").string(), id, c.vocab_size);
  append_unique(c.eos_token_ids, g.eos_token_ids);
  return c;
}

GenerationDefaults load_generation_defaults(const fs::path& model_dir) {
  GenerationDefaults g;
  const fs::path path = model_dir / "generation_config.json";
  if (!fs::exists(path)) return g;
  const json j = load_json_file(path);
  if (!j.is_object()) input_error("{}: not a JSON object", path.string());
  const Reader r(j, path.string());
  if (r.has("do_sample")) g.do_sample = r.boolean("do_sample", false);
  auto opt_number = [&](const char* key, std::optional<float>& to) {
    if (r.has(key)) to = r.number(key, 0.f);
  };
  opt_number("temperature", g.temperature);
  opt_number("top_p", g.top_p);
  opt_number("min_p", g.min_p);
  opt_number("repetition_penalty", g.repetition_penalty);
  if (r.has("top_k")) {
    if (!j.at("top_k").is_number_integer() || j.at("top_k").get<int64_t>() < 0)
      input_error("{} must be a non-negative integer, got {}", r.where("top_k"), json_brief(j.at("top_k")));
    g.top_k = j.at("top_k").get<int>();
  }
  if (r.has("max_new_tokens")) g.max_new_tokens = r.positive_int("max_new_tokens");
  g.eos_token_ids = r.id_list("eos_token_id");
  return g;
}

}  // namespace awq
