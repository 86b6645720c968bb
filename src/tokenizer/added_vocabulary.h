// Added tokens (tokenizer.json "added_tokens"): found in the input before the
// model runs, as HF's AddedVocabulary does. Tokens with normalized=false are
// matched in the raw text; normalized=true ones in each normalized piece.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/tokenizer/string_map.h"

namespace awq {

class Normalizer;

struct AddedToken {
  int id = -1;
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
  bool special = false;
};

class AddedVocabulary {
 public:
  // Adds a token or replaces the one with the same content.
  void add(const AddedToken& token);
  // Builds the matchers; call after the last add() and whenever the normalizer changes.
  void build(const Normalizer* normalizer);

  // A stretch of text [begin, end) that is either an added token (id >= 0) or plain text (id == -1).
  struct Segment {
    size_t begin, end;
    int id;
  };
  // Splits `text` with the raw (normalized_pass=false) or normalized matcher.
  void split(std::string_view text, bool normalized_pass, std::vector<Segment>& out) const;

  const AddedToken* find_id(int id) const;
  const AddedToken* find_content(std::string_view content) const;
  int max_id() const;

  bool encode_special_tokens = false;  // HF's split_special_tokens: specials become plain text

 private:
  // Byte trie over the patterns; leftmost-longest search.
  struct Matcher {
    struct Node {
      std::vector<std::pair<unsigned char, int>> children;
      int token = -1;  // index into tokens_
    };
    std::vector<Node> nodes{Node{}};
    bool first_byte[256] = {};
    void insert(std::string_view pattern, int token_index);
    // Longest pattern starting at `pos`; returns its length (0 if none) and token index.
    size_t longest_at(std::string_view text, size_t pos, int& token_index) const;
  };

  std::vector<AddedToken> tokens_;
  StringMap<size_t> by_content_;
  std::vector<std::pair<int, size_t>> by_id_;  // sorted (id, index)
  Matcher raw_, normalized_;
};

}  // namespace awq
