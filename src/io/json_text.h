// The lexical side of a strict RFC 8259 JSON reader over a text in memory,
// which safetensors_header.cc reads the header's structure with: white
// space, literals, numbers classed as nlohmann and serde_json class them,
// and strings, their UTF-8 checked and escapes decoded. Every error is the
// one `message`, at the offending byte: the first that cannot continue a
// JSON text (the text's length when it ends too soon), the backslash of an
// escape that is a lone surrogate, the first byte of a number too large for
// a double. Offsets count from `base`, where the text lies in its file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ptscope {

// Absent: the member is not there. Unsigned: an integer in [0, 2**64);
// Signed: a negative one in [-2**63, 0] ("-0" too); Float: any other number,
// as nlohmann and serde_json class them.
enum class JsonType : uint8_t { Absent, Null, Bool, Unsigned, Signed, Float, String, Array, Object };

class JsonText {
 public:
  // Whether an error thrown was the text's syntax.
  bool syntax_failed() const { return syntax_failed_; }

 protected:
  JsonText(std::string_view text, uint64_t base, const char* message)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()), base_(base), message_(message) {}

  [[noreturn]] void syntax(const char* at);
  size_t offset(const char* at) const { return static_cast<size_t>(at - begin_); }

  void space() {
    const char* p = p_;  // locals in the hot loops: no reload of the members per byte
    while (p != end_ && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) ++p;
    p_ = p;
  }
  void expect(char c) {
    if (p_ == end_ || *p_ != c) syntax(p_);
    ++p_;
  }
  // After an item: true for another, false at `close`.
  bool more(char close);
  bool digit() const { return p_ != end_ && *p_ >= '0' && *p_ <= '9'; }

  // A literal or a number at p_.
  JsonType scalar();
  void literal(const char* word);
  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; sets *u when Unsigned.
  JsonType number(uint64_t* u);
  // A string from its opening quote; decoded into *out unless null.
  void string(std::string* out);

  const char* begin_;
  const char* p_;
  const char* end_;
  uint64_t base_;

 private:
  // Whether the number [b, e) is beyond a double's range (underflow is 0).
  static bool overflows(const char* b, const char* e);
  // One multi-byte UTF-8 character, well formed as RFC 3629 has it.
  void utf8();
  void escape(std::string* out);
  uint32_t hex4();
  static void put_utf8(std::string& s, uint32_t cp);

  const char* message_;
  bool syntax_failed_ = false;
};

}  // namespace ptscope
