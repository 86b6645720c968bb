// Stop strings (--stop) over streamed text. Text is held back while its end
// could be the start of a stop string, so a stop string is never emitted,
// even when it arrives split across tokens; on a match everything from the
// stop string on is dropped.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace awq {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);
  // Adds decoded text; returns the part that is now safe to emit.
  std::string push(std::string_view text);
  // At the end of generation (no stop matched): the held-back text.
  std::string flush();
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
};

}  // namespace awq
