// Open-addressing hash tables for the BPE model's two hot lookups (token
// string -> id, token pair -> merge). Node-based std::unordered_map costs one
// allocation per entry, which dominated loading 280k merges.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace awq {

// token -> id over strings owned by the caller's id -> token vector.
class VocabIndex {
 public:
  void build(const std::vector<std::string>& tokens, const std::vector<bool>& present) {
    tokens_ = &tokens;
    size_t cap = 16;
    while (cap < tokens.size() * 2) cap <<= 1;
    slots_.assign(cap, -1);
    mask_ = cap - 1;
    for (size_t id = 0; id < tokens.size(); ++id)
      if (present[id]) insert(static_cast<int>(id));
  }
  int find(std::string_view token) const {
    if (slots_.empty()) return -1;
    for (size_t i = hash(token) & mask_;; i = (i + 1) & mask_) {
      const int id = slots_[i];
      if (id < 0 || (*tokens_)[id] == token) return id;
    }
  }

 private:
  static size_t hash(std::string_view s) { return std::hash<std::string_view>{}(s); }
  void insert(int id) {
    size_t i = hash((*tokens_)[id]) & mask_;
    while (slots_[i] >= 0) {
      if ((*tokens_)[slots_[i]] == (*tokens_)[id]) return;  // first id wins for duplicate strings
      i = (i + 1) & mask_;
    }
    slots_[i] = id;
  }
  const std::vector<std::string>* tokens_ = nullptr;
  std::vector<int> slots_;
  size_t mask_ = 0;
};

// (left id, right id) -> (rank, merged id).
class MergeTable {
 public:
  struct Entry {
    uint64_t key = kEmpty;
    int rank = 0;
    int id = 0;
  };
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    slots_.assign(cap, Entry{});
    mask_ = cap - 1;
  }
  // Later entries for the same pair replace earlier ones (as HF's map collect does).
  void insert(uint64_t key, int rank, int id) {
    size_t i = mix(key) & mask_;
    while (slots_[i].key != kEmpty && slots_[i].key != key) i = (i + 1) & mask_;
    slots_[i] = {key, rank, id};
  }
  const Entry* find(uint64_t key) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
      const Entry& e = slots_[i];
      if (e.key == key) return &e;
      if (e.key == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static size_t mix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return static_cast<size_t>(k);
  }
  std::vector<Entry> slots_;
  size_t mask_ = 0;
};

}  // namespace awq
