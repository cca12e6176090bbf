// Buffered, bounds-checked reading of a pickle stream that lies inside a
// ByteSource. Lengths read from the stream are checked against the bytes
// that remain before anything is allocated for them.
#pragma once

#include <cstdint>
#include <string>

#include "byte_source.h"

namespace ptscope {

class PickleCursor {
 public:
  PickleCursor(const ByteSource& src, uint64_t begin, uint64_t end, std::string what);

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return end_ - pos_; }
  const std::string& what() const { return what_; }

  uint8_t byte();
  uint64_t uint_le(int n);   // n = 1, 2, 4 or 8
  std::string take(uint64_t n);
  void skip(uint64_t n);     // as take, keeping nothing
  // A protocol-0 text argument: up to (not including) the next '\n'.
  std::string line();
  [[noreturn]] void fail(const std::string& message, uint64_t at) const;

 private:
  void fill(uint64_t at);

  const ByteSource& src_;
  uint64_t pos_, end_;
  std::string what_;
  std::string buf_;
  uint64_t buf_start_ = 0;
};

}  // namespace ptscope
