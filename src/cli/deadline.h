// A wall-clock limit on a run that cannot be interrupted from inside: a
// TorchScript forward is the file's own code, run by LibTorch, and may loop
// forever. When the time is up, SIGALRM writes one prepared error line to
// stderr and ends the process with status 1; nothing else can be done
// safely from a signal handler while LibTorch holds its locks.
#pragma once

#include <string>

namespace ptscope::cli {

class Deadline {
 public:
  // `line` is the whole error line, newline included; seconds 0: no limit.
  Deadline(unsigned seconds, const std::string& line);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;
};

}  // namespace ptscope::cli
