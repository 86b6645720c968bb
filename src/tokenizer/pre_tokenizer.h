// tokenizer.json "pre_tokenizer" components: split a normalized piece of text
// into the words the model encodes one by one.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace awq {

struct Piece {
  std::string text;
  // True when the piece starts at offset 0 of the original input (Metaspace's
  // prepend_scheme "first" prepends only there).
  bool at_origin = false;
};

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// Splits `piece` at the given matches (sorted, non-overlapping byte ranges)
// following HF's SplitDelimiterBehavior; appends non-empty pieces to `out`.
void split_at_matches(Piece&& piece, const std::vector<std::pair<size_t, size_t>>& matches,
                      SplitBehavior behavior, bool invert, std::vector<Piece>& out);

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces `pieces` with their split (and possibly rewritten) form.
  virtual void apply(std::vector<Piece>& pieces) const = 0;
};

// nullptr for JSON null; Error(Input) naming `context` and the type otherwise.
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& j, std::string_view context);

}  // namespace awq
