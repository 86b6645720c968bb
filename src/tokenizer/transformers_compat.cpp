#include "src/tokenizer/transformers_compat.h"

#include <map>
#include <optional>
#include <string>

#include "src/common/log.h"
#include "src/tokenizer/json_util.h"

namespace awq {
namespace {

using nlohmann::json;

constexpr const char* kMetaspace = "\xE2\x96\x81";
constexpr const char* kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

struct ClassDefaults {
  std::map<std::string, std::string> special_tokens;  // bos_token etc. when the config has no such key
};

bool uses_byte_level(const json& tj) {
  for (const char* key : {"normalizer", "pre_tokenizer", "post_processor", "decoder"}) {
    if (tj.contains(key) && tj[key].dump().find("\"ByteLevel\"") != std::string::npos) return true;
  }
  return false;
}

bool config_bool(const json& config, const char* key, bool fallback) {
  return config.contains(key) && config[key].is_boolean() ? config[key].get<bool>() : fallback;
}

json bpe_model(json& original, const json& overrides) {
  json model = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr},
                {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr},
                {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", false}};
  model["vocab"] = original.contains("vocab") ? std::move(original["vocab"]) : json::object();
  model["merges"] = original.contains("merges") ? std::move(original["merges"]) : json::array();
  model.update(overrides);
  return model;
}

// LlamaTokenizer (SentencePiece-style vocabularies only).
ClassDefaults rebuild_llama(json& tj, const json& config) {
  const bool add_prefix_space = config_bool(config, "add_prefix_space", true);
  const bool legacy = config_bool(config, "legacy", false);
  const char* scheme = add_prefix_space ? (legacy ? "always" : "first") : "never";
  tj["model"] = bpe_model(tj["model"], {{"fuse_unk", true}, {"byte_fallback", true}});
  tj["normalizer"] = nullptr;
  tj["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", kMetaspace}, {"prepend_scheme", scheme},
                         {"split", false}};
  json decoders = json::array({{{"type", "Replace"}, {"pattern", {{"String", kMetaspace}}}, {"content", " "}},
                               {{"type", "ByteFallback"}},
                               {{"type", "Fuse"}}});
  if (add_prefix_space) decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  tj["decoder"] = {{"type", "Sequence"}, {"decoders", decoders}};
  return {{{"unk_token", "<unk>"}, {"bos_token", "<s>"}, {"eos_token", "</s>"}}};
}

ClassDefaults rebuild_qwen2(json& tj, const json& config) {
  tj["model"] = bpe_model(tj["model"], {{"continuing_subword_prefix", ""}, {"end_of_word_suffix", ""}});
  tj["normalizer"] = {{"type", "NFC"}};
  tj["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers",
       {{{"type", "Split"}, {"pattern", {{"Regex", kQwen2Pattern}}}, {"behavior", "Isolated"}, {"invert", false}},
        {{"type", "ByteLevel"}, {"add_prefix_space", config_bool(config, "add_prefix_space", false)},
         {"use_regex", false}}}}};
  tj["decoder"] = {{"type", "ByteLevel"}};
  return {{{"unk_token", "<|endoftext|>"}, {"eos_token", "<|endoftext|>"}, {"pad_token", "<|endoftext|>"}}};
}

ClassDefaults rebuild_gpt2(json& tj, const json& config) {
  tj["model"] = bpe_model(tj["model"], {{"continuing_subword_prefix", ""}, {"end_of_word_suffix", ""}});
  tj["normalizer"] = nullptr;
  tj["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", config_bool(config, "add_prefix_space", false)},
                         {"use_regex", true}};
  tj["decoder"] = {{"type", "ByteLevel"}};
  return {{{"unk_token", "<|endoftext|>"}, {"bos_token", "<|endoftext|>"}, {"eos_token", "<|endoftext|>"}}};
}

json added_token_json(int id, const std::string& content, const json& flags) {
  return {{"id", id},
          {"content", content},
          {"single_word", flags.value("single_word", false)},
          {"lstrip", flags.value("lstrip", false)},
          {"rstrip", flags.value("rstrip", false)},
          {"normalized", flags.value("normalized", false)},
          {"special", flags.value("special", true)}};
}

// tokenizer_config.json added_tokens_decoder: {"<id>": {"content": ..., flags}}.
json config_added_tokens(const json& config) {
  json out = json::array();
  if (!config.contains("added_tokens_decoder") || !config["added_tokens_decoder"].is_object()) return out;
  std::map<long, json> sorted;
  for (const auto& [key, value] : config["added_tokens_decoder"].items()) {
    const auto content = token_content(value);
    if (!content) continue;
    try {
      sorted[std::stol(key)] = added_token_json(static_cast<int>(std::stol(key)), *content, value);
    } catch (const std::exception&) {
      log_warn("tokenizer_config.json: ignoring added_tokens_decoder entry with id '{}'", key);
    }
  }
  for (auto& [id, t] : sorted) out.push_back(std::move(t));
  return out;
}

std::optional<int> find_token_id(const json& tj, const std::string& content) {
  for (const auto& t : tj["added_tokens"])
    if (t.value("content", "") == content) return t.value("id", -1);
  const auto& vocab = tj["model"]["vocab"];
  if (vocab.is_object() && vocab.contains(content) && vocab[content].is_number_integer()) {
    return vocab[content].get<int>();
  }
  return std::nullopt;
}

int next_free_id(const json& tj) {
  int next = static_cast<int>(tj["model"].value("vocab", json::object()).size());
  for (const auto& t : tj["added_tokens"]) next = std::max(next, t.value("id", -1) + 1);
  return next;
}

// Adds `content` as a special token unless it exists already as an added token.
void ensure_special(json& tj, const json& value) {
  const auto content = token_content(value);
  if (!content) return;
  for (const auto& t : tj["added_tokens"])
    if (t.value("content", "") == *content) return;
  const auto id = find_token_id(tj, *content);
  const json flags = value.is_object() ? value : json{{"special", true}, {"normalized", false}};
  tj["added_tokens"].push_back(added_token_json(id ? *id : next_free_id(tj), *content, flags));
}

json special_value(const json& config, const ClassDefaults& defaults, const std::string& key) {
  if (config.contains(key)) return config[key];
  const auto it = defaults.special_tokens.find(key);
  return it == defaults.special_tokens.end() ? json(nullptr) : json(it->second);
}

}  // namespace

void apply_transformers_overrides(json& tj, const json& config, std::string_view context) {
  std::string cls = config.value("tokenizer_class", std::string());
  if (cls.size() > 4 && cls.ends_with("Fast")) cls.resize(cls.size() - 4);
  if (!tj.contains("added_tokens") || !tj["added_tokens"].is_array()) tj["added_tokens"] = json::array();
  if (!tj.contains("model") || !tj["model"].is_object()) return;  // the model loader reports it

  ClassDefaults defaults;
  bool rebuilt = true;
  if (cls == "LlamaTokenizer" && !uses_byte_level(tj)) defaults = rebuild_llama(tj, config);
  else if (cls == "Qwen2Tokenizer") defaults = rebuild_qwen2(tj, config);
  else if (cls == "GPT2Tokenizer") defaults = rebuild_gpt2(tj, config);
  else rebuilt = false;

  if (rebuilt) {
    log_debug("{}: tokenizer_class {} rebuilds the pipeline as transformers does", context, cls);
    tj["added_tokens"] = config_added_tokens(config);
  } else {
    for (const auto& t : config_added_tokens(config)) ensure_special(tj, t);
  }
  for (const char* key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"}) {
    ensure_special(tj, special_value(config, defaults, key));
  }
  for (const char* key : {"additional_special_tokens", "extra_special_tokens"}) {
    if (config.contains(key) && config[key].is_array())
      for (const auto& v : config[key]) ensure_special(tj, v);
  }

  if (config.contains("add_bos_token") || config.contains("add_eos_token") || tj.value("post_processor", json()).is_null()) {
    json single = json::array();
    json specials = json::object();
    auto add_special = [&](const char* key, bool enabled, bool first) {
      const auto content = token_content(special_value(config, defaults, key));
      if (!enabled || !content) return;
      const auto id = find_token_id(tj, *content);
      if (!id) return;
      json item = {{"SpecialToken", {{"id", *content}, {"type_id", 0}}}};
      if (first) single.insert(single.begin(), item); else single.push_back(item);
      specials[*content] = {{"id", *content}, {"ids", {*id}}, {"tokens", {*content}}};
    };
    single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
    add_special("bos_token", config_bool(config, "add_bos_token", false), true);
    add_special("eos_token", config_bool(config, "add_eos_token", false), false);
    tj["post_processor"] = {{"type", "TemplateProcessing"}, {"single", single}, {"special_tokens", specials}};
  }
}

}  // namespace awq
