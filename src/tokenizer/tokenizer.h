// Hugging Face tokenizer.json (+ tokenizer_config.json) encoder/decoder.
// Produces exactly the ids of the Python `tokenizers`/`transformers` packages.
#pragma once
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace awq {

struct TokenizerOptions {
  // true: reproduce transformers 5.x AutoTokenizer, which rebuilds the
  // pipeline of some tokenizer classes (e.g. LlamaTokenizer: Metaspace instead
  // of the legacy Prepend normalizer) and applies tokenizer_config.json's
  // add_bos_token/add_eos_token. false: tokenizer.json exactly as the
  // `tokenizers` package reads it.
  bool transformers_compat = true;
};

class Tokenizer {
 public:
  // Reads <dir>/tokenizer.json and, when present, <dir>/tokenizer_config.json
  // and <dir>/chat_template.jinja.
  // Throws Error(Input) when missing or malformed (message names file and key).
  static Tokenizer load(const std::filesystem::path& model_dir);
  static Tokenizer load(const std::filesystem::path& model_dir, const TokenizerOptions& options);
  static Tokenizer from_json(const std::string& tokenizer_json, const std::string& tokenizer_config_json,
                             const std::string& source_name = "tokenizer.json");
  static Tokenizer from_json(const std::string& tokenizer_json, const std::string& tokenizer_config_json,
                             const std::string& source_name, const TokenizerOptions& options);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // add_special_tokens: apply the post-processor (BOS/EOS), as HF's encode() does by default.
  std::vector<int> encode(std::string_view text, bool add_special_tokens = true) const;
  std::string decode(std::span<const int> ids, bool skip_special_tokens = false) const;

  int vocab_size() const;  // including added tokens
  std::optional<int> token_to_id(std::string_view token) const;
  std::string id_to_token(int id) const;
  bool is_special(int id) const;

  // From tokenizer_config.json (empty when absent).
  const std::string& bos_token() const;
  const std::string& eos_token() const;
  const std::optional<std::string>& chat_template() const;  // the default template

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Incremental detokenizer: push ids one by one, get back only text that is
// final (complete UTF-8, and not changed by later tokens). The concatenation of
// all push() results and flush() equals decode(all ids).
class StreamDecoder {
 public:
  StreamDecoder(const Tokenizer& tok, bool skip_special_tokens);
  std::string push(int id);
  std::string flush();

 private:
  const Tokenizer& tok_;
  bool skip_special_;
  // Decoding window: the last chunk of ids that produced text (kept as context,
  // since decoders such as Strip or Metaspace treat a first token specially)
  // followed by ids whose text is still pending.
  std::vector<int> window_;
  std::string prefix_;        // decode() of window_[0, prefix_count_)
  size_t prefix_count_ = 0;
};

}  // namespace awq
