#include "json_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "ptscope/error.h"

namespace ptscope {
namespace {

// Bytes a string may hold as they are: printable ASCII but '"' and '\\'.
struct PlainBytes {
  bool plain[256] = {};
  constexpr PlainBytes() {
    for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
  }
};
constexpr PlainBytes kPlain;

}  // namespace

void JsonText::syntax(const char* at) {
  syntax_failed_ = true;
  throw Error(message_, base_ + static_cast<uint64_t>(at - begin_));
}

bool JsonText::more(char close) {
  space();
  if (p_ != end_ && *p_ == ',') {
    ++p_;
    space();
    return true;
  }
  expect(close);
  return false;
}

JsonType JsonText::scalar() {
  if (p_ == end_) syntax(p_);
  switch (*p_) {
    case 't': literal("true"); return JsonType::Bool;
    case 'f': literal("false"); return JsonType::Bool;
    case 'n': literal("null"); return JsonType::Null;
    default:
      if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) {
        uint64_t u;
        return number(&u);
      }
      syntax(p_);
  }
}

void JsonText::literal(const char* word) {
  for (; *word; ++word, ++p_)
    if (p_ == end_ || *p_ != *word) syntax(p_);
}

JsonType JsonText::number(uint64_t* u) {
  const char* start = p_;
  bool negative = *p_ == '-';
  if (negative) ++p_;
  if (!digit()) syntax(p_);
  uint64_t v = 0;
  bool fits = true;  // in u64 (or, negated, in i64)
  if (*p_ == '0') {
    ++p_;
  } else {
    const char* p = p_;
    for (; p != end_ && *p >= '0' && *p <= '9'; ++p) {
      unsigned d = static_cast<unsigned>(*p - '0');
      if (v > (UINT64_MAX - d) / 10) fits = false;
      else v = v * 10 + d;
    }
    p_ = p;
  }
  bool fraction = false;
  if (p_ != end_ && *p_ == '.') {
    ++p_;
    if (!digit()) syntax(p_);
    while (digit()) ++p_;
    fraction = true;
  }
  if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
    ++p_;
    if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
    if (!digit()) syntax(p_);
    while (digit()) ++p_;
    fraction = true;
  }
  if (!fraction && fits) {
    if (!negative) {
      *u = v;
      return JsonType::Unsigned;
    }
    if (v <= uint64_t{1} << 63) return JsonType::Signed;
  }
  // A double, as both parsers make of it; one that overflows is an error.
  if (overflows(start, p_)) syntax(start);
  return JsonType::Float;
}

bool JsonText::overflows(const char* b, const char* e) {
  double d = 0;
  auto r = std::from_chars(b, e, d);
  if (r.ec != std::errc::result_out_of_range) return std::isinf(d);
  // Out of range either way: overflow when the magnitude's decimal order
  // is positive. order = digits before the point from the first nonzero
  // one, or minus the zeros after the point before it, plus the exponent.
  const char* q = b + (*b == '-');
  int64_t order = 0;
  bool seen = false;
  for (; q != e && *q >= '0' && *q <= '9'; ++q)
    if (seen || *q != '0') seen = true, ++order;
  if (q != e && *q == '.')
    for (++q; q != e && *q >= '0' && *q <= '9'; ++q)
      if (!seen) {
        if (*q != '0') seen = true;
        else --order;
      }
  if (q != e && (*q == 'e' || *q == 'E')) {
    ++q;
    bool minus = *q == '-';
    if (*q == '+' || *q == '-') ++q;
    int64_t x = 0;
    for (; q != e; ++q) x = std::min<int64_t>(x * 10 + (*q - '0'), int64_t{1} << 40);
    order += minus ? -x : x;
  }
  return order > 0;
}

void JsonText::string(std::string* out) {
  ++p_;
  if (out) out->clear();
  for (;;) {
    const char* run = p_;
    const char* p = run;
    const char* end = end_;
    while (p != end && kPlain.plain[static_cast<unsigned char>(*p)]) ++p;
    p_ = p;
    if (out && p != run) out->append(run, static_cast<size_t>(p - run));
    if (p_ == end_) syntax(p_);
    unsigned char c = static_cast<unsigned char>(*p_);
    if (c == '"') {
      ++p_;
      return;
    }
    if (c == '\\') {
      escape(out);
    } else if (c < 0x20) {
      syntax(p_);
    } else {
      const char* start = p_;
      utf8();
      if (out) out->append(start, static_cast<size_t>(p_ - start));
    }
  }
}

void JsonText::utf8() {
  unsigned char c = static_cast<unsigned char>(*p_);
  int more;
  unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
  if (c >= 0xC2 && c <= 0xDF) more = 1;
  else if (c == 0xE0) more = 2, lo = 0xA0;
  else if (c == 0xED) more = 2, hi = 0x9F;
  else if (c >= 0xE1 && c <= 0xEF) more = 2;
  else if (c == 0xF0) more = 3, lo = 0x90;
  else if (c == 0xF4) more = 3, hi = 0x8F;
  else if (c >= 0xF1 && c <= 0xF3) more = 3;
  else syntax(p_);
  ++p_;
  for (int i = 0; i < more; ++i, ++p_) {
    if (p_ == end_) syntax(p_);
    unsigned char b = static_cast<unsigned char>(*p_);
    if (i == 0 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) syntax(p_);
  }
}

void JsonText::escape(std::string* out) {
  const char* backslash = p_;
  ++p_;
  if (p_ == end_) syntax(p_);
  char c = *p_++;
  char plain;
  switch (c) {
    case '"': plain = '"'; break;
    case '\\': plain = '\\'; break;
    case '/': plain = '/'; break;
    case 'b': plain = '\b'; break;
    case 'f': plain = '\f'; break;
    case 'n': plain = '\n'; break;
    case 'r': plain = '\r'; break;
    case 't': plain = '\t'; break;
    case 'u': {
      uint32_t cp = hex4();
      if (cp >= 0xDC00 && cp <= 0xDFFF) syntax(backslash);  // a trailing surrogate alone
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') syntax(backslash);
        p_ += 2;
        uint32_t low = hex4();
        if (low < 0xDC00 || low > 0xDFFF) syntax(backslash);
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      }
      if (out) put_utf8(*out, cp);
      return;
    }
    default:
      syntax(p_ - 1);
  }
  if (out) out->push_back(plain);
}

uint32_t JsonText::hex4() {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i, ++p_) {
    if (p_ == end_) syntax(p_);
    char c = *p_;
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) syntax(p_);
    v = v * 16 + static_cast<uint32_t>(d);
  }
  return v;
}

void JsonText::put_utf8(std::string& s, uint32_t cp) {
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace ptscope
