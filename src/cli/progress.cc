#include "progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>

#include "display_width.h"

namespace ptscope::cli {
namespace {

size_t shown_width = 0;  // columns of the progress line now on screen

size_t terminal_columns() {
  winsize w{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col > 0) return w.ws_col;
  return 80;
}

// Spaces rather than an erase escape: works on any terminal, TERM=dumb too.
void write_over(const std::string& text) {
  std::string s = "\r" + text;
  size_t w = display_width(text);
  if (w < shown_width) s += std::string(shown_width - w, ' ') + "\r" + text;
  std::fputs(s.c_str(), stderr);
  std::fflush(stderr);
  shown_width = w;
}

}  // namespace

bool stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

std::string progress_line(const std::string& doing, size_t done, size_t total, double seconds) {
  std::string s = "[" + std::to_string(done + 1 > total ? total : done + 1) + "/" + std::to_string(total) + "] " + doing;
  if (done > 0 && seconds > 0) {
    char rate[32];
    std::snprintf(rate, sizeof rate, "  %.1f files/s", static_cast<double>(done) / seconds);
    s += rate;
  }
  return s;
}

void Progress::update(const std::string& line, bool now) {
  if (!enabled_) return;
  auto t = std::chrono::steady_clock::now();
  if (!now && shown_width && t - last_ < std::chrono::milliseconds(100)) return;
  last_ = t;
  // One column short of the edge: a full line wraps on some terminals, and
  // the carriage return then goes back to the wrong line.
  write_over(shorten_middle(line, terminal_columns() - 1));
}

void Progress::clear() {
  if (enabled_) clear_progress_line();
}

void clear_progress_line() {
  if (shown_width == 0) return;
  std::fputs(("\r" + std::string(shown_width, ' ') + "\r").c_str(), stderr);
  std::fflush(stderr);
  shown_width = 0;
}

}  // namespace ptscope::cli
