#include "tools/gguf_convert/hf_tokenizer.h"

#include <array>
#include <unordered_set>
#include <vector>

#include "src/common/error.h"

namespace awq {
namespace {

using ordered_json = nlohmann::ordered_json;

enum TokenType : int64_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

// GPT-2's byte -> code point table (bytes_to_unicode): printable Latin-1
// bytes map to themselves, the other 68 to U+0100.. in byte order.
std::array<uint32_t, 256> byte_to_codepoint() {
  std::array<uint32_t, 256> table{};
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = printable ? b : next++;
  }
  return table;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xc0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3f));
  } else {
    out += char(0xe0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  }
}

// Code points of valid UTF-8, or nothing when the bytes are not valid UTF-8.
bool decode_utf8(const std::string& s, std::vector<uint32_t>& cps) {
  cps.clear();
  for (size_t i = 0; i < s.size();) {
    const auto c = uint8_t(s[i]);
    const int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : c & (0x7f >> len);
    for (int k = 1; k < len; ++k) {
      const auto cc = uint8_t(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    cps.push_back(cp);
    i += size_t(len);
  }
  return true;
}

// The vocabulary key of a GGUF token: byte-level tokens are already spelled
// in the GPT-2 alphabet; raw text (e.g. a user-defined token with a space) is
// re-spelled byte by byte, as transformers' GGUF loader does.
class ByteLevelSpeller {
 public:
  ByteLevelSpeller() : table_(byte_to_codepoint()), alphabet_(table_.begin(), table_.end()) {}
  std::string spell(const std::string& token) const {
    std::vector<uint32_t> cps;
    bool in_alphabet = decode_utf8(token, cps);
    for (uint32_t cp : cps) in_alphabet = in_alphabet && alphabet_.count(cp) != 0;
    if (in_alphabet) return token;
    std::string out;
    for (char c : token) append_utf8(out, table_[uint8_t(c)]);
    return out;
  }

 private:
  std::array<uint32_t, 256> table_;
  std::unordered_set<uint32_t> alphabet_;
};

ordered_json byte_level(bool add_prefix_space, bool trim_offsets) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", add_prefix_space}, {"trim_offsets", trim_offsets},
          {"use_regex", true}};
}

ordered_json pre_tokenizer_for(const GgufFile& f) {
  const std::string pre = f.has("tokenizer.ggml.pre") ? f.get_string("tokenizer.ggml.pre") : "default";
  if (pre == "smollm")
    return {{"type", "Sequence"},
            {"pretokenizers", {{{"type", "Digits"}, {"individual_digits", true}}, byte_level(false, true)}}};
  if (pre == "gpt-2" || pre == "default") return byte_level(false, true);
  input_error("{}: pre-tokenizer '{}' (tokenizer.ggml.pre) is not supported yet (supported: smollm, gpt-2, default)",
              f.path().string(), pre);
}

bool flag(const GgufFile& f, const std::string& key) { return f.has(key) && f.get_bool(key); }

// With add_bos/add_eos the ids come from a template; otherwise GPT-2's
// offsets-only ByteLevel processor, as SmolLM2's own tokenizer.json has.
ordered_json post_processor_for(const GgufFile& f, const std::vector<std::string>& tokens) {
  const bool bos = flag(f, "tokenizer.ggml.add_bos_token"), eos = flag(f, "tokenizer.ggml.add_eos_token");
  if (!bos && !eos) return byte_level(true, false);
  ordered_json single = ordered_json::array(), pair = ordered_json::array(), specials = ordered_json::object();
  auto special = [&](const char* key, int type_id) {
    const uint64_t id = f.get_uint(std::string("tokenizer.ggml.") + key);
    if (id >= tokens.size()) input_error("{}: tokenizer.ggml.{} {} is out of range", f.path().string(), key, id);
    specials[tokens[id]] = {{"id", tokens[id]}, {"ids", {id}}, {"tokens", {tokens[id]}}};
    return ordered_json{{"SpecialToken", {{"id", tokens[id]}, {"type_id", type_id}}}};
  };
  auto sequence = [](const char* id, int type_id) {
    return ordered_json{{"Sequence", {{"id", id}, {"type_id", type_id}}}};
  };
  for (int part = 0; part < 2; ++part) {
    ordered_json& out = part == 0 ? single : pair;
    for (int seg = 0; seg <= part; ++seg) {
      if (bos) out.push_back(special("bos_token_id", seg));
      out.push_back(sequence(seg == 0 ? "A" : "B", seg));
      if (eos) out.push_back(special("eos_token_id", seg));
    }
  }
  return {{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair}, {"special_tokens", specials}};
}

// Invalid UTF-8 in a corrupt file becomes U+FFFD instead of an exception.
std::string dump(const ordered_json& j) { return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace); }
std::string json_string(const std::string& s) { return dump(ordered_json(s)); }

}  // namespace

std::string make_tokenizer_json(const GgufFile& f) {
  const std::string model = f.get_string("tokenizer.ggml.model");
  if (model == "llama")
    input_error("{}: SentencePiece ('llama') GGUF tokenizers are not supported yet; only byte-level BPE ('gpt2')",
                f.path().string());
  if (model != "gpt2")
    input_error("{}: tokenizer model '{}' is not supported yet; only byte-level BPE ('gpt2')", f.path().string(),
                model);
  const std::vector<std::string> tokens = f.get_string_array("tokenizer.ggml.tokens");
  std::vector<int64_t> types = f.has("tokenizer.ggml.token_type") ? f.get_int_array("tokenizer.ggml.token_type")
                                                                   : std::vector<int64_t>(tokens.size(), kNormal);
  if (types.size() != tokens.size())
    input_error("{}: tokenizer.ggml.token_type has {} entries for {} tokens", f.path().string(), types.size(),
                tokens.size());
  const std::vector<std::string> merges = f.get_string_array("tokenizer.ggml.merges");

  ordered_json added = ordered_json::array();
  for (size_t id = 0; id < tokens.size(); ++id) {
    if (types[id] != kControl && types[id] != kUserDefined) continue;
    added.push_back({{"id", id},
                     {"content", tokens[id]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", types[id] == kControl}});
  }

  std::string out = "{\n";
  out += "  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n";
  out += "  \"added_tokens\": " + dump(added) + ",\n";
  out += "  \"normalizer\": null,\n";
  out += "  \"pre_tokenizer\": " + pre_tokenizer_for(f).dump() + ",\n";
  out += "  \"post_processor\": " + post_processor_for(f, tokens).dump() + ",\n";
  out += "  \"decoder\": " + byte_level(true, true).dump() + ",\n";
  out += "  \"model\": {\"type\": \"BPE\", \"dropout\": null, \"unk_token\": null, "
         "\"continuing_subword_prefix\": null, \"end_of_word_suffix\": null, \"fuse_unk\": false, "
         "\"byte_fallback\": false, \"ignore_merges\": false,\n  \"vocab\": {\n";
  const ByteLevelSpeller speller;
  std::unordered_set<std::string> seen;
  for (size_t id = 0; id < tokens.size(); ++id) {
    std::string key = speller.spell(tokens[id]);
    if (!seen.insert(key).second)
      input_error("{}: token {} '{}' appears twice in tokenizer.ggml.tokens", f.path().string(), id, tokens[id]);
    out += "    " + json_string(key) + ": " + std::to_string(id) + (id + 1 < tokens.size() ? ",\n" : "\n");
  }
  out += "  },\n  \"merges\": [\n";
  for (size_t i = 0; i < merges.size(); ++i) {
    const size_t space = merges[i].find(' ', 1);
    if (space == std::string::npos)
      input_error("{}: merge {} '{}' has no space separating its two parts", f.path().string(), i, merges[i]);
    out += "    [" + json_string(merges[i].substr(0, space)) + ", " + json_string(merges[i].substr(space + 1)) + "]";
    out += i + 1 < merges.size() ? ",\n" : "\n";
  }
  out += "  ]}\n}\n";
  return out;
}

ordered_json make_tokenizer_config_json(const GgufFile& f, int model_max_length) {
  const std::vector<std::string> tokens = f.get_string_array("tokenizer.ggml.tokens");
  const std::vector<int64_t> types = f.has("tokenizer.ggml.token_type") ? f.get_int_array("tokenizer.ggml.token_type")
                                                                         : std::vector<int64_t>();
  ordered_json j;
  j["add_bos_token"] = flag(f, "tokenizer.ggml.add_bos_token");
  j["add_eos_token"] = flag(f, "tokenizer.ggml.add_eos_token");
  j["add_prefix_space"] = false;
  ordered_json decoder = ordered_json::object();
  for (size_t id = 0; id < types.size() && id < tokens.size(); ++id) {
    if (types[id] != kControl && types[id] != kUserDefined) continue;
    decoder[std::to_string(id)] = {{"content", tokens[id]}, {"lstrip", false},      {"normalized", false},
                                   {"rstrip", false},       {"single_word", false}, {"special", types[id] == kControl}};
  }
  j["added_tokens_decoder"] = decoder;
  const std::array<std::pair<const char*, const char*>, 4> specials{{{"bos_token", "bos_token_id"},
                                                                     {"eos_token", "eos_token_id"},
                                                                     {"pad_token", "padding_token_id"},
                                                                     {"unk_token", "unknown_token_id"}}};
  for (const auto& [name, key] : specials) {
    const std::string k = std::string("tokenizer.ggml.") + key;
    if (!f.has(k)) continue;
    const uint64_t id = f.get_uint(k);
    if (id >= tokens.size()) input_error("{}: {} {} is out of range", f.path().string(), k, id);
    j[name] = tokens[id];
  }
  if (f.has("tokenizer.chat_template")) j["chat_template"] = f.get_string("tokenizer.chat_template");
  j["clean_up_tokenization_spaces"] = false;
  j["model_max_length"] = model_max_length;
  j["tokenizer_class"] = "GPT2Tokenizer";
  return j;
}

}  // namespace awq
