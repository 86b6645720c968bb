// Batch progress on stderr: a redrawn bar with rate and ETA when stderr is a
// terminal, else an info log line (-v) every few requests. Never on stdout.
#pragma once
#include <chrono>
#include <cstddef>
#include <string>

#include "src/batch/batch_loop.h"

namespace awq {

class ProgressDisplay {
 public:
  // terminal: draw the bar (the caller checked isatty(2) and that logs are not silenced).
  ProgressDisplay(size_t total, size_t skipped, bool terminal);
  void update(const BatchProgress& p);
  // Ends the bar's line (also after Ctrl-C, so the shell prompt starts clean).
  void finish();

  // The bar's text, e.g. "[#####-----] 12/24  1 failed  2.0 req/s  85 tok/s  ETA 0:06".
  static std::string format_bar(const BatchProgress& p, double elapsed_s, int width);

 private:
  size_t total_, skipped_;
  bool terminal_;
  bool drawn_ = false;
  size_t log_every_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace awq
