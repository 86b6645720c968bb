#include "src/tokenizer/tokenizer.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "src/common/error.h"
#include "src/tokenizer/json_util.h"
#include "src/tokenizer/tokenizer_impl.h"
#include "src/tokenizer/transformers_compat.h"

namespace awq {
namespace {

using nlohmann::json;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) input_error("{}: cannot open", path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json parse_json(const std::string& text, const std::string& name) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    input_error("{}: invalid JSON: {}", name, e.what());
  }
}

// transformers' clean_up_tokenization (meant for WordPiece output).
std::string clean_up_tokenization(std::string text) {
  static const std::pair<std::string_view, std::string_view> kRules[] = {
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) {
    std::string out;
    size_t prev = 0;
    for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, prev)) {
      out.append(text, prev, pos - prev);
      out.append(to);
      prev = pos + from.size();
    }
    out.append(text, prev);
    text = std::move(out);
  }
  return text;
}

// The config's chat_template: a string, or a list of {name, template} (pick "default").
std::optional<std::string> config_chat_template(const json& config) {
  if (!config.contains("chat_template")) return std::nullopt;
  const auto& t = config["chat_template"];
  if (t.is_string()) return t.get<std::string>();
  if (t.is_array()) {
    for (const auto& entry : t) {
      if (entry.value("name", "") == "default" && entry.contains("template") && entry["template"].is_string()) {
        return entry["template"].get<std::string>();
      }
    }
  }
  return std::nullopt;
}

void load_added_tokens(const json& tj, Tokenizer::Impl& impl, const std::string& where) {
  for (const auto& t : json_array(tj, "added_tokens", where)) {
    AddedToken token;
    const auto& id = json_field(t, "id", where);
    if (!id.is_number_integer() || id.get<int64_t>() < 0) input_error("{}: added token with an invalid id", where);
    token.id = id.get<int>();
    token.content = json_string(t, "content", where);
    token.single_word = json_bool(t, "single_word", false, where);
    token.lstrip = json_bool(t, "lstrip", false, where);
    token.rstrip = json_bool(t, "rstrip", false, where);
    token.normalized = json_bool(t, "normalized", false, where);
    token.special = json_bool(t, "special", false, where);
    impl.has_normalized_added = impl.has_normalized_added || token.normalized;
    impl.added.add(token);
  }
  impl.added.build(impl.normalizer.get());
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

Tokenizer Tokenizer::load(const std::filesystem::path& model_dir) { return load(model_dir, TokenizerOptions{}); }

Tokenizer Tokenizer::load(const std::filesystem::path& model_dir, const TokenizerOptions& options) {
  const auto tokenizer_path = model_dir / "tokenizer.json";
  if (!std::filesystem::exists(tokenizer_path)) {
    if (std::filesystem::exists(model_dir / "tokenizer.model")) {
      input_error(
          "{}: tokenizer.json is required; this checkpoint only has tokenizer.model (SentencePiece). Create it with: "
          "python -c \"from transformers import AutoTokenizer as T; T.from_pretrained('{}').save_pretrained('{}')\"",
          model_dir.string(), model_dir.string(), model_dir.string());
    }
    input_error("{}: tokenizer.json not found", model_dir.string());
  }
  const auto config_path = model_dir / "tokenizer_config.json";
  const std::string config = std::filesystem::exists(config_path) ? read_file(config_path) : std::string();
  Tokenizer tok = from_json(read_file(tokenizer_path), config, tokenizer_path.string(), options);
  const auto template_path = model_dir / "chat_template.jinja";
  if (std::filesystem::exists(template_path)) tok.impl_->chat_template = read_file(template_path);
  return tok;
}

Tokenizer Tokenizer::from_json(const std::string& tokenizer_json, const std::string& tokenizer_config_json,
                               const std::string& source_name) {
  return from_json(tokenizer_json, tokenizer_config_json, source_name, TokenizerOptions{});
}

Tokenizer Tokenizer::from_json(const std::string& tokenizer_json, const std::string& tokenizer_config_json,
                               const std::string& source_name, const TokenizerOptions& options) {
  json tj = parse_json(tokenizer_json, source_name);
  if (!tj.is_object()) input_error("{}: expected a JSON object", source_name);
  const std::string config_name = "tokenizer_config.json";
  const json config = tokenizer_config_json.empty() ? json::object() : parse_json(tokenizer_config_json, config_name);
  if (!config.is_object()) input_error("{}: expected a JSON object", config_name);
  if (options.transformers_compat) apply_transformers_overrides(tj, config, source_name);

  auto impl = std::make_unique<Impl>();
  impl->source = source_name;
  impl->normalizer = make_normalizer(tj.value("normalizer", json()), source_name + ": normalizer");
  impl->pre_tokenizer = make_pre_tokenizer(tj.value("pre_tokenizer", json()), source_name + ": pre_tokenizer");
  impl->model = std::make_unique<BpeModel>(json_field(tj, "model", source_name), source_name);
  impl->post_processor =
      std::make_unique<PostProcessor>(tj.value("post_processor", json()), source_name + ": post_processor");
  impl->decoder = make_decoder(tj.value("decoder", json()), source_name + ": decoder");
  if (!tj.contains("added_tokens")) tj["added_tokens"] = json::array();
  load_added_tokens(tj, *impl, source_name + ": added_tokens");
  impl->added.encode_special_tokens = json_bool(config, "split_special_tokens", false, config_name);

  // transformers 5 skips the cleanup for BPE models unless forced.
  impl->clean_up_spaces =
      options.transformers_compat && json_bool(config, "clean_up_tokenization_spaces", false, config_name) &&
      json_bool(config, "clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output", false, config_name);
  if (config.contains("bos_token")) impl->bos_token = token_content(config["bos_token"]).value_or("");
  if (config.contains("eos_token")) impl->eos_token = token_content(config["eos_token"]).value_or("");
  impl->chat_template = config_chat_template(config);
  return Tokenizer(std::move(impl));
}

void Tokenizer::Impl::encode_plain(std::string_view text, bool at_origin, std::vector<int>& ids) const {
  std::vector<Piece> pieces;
  pieces.push_back({std::string(text), at_origin});
  if (pre_tokenizer) pre_tokenizer->apply(pieces);
  for (const auto& p : pieces) model->encode_word(p.text, ids);
}

std::vector<int> Tokenizer::Impl::encode(std::string_view text, bool add_special_tokens) const {
  std::vector<int> ids;
  ids.reserve(text.size() / 3 + 4);
  std::vector<AddedVocabulary::Segment> raw_segments, normalized_segments;
  added.split(text, false, raw_segments);
  for (const auto& seg : raw_segments) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
      continue;
    }
    const bool at_origin = seg.begin == 0;
    const std::string_view raw = text.substr(seg.begin, seg.end - seg.begin);
    if (!normalizer && !has_normalized_added) {
      encode_plain(raw, at_origin, ids);
      continue;
    }
    std::string piece(raw);
    if (normalizer) normalizer->normalize(piece);
    added.split(piece, true, normalized_segments);
    for (const auto& sub : normalized_segments) {
      if (sub.id >= 0) ids.push_back(sub.id);
      else encode_plain(std::string_view(piece).substr(sub.begin, sub.end - sub.begin), at_origin && sub.begin == 0, ids);
    }
  }
  if (add_special_tokens) post_processor->apply(ids);
  return ids;
}

std::string Tokenizer::Impl::decode(std::span<const int> ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int id : ids) {
    if (const AddedToken* t = added.find_id(id)) {
      if (!(skip_special_tokens && t->special)) tokens.push_back(t->content);
    } else if (const std::string* s = model->id_to_token(id)) {
      const AddedToken* same = added.find_content(*s);
      if (!(skip_special_tokens && same && same->special)) tokens.push_back(*s);
    }
  }
  std::string text;
  if (decoder) {
    decoder->decode_chain(tokens);
    for (const auto& t : tokens) text += t;
  } else {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i) text += ' ';
      text += tokens[i];
    }
  }
  return clean_up_spaces ? clean_up_tokenization(std::move(text)) : text;
}

std::vector<int> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  return impl_->encode(text, add_special_tokens);
}

std::string Tokenizer::decode(std::span<const int> ids, bool skip_special_tokens) const {
  return impl_->decode(ids, skip_special_tokens);
}

int Tokenizer::vocab_size() const { return std::max(impl_->model->size(), impl_->added.max_id() + 1); }

std::optional<int> Tokenizer::token_to_id(std::string_view token) const {
  if (const AddedToken* t = impl_->added.find_content(token)) return t->id;
  return impl_->model->token_to_id(token);
}

std::string Tokenizer::id_to_token(int id) const {
  if (const AddedToken* t = impl_->added.find_id(id)) return t->content;
  const std::string* s = impl_->model->id_to_token(id);
  return s ? *s : std::string();
}

bool Tokenizer::is_special(int id) const {
  const AddedToken* t = impl_->added.find_id(id);
  return t && t->special;
}

const std::string& Tokenizer::bos_token() const { return impl_->bos_token; }
const std::string& Tokenizer::eos_token() const { return impl_->eos_token; }
const std::optional<std::string>& Tokenizer::chat_template() const { return impl_->chat_template; }

}  // namespace awq
