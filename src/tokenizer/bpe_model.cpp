#include "src/tokenizer/bpe_model.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <queue>

#include "src/common/error.h"
#include "src/tokenizer/json_util.h"
#include "src/tokenizer/utf8.h"

namespace awq {

BpeModel::BpeModel(const nlohmann::json& model, std::string_view context) {
  const std::string where = std::string(context) + ".model";
  const auto type = json_optional_string(model, "type").value_or("BPE");
  if (type != "BPE") input_error("{}: unsupported model type '{}' (only BPE is implemented)", where, type);

  const auto& vocab = json_field(model, "vocab", where);
  if (!vocab.is_object()) input_error("{}: 'vocab' must be an object of token -> id", where);
  for (const auto& [token, id_json] : vocab.items()) {
    if (!id_json.is_number_integer() || id_json.get<int64_t>() < 0 || id_json.get<int64_t>() > (1 << 30)) {
      input_error("{}: vocab entry '{}' has an invalid id", where, token);
    }
    const int id = id_json.get<int>();
    if (static_cast<size_t>(id) >= tokens_.size()) {
      tokens_.resize(id + 1);
      has_token_.resize(id + 1, false);
    }
    tokens_[id] = token;
    has_token_[id] = true;
  }
  vocab_.build(tokens_, has_token_);

  unk_token_ = json_optional_string(model, "unk_token");
  continuing_subword_prefix_ = json_optional_string(model, "continuing_subword_prefix").value_or("");
  end_of_word_suffix_ = json_optional_string(model, "end_of_word_suffix").value_or("");
  fuse_unk_ = json_bool(model, "fuse_unk", false, where);
  byte_fallback_ = json_bool(model, "byte_fallback", false, where);
  ignore_merges_ = json_bool(model, "ignore_merges", false, where);
  for (int b = 0; b < 256; ++b) {
    byte_tokens_[b] = vocab_.find(fmt::format("<0x{:02X}>", b));
  }

  const auto& merges = json_array(model, "merges", where);
  merges_.reserve(merges.size());
  const size_t prefix_len = continuing_subword_prefix_.size();
  int rank = 0;
  std::string joined;
  for (const auto& m : merges) {
    std::string_view left, right;
    if (m.is_string()) {
      const std::string_view line = m.get_ref<const std::string&>();
      if (line.starts_with("#version")) continue;
      const size_t space = line.find(' ');
      if (space == std::string_view::npos || line.find(' ', space + 1) != std::string_view::npos) {
        input_error("{}: merge #{} '{}' is not two tokens separated by one space", where, rank, line);
      }
      left = line.substr(0, space);
      right = line.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      left = m[0].get_ref<const std::string&>();
      right = m[1].get_ref<const std::string&>();
    } else {
      input_error("{}: merge #{} must be \"a b\" or [\"a\", \"b\"]", where, rank);
    }
    const int a = vocab_.find(left);
    const int b = vocab_.find(right);
    if (a < 0 || b < 0 || right.size() < prefix_len) {
      input_error("{}: merge #{} uses a token missing from the vocabulary ('{}' '{}')", where, rank, left, right);
    }
    joined.assign(left);
    joined.append(right.substr(prefix_len));
    const int merged = vocab_.find(joined);
    if (merged < 0) {
      input_error("{}: merge #{} produces '{}', which is not in the vocabulary", where, rank, joined);
    }
    merges_.insert(pair_key(a, b), rank, merged);
    ++rank;
  }
}

BpeModel::~BpeModel() = default;

std::optional<int> BpeModel::token_to_id(std::string_view token) const {
  const int id = vocab_.find(token);
  if (id < 0) return std::nullopt;
  return id;
}

const std::string* BpeModel::id_to_token(int id) const {
  if (id < 0 || static_cast<size_t>(id) >= tokens_.size() || !has_token_[id]) return nullptr;
  return &tokens_[id];
}

void BpeModel::encode_word(std::string_view word, std::vector<int>& out) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    if (const int id = vocab_.find(word); id >= 0) {
      out.push_back(id);
      return;
    }
  }
  const bool cacheable = word.size() < kMaxCachedWordBytes;
  if (cacheable) {
    std::lock_guard lock(cache_mutex_);
    if (const auto it = cache_.find(word); it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t start = out.size();
  encode_uncached(word, out);
  if (cacheable) {
    std::lock_guard lock(cache_mutex_);
    if (cache_.size() >= kCacheCapacity) cache_.clear();
    cache_.emplace(std::string(word), std::vector<int>(out.begin() + start, out.end()));
  }
}

// One symbol per character (or per byte with byte fallback), as HF's
// BPE::merge_word builds them before merging.
void BpeModel::initial_symbols(std::string_view word, std::vector<int>& ids) const {
  int unk_id = -1;
  bool pending_unk = false;
  std::string buf;
  for (size_t pos = 0; pos < word.size();) {
    size_t len = 0;
    utf8::decode(word, pos, len);
    std::string_view piece = word.substr(pos, len);
    const bool is_first = pos == 0, is_last = pos + len == word.size();
    if ((!is_first && !continuing_subword_prefix_.empty()) || (is_last && !end_of_word_suffix_.empty())) {
      buf.assign(is_first ? "" : continuing_subword_prefix_);
      buf.append(piece);
      if (is_last) buf.append(end_of_word_suffix_);
      piece = buf;
    }
    pos += len;
    if (const int id = vocab_.find(piece); id >= 0) {
      if (pending_unk) ids.push_back(unk_id);
      pending_unk = false;
      ids.push_back(id);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (char c : piece) all = all && byte_tokens_[static_cast<unsigned char>(c)] >= 0;
      if (all) {
        for (char c : piece) ids.push_back(byte_tokens_[static_cast<unsigned char>(c)]);
        continue;
      }
    }
    if (!unk_token_) continue;  // HF drops the character when there is no unk token
    const int unk = vocab_.find(*unk_token_);
    if (unk < 0) input_error("tokenizer: unk_token '{}' is not in the vocabulary", *unk_token_);
    if (pending_unk && !fuse_unk_) ids.push_back(unk_id);
    unk_id = unk;
    pending_unk = true;
  }
  if (pending_unk) ids.push_back(unk_id);
}

void BpeModel::encode_uncached(std::string_view word, std::vector<int>& out) const {
  struct Symbol {
    int id, prev, next;
    bool alive;
  };
  std::vector<int> ids;
  initial_symbols(word, ids);
  const int n = static_cast<int>(ids.size());
  std::vector<Symbol> sym(n);
  for (int i = 0; i < n; ++i) sym[i] = {ids[i], i - 1, i + 1 < n ? i + 1 : -1, true};

  struct Candidate {
    int rank, pos, new_id;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto push_pair = [&](int pos) {
    const int next = sym[pos].next;
    if (next < 0) return;
    if (const auto* m = merges_.find(pair_key(sym[pos].id, sym[next].id))) queue.push({m->rank, pos, m->id});
  };
  for (int i = 0; i + 1 < n; ++i) push_pair(i);

  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& cur = sym[top.pos];
    if (!cur.alive || cur.next < 0) continue;
    // Skip stale entries: the pair at this position changed since it was queued.
    const auto* m = merges_.find(pair_key(cur.id, sym[cur.next].id));
    if (!m || m->id != top.new_id) continue;
    Symbol& right = sym[cur.next];
    cur.id = top.new_id;
    right.alive = false;
    cur.next = right.next;
    if (right.next >= 0) sym[right.next].prev = top.pos;
    if (cur.prev >= 0) push_pair(cur.prev);
    push_pair(top.pos);
  }
  for (const auto& s : sym)
    if (s.alive) out.push_back(s.id);
}

}  // namespace awq
