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

class Tokenizer {
 public:
  // Reads <dir>/tokenizer.json and, when present, <dir>/tokenizer_config.json.
  // Throws Error(Input) when missing or malformed (message names file and key).
  static Tokenizer load(const std::filesystem::path& model_dir);
  static Tokenizer from_json(const std::string& tokenizer_json, const std::string& tokenizer_config_json,
                             const std::string& source_name = "tokenizer.json");
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
  std::vector<int> ids_;
  size_t emitted_bytes_ = 0;
};

}  // namespace awq
