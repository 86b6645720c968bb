// The BPE "model" of tokenizer.json: vocabulary, ranked merges, byte fallback
// and unknown-token handling, with a bounded per-word result cache.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/tokenizer/flat_tables.h"
#include "src/tokenizer/string_map.h"

namespace awq {

class BpeModel {
 public:
  // Throws Error(Input) naming `context` for malformed fields or merges that
  // reference tokens missing from the vocabulary.
  BpeModel(const nlohmann::json& model, std::string_view context);
  BpeModel(const BpeModel&) = delete;  // vocab_ points into tokens_
  BpeModel& operator=(const BpeModel&) = delete;
  ~BpeModel();

  // Appends the ids of one pre-tokenized word.
  void encode_word(std::string_view word, std::vector<int>& out) const;

  std::optional<int> token_to_id(std::string_view token) const;
  const std::string* id_to_token(int id) const;  // nullptr when the id is not in the vocabulary
  int size() const { return static_cast<int>(tokens_.size()); }

 private:
  static uint64_t pair_key(int a, int b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }
  void encode_uncached(std::string_view word, std::vector<int>& out) const;
  void initial_symbols(std::string_view word, std::vector<int>& ids) const;

  std::vector<std::string> tokens_;  // id -> token; empty string for holes
  std::vector<bool> has_token_;
  VocabIndex vocab_;
  MergeTable merges_;
  int byte_tokens_[256];  // id of "<0xNN>", or -1
  std::optional<std::string> unk_token_;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;

  // Word -> ids. Bounded: cleared when full, so memory stays flat on long inputs.
  static constexpr size_t kCacheCapacity = 1 << 16;
  static constexpr size_t kMaxCachedWordBytes = 256;
  mutable std::mutex cache_mutex_;
  mutable StringMap<std::vector<int>> cache_;
};

}  // namespace awq
