// The one error type of the ptscope library. Every failure while reading a
// file says what was being read and, where it applies, the byte offset; the
// file name is attached once, by whoever knows it.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace ptscope {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message,
                 std::optional<uint64_t> offset = std::nullopt)
      : std::runtime_error(message), message_(message), offset_(offset) {}

  const std::string& message() const { return message_; }
  std::optional<uint64_t> offset() const { return offset_; }
  const std::string& file() const { return file_; }

  // Returns a copy naming `file`; readers throw without it, the loader adds it.
  Error in_file(const std::string& file) const {
    Error e(message_, offset_);
    e.file_ = file;
    return e;
  }

  // "FILE: MESSAGE at byte N", one line.
  std::string describe() const {
    std::string s = file_.empty() ? message_ : file_ + ": " + message_;
    if (offset_) s += " at byte " + std::to_string(*offset_);
    return s;
  }

 private:
  std::string message_;
  std::optional<uint64_t> offset_;
  std::string file_;
};

}  // namespace ptscope
