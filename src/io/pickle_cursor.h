// Buffered, bounds-checked reading of a pickle stream that lies inside a
// ByteSource. Lengths read from the stream are checked against the bytes
// that remain before anything is allocated for them.
//
// The interpreter reads a few bytes per opcode, millions of times: each
// read is inline when it lies wholly inside the buffered chunk (which never
// holds bytes past the stream's end, so that one comparison is the bounds
// check), and falls back to the out-of-line path, which refills, checks and
// fails, otherwise.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "byte_source.h"
#include "little_endian.h"

namespace ptscope {

class PickleCursor {
 public:
  PickleCursor(const ByteSource& src, uint64_t begin, uint64_t end, std::string what);

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return end_ - pos_; }
  const std::string& what() const { return what_; }

  uint8_t byte() {
    uint64_t off = pos_ - buf_start_;
    if (off < buf_.size()) {
      ++pos_;
      return static_cast<uint8_t>(buf_[static_cast<size_t>(off)]);
    }
    return byte_slow();
  }
  uint64_t uint_le(int n) {  // n = 1, 2, 4 or 8
    uint64_t off = pos_ - buf_start_;
    if (off <= buf_.size() && buf_.size() - off >= static_cast<uint64_t>(n)) {
      pos_ += static_cast<uint64_t>(n);
      return load_le(reinterpret_cast<const unsigned char*>(buf_.data()) + off,
                     static_cast<size_t>(n));
    }
    return uint_le_slow(n);
  }
  std::string take(uint64_t n) {
    uint64_t off = pos_ - buf_start_;
    if (off <= buf_.size() && buf_.size() - off >= n) {
      pos_ += n;
      return std::string(buf_.data() + off, static_cast<size_t>(n));
    }
    return take_slow(n);
  }
  void skip(uint64_t n) {  // as take, keeping nothing
    if (n > remaining()) fail_past_end(n);
    pos_ += n;
  }
  // A protocol-0 text argument: up to (not including) the next '\n'.
  std::string line();
  [[noreturn]] void fail(const std::string& message, uint64_t at) const;

 private:
  void fill(uint64_t at);
  uint8_t byte_slow();
  uint64_t uint_le_slow(int n);
  std::string take_slow(uint64_t n);
  [[noreturn]] void fail_past_end(uint64_t n) const;

  const ByteSource& src_;
  uint64_t pos_, end_;
  std::string what_;
  std::string buf_;  // the bytes at [buf_start_, buf_start_ + size), all before end_
  uint64_t buf_start_ = 0;
};

}  // namespace ptscope
