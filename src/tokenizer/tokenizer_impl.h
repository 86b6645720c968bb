// Internal state of a loaded tokenizer (shared by tokenizer.cpp and the stream decoder).
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/tokenizer/added_vocabulary.h"
#include "src/tokenizer/bpe_model.h"
#include "src/tokenizer/decoder.h"
#include "src/tokenizer/normalizer.h"
#include "src/tokenizer/post_processor.h"
#include "src/tokenizer/pre_tokenizer.h"
#include "src/tokenizer/tokenizer.h"

namespace awq {

struct Tokenizer::Impl {
  std::string source;
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  std::unique_ptr<BpeModel> model;
  AddedVocabulary added;
  bool has_normalized_added = false;
  std::unique_ptr<PostProcessor> post_processor;
  std::unique_ptr<Decoder> decoder;
  bool clean_up_spaces = false;

  std::string bos_token, eos_token;
  std::optional<std::string> chat_template;

  std::vector<int> encode(std::string_view text, bool add_special_tokens) const;
  std::string decode(std::span<const int> ids, bool skip_special_tokens) const;

 private:
  void encode_plain(std::string_view text, bool at_origin, std::vector<int>& ids) const;
};

}  // namespace awq
