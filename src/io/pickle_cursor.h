// Buffered, bounds-checked reading of a pickle stream that lies inside a
// ByteSource. Lengths read from the stream are checked against the bytes
// that remain before anything is allocated for them.
//
// The interpreter reads a few bytes per opcode, millions of times: each
// read is inline when it lies wholly inside the window [cur_, lim_) of the
// buffered chunk (which never holds bytes past the stream's end, so that
// one comparison is the bounds check), and goes out of line, where the
// chunk is refilled and every check and error lives, otherwise.
#pragma once

#include <cstdint>
#include <string>

#include "byte_source.h"
#include "little_endian.h"

namespace ptscope {

class PickleCursor {
 public:
  PickleCursor(const ByteSource& src, uint64_t begin, uint64_t end, std::string what);

  uint64_t pos() const { return buf_start_ + static_cast<uint64_t>(cur_ - base_); }
  uint64_t remaining() const { return end_ - pos(); }
  const std::string& what() const { return what_; }

  uint8_t byte() {
    if (cur_ < lim_) return *cur_++;
    return byte_slow();
  }
  uint64_t uint_le(int n) {  // n = 1, 2, 4 or 8
    if (lim_ - cur_ >= n) {
      uint64_t v = load_le(cur_, static_cast<size_t>(n));
      cur_ += n;
      return v;
    }
    return uint_le_slow(n);
  }
  std::string take(uint64_t n) {
    if (static_cast<uint64_t>(lim_ - cur_) >= n) {
      const char* from = reinterpret_cast<const char*>(cur_);
      cur_ += n;
      return std::string(from, static_cast<size_t>(n));
    }
    return take_slow(n);
  }
  void skip(uint64_t n) {  // as take, keeping nothing
    if (static_cast<uint64_t>(lim_ - cur_) >= n) {
      cur_ += n;
      return;
    }
    skip_slow(n);
  }
  // The buffered bytes from pos() on, for a pass that reads opcodes in
  // place; advance_to() a point inside them moves past what it read.
  const unsigned char* window() const { return cur_; }
  const unsigned char* window_end() const { return lim_; }
  void advance_to(const unsigned char* p) { cur_ = p; }
  // A protocol-0 text argument: up to (not including) the next '\n'.
  std::string line();
  [[noreturn]] void fail(const std::string& message, uint64_t at) const;

 private:
  void fill(uint64_t at);
  // Moves to `at`, past the buffered window when it lies beyond it.
  void seek(uint64_t at);
  uint8_t byte_slow();
  uint64_t uint_le_slow(int n);
  std::string take_slow(uint64_t n);
  void skip_slow(uint64_t n);
  [[noreturn]] void fail_past_end(uint64_t n) const;

  const ByteSource& src_;
  uint64_t end_;
  std::string what_;
  std::string buf_;
  // The window: base_ is buf_start_'s byte, cur_ pos()'s, lim_ the end of
  // what was read into buf_.
  uint64_t buf_start_;
  const unsigned char* base_ = nullptr;
  const unsigned char* cur_ = nullptr;
  const unsigned char* lim_ = nullptr;
};

}  // namespace ptscope
