#include "pickle_cursor.h"

#include <algorithm>
#include <cstring>

#include "ptscope/error.h"

namespace ptscope {
namespace {
constexpr uint64_t kChunk = 64 * 1024;
constexpr uint64_t kMaxLine = 1 << 20;  // protocol-0 lines are names and numbers
}  // namespace

PickleCursor::PickleCursor(const ByteSource& src, uint64_t begin, uint64_t end,
                           std::string what)
    : src_(src), end_(std::min(end, src.size())), what_(std::move(what)), buf_start_(begin) {
  if (begin > end_) fail("pickle starts past the end of its record", begin);
}

void PickleCursor::fail(const std::string& message, uint64_t at) const {
  throw Error(what_ + ": " + message, at);
}

void PickleCursor::fill(uint64_t at) {
  uint64_t n = std::min(kChunk, end_ - at);
  buf_.resize(static_cast<size_t>(n));
  src_.read(at, buf_.data(), static_cast<size_t>(n), what_.c_str());
  buf_start_ = at;
  base_ = cur_ = reinterpret_cast<const unsigned char*>(buf_.data());
  lim_ = base_ + n;
}

void PickleCursor::seek(uint64_t at) {
  if (at >= buf_start_ && at - buf_start_ <= static_cast<uint64_t>(lim_ - base_)) {
    cur_ = base_ + (at - buf_start_);
  } else {  // an empty window at `at`: the next read fills
    buf_start_ = at;
    base_ = cur_ = lim_ = reinterpret_cast<const unsigned char*>(buf_.data());
  }
}

uint8_t PickleCursor::byte_slow() {
  uint64_t at = pos();
  if (at >= end_) fail("pickle ends without a STOP opcode", at);
  if (cur_ >= lim_) fill(at);
  return *cur_++;
}

uint64_t PickleCursor::uint_le_slow(int n) {
  if (remaining() < static_cast<uint64_t>(n))
    fail("truncated " + std::to_string(n) + "-byte argument", pos());
  unsigned char b[8];
  for (int i = 0; i < n; ++i) b[i] = byte();
  return load_le(b, static_cast<size_t>(n));
}

void PickleCursor::fail_past_end(uint64_t n) const {
  fail("argument of " + std::to_string(n) + " bytes runs past the end (" +
           std::to_string(remaining()) + " left)",
       pos());
}

std::string PickleCursor::take_slow(uint64_t n) {
  if (n > remaining()) fail_past_end(n);
  std::string s;
  s.reserve(static_cast<size_t>(n));
  while (n > 0) {
    if (cur_ >= lim_) fill(pos());
    uint64_t k = std::min<uint64_t>(n, static_cast<uint64_t>(lim_ - cur_));
    s.append(reinterpret_cast<const char*>(cur_), static_cast<size_t>(k));
    cur_ += k;
    n -= k;
  }
  return s;
}

void PickleCursor::skip_slow(uint64_t n) {
  if (n > remaining()) fail_past_end(n);
  seek(pos() + n);
}

std::string PickleCursor::line() {
  uint64_t start = pos();
  // Fast path: the whole line, '\n' included, is in the window.
  size_t avail = static_cast<size_t>(std::min<uint64_t>(static_cast<uint64_t>(lim_ - cur_), kMaxLine + 1));
  if (avail > 0) {
    if (const void* nl = std::memchr(cur_, '\n', avail)) {
      const char* from = reinterpret_cast<const char*>(cur_);
      size_t k = static_cast<size_t>(static_cast<const unsigned char*>(nl) - cur_);
      cur_ += k + 1;
      return std::string(from, k);
    }
  }
  std::string s;
  for (;;) {
    if (pos() >= end_) fail("text argument has no end of line", start);
    char c = static_cast<char>(byte());
    if (c == '\n') return s;
    if (s.size() >= kMaxLine) fail("text argument longer than 1 MiB", start);
    s.push_back(c);
  }
}

}  // namespace ptscope
