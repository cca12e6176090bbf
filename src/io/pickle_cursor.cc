#include "pickle_cursor.h"

#include <algorithm>

#include "ptscope/error.h"

namespace ptscope {
namespace {
constexpr uint64_t kChunk = 64 * 1024;
constexpr uint64_t kMaxLine = 1 << 20;  // protocol-0 lines are names and numbers
}  // namespace

PickleCursor::PickleCursor(const ByteSource& src, uint64_t begin, uint64_t end,
                           std::string what)
    : src_(src), pos_(begin), end_(std::min(end, src.size())), what_(std::move(what)) {
  if (pos_ > end_) fail("pickle starts past the end of its record", pos_);
}

void PickleCursor::fail(const std::string& message, uint64_t at) const {
  throw Error(what_ + ": " + message, at);
}

void PickleCursor::fill(uint64_t at) {
  uint64_t n = std::min(kChunk, end_ - at);
  buf_.resize(static_cast<size_t>(n));
  src_.read(at, buf_.data(), static_cast<size_t>(n), what_.c_str());
  buf_start_ = at;
}

uint8_t PickleCursor::byte_slow() {
  if (pos_ >= end_) fail("pickle ends without a STOP opcode", pos_);
  if (pos_ < buf_start_ || pos_ >= buf_start_ + buf_.size()) fill(pos_);
  return static_cast<uint8_t>(buf_[static_cast<size_t>(pos_++ - buf_start_)]);
}

uint64_t PickleCursor::uint_le_slow(int n) {
  if (remaining() < static_cast<uint64_t>(n))
    fail("truncated " + std::to_string(n) + "-byte argument", pos_);
  unsigned char b[8];
  for (int i = 0; i < n; ++i) b[i] = byte();
  return load_le(b, static_cast<size_t>(n));
}

void PickleCursor::fail_past_end(uint64_t n) const {
  fail("argument of " + std::to_string(n) + " bytes runs past the end (" +
           std::to_string(remaining()) + " left)",
       pos_);
}

std::string PickleCursor::take_slow(uint64_t n) {
  if (n > remaining()) fail_past_end(n);
  std::string s;
  s.reserve(static_cast<size_t>(n));
  while (n > 0) {
    if (pos_ < buf_start_ || pos_ >= buf_start_ + buf_.size()) fill(pos_);
    uint64_t off = pos_ - buf_start_;
    uint64_t k = std::min<uint64_t>(n, buf_.size() - off);
    s.append(buf_, static_cast<size_t>(off), static_cast<size_t>(k));
    pos_ += k;
    n -= k;
  }
  return s;
}

std::string PickleCursor::line() {
  uint64_t start = pos_;
  // Fast path: the whole line, '\n' included, is in the buffer.
  uint64_t off = pos_ - buf_start_;
  if (off < buf_.size()) {
    size_t avail = static_cast<size_t>(std::min<uint64_t>(buf_.size() - off, kMaxLine + 1));
    const char* from = buf_.data() + off;
    if (const void* nl = std::memchr(from, '\n', avail)) {
      size_t k = static_cast<size_t>(static_cast<const char*>(nl) - from);
      pos_ += k + 1;
      return std::string(from, k);
    }
  }
  std::string s;
  for (;;) {
    if (pos_ >= end_) fail("text argument has no end of line", start);
    char c = static_cast<char>(byte());
    if (c == '\n') return s;
    if (s.size() >= kMaxLine) fail("text argument longer than 1 MiB", start);
    s.push_back(c);
  }
}

}  // namespace ptscope
