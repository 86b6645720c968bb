// PCRE2-backed regex with the Oniguruma semantics HF tokenizers relies on.
// Patterns from tokenizer.json are written for Oniguruma; the few constructs
// whose meaning differs in PCRE2 (\s, \S, \h, \H) are rewritten to explicit
// classes at compile time.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace awq {

class Regex {
 public:
  // Throws Error(Input) naming `context` and the compile error.
  Regex(std::string_view oniguruma_pattern, std::string_view context);
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;

  // Non-overlapping leftmost matches as [begin, end) byte ranges; empty
  // matches are reported and the search then advances by one character.
  void find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;
  std::string replace_all(std::string_view text, std::string_view replacement) const;

 private:
  struct Compiled;
  std::unique_ptr<Compiled> compiled_;
};

// Exposed for tests: the PCRE2 pattern an Oniguruma pattern becomes.
std::string translate_oniguruma(std::string_view pattern);

}  // namespace awq
