#include "src/batch/progress_display.h"

#include <algorithm>
#include <cstdio>
#include <fmt/format.h>

#include "src/common/log.h"

namespace awq {
namespace {

std::string clock_text(double seconds) {
  const long s = long(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

}  // namespace

ProgressDisplay::ProgressDisplay(size_t total, size_t skipped, bool terminal)
    : total_(total),
      skipped_(skipped),
      terminal_(terminal),
      log_every_(std::clamp<size_t>(total / 20, 1, 100)),
      start_(std::chrono::steady_clock::now()) {
  if (skipped_ > 0) log_info("batch: {} requests already in the output file, {} to run", skipped_, total_);
  if (terminal_) update(BatchProgress{.total = total_});  // an empty bar while the first request runs
}

std::string ProgressDisplay::format_bar(const BatchProgress& p, double elapsed_s, int width) {
  const double frac = p.total ? double(p.done) / double(p.total) : 1.0;
  const int filled = int(frac * width + 1e-9);
  std::string text = fmt::format("[{:#<{}}{:-<{}}] {}/{}", "", filled, "", width - filled, p.done, p.total);
  if (p.failed) text += fmt::format("  {} failed", p.failed);
  if (elapsed_s > 0 && p.done > 0) {
    const double rate = double(p.done) / elapsed_s;
    text += fmt::format("  {:.2f} req/s  {:.0f} tok/s", rate, double(p.completion_tokens) / elapsed_s);
    if (p.done < p.total) text += "  ETA " + clock_text(double(p.total - p.done) / rate);
  }
  return text;
}

void ProgressDisplay::update(const BatchProgress& p) {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  if (terminal_) {
    // Redraw at most 10 times a second, and always for the last request.
    if (p.done < p.total && drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    std::fprintf(stderr, "\r\033[Kbatch %s", format_bar(p, elapsed, 24).c_str());
    std::fflush(stderr);
    drawn_ = true;
    last_draw_ = now;
  } else if (p.done % log_every_ == 0 || p.done == p.total) {
    log_info("batch: {}/{} done ({} failed), {:.1f} s", p.done, p.total, p.failed, elapsed);
  }
}

void ProgressDisplay::finish() {
  if (terminal_ && drawn_) std::fputs("\n", stderr);
  drawn_ = false;
}

}  // namespace awq
