// A status line on stderr for work that takes a while: rewritten in place
// with a carriage return, at most ten times a second, and wiped when done.
// Only on a terminal: piped or redirected stderr gets nothing.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace ptscope::cli {

bool stderr_is_terminal();

// "[2/5] verifying model.pt  1.4 files/s": what, how far, the rate (once
// there is one).
std::string progress_line(const std::string& doing, size_t done, size_t total, double seconds);

class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled) {}
  ~Progress() { clear(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Shows `line`; skipped when the last one is under 100 ms old, unless
  // `now` (before a call that blocks, so that what blocks is shown).
  void update(const std::string& line, bool now = false);
  void clear();

 private:
  bool enabled_;
  std::chrono::steady_clock::time_point last_{};
};

// Wipes whatever progress line is on screen: log lines call this first, so
// they start at the left margin. The terminal has one line, hence global.
void clear_progress_line();

}  // namespace ptscope::cli
