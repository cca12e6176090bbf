// The grammar is RFC 8259's. Error offsets name the offending byte: the
// first that cannot continue a JSON text (the text's length when it ends
// too soon), the backslash of an escape that is a lone surrogate, and the
// first byte of a number too large for a double.
#include "safetensors_header.h"

#include <charconv>
#include <cmath>
#include <optional>

#include <nlohmann/json.hpp>

#include "ptscope/error.h"
#include "ptscope/limits.h"

namespace ptscope {
namespace {

constexpr int kMaxDepth = limits::kMaxSafetensorsDepth;
constexpr uint64_t kMaxItems = limits::kMaxTensorDims;

// Bytes a string may hold as they are: printable ASCII but '"' and '\\'.
struct PlainBytes {
  bool plain[256] = {};
  constexpr PlainBytes() {
    for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
  }
};
constexpr PlainBytes kPlain;

// Where the parse stands inside an entry's object.
enum class Members { Tensor, Metadata };

class HeaderParser {
 public:
  HeaderParser(std::string_view text, uint64_t base, const HeaderEntryFn& on_entry)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()), base_(base), on_entry_(on_entry) {}

  void run() {
    space();
    if (p_ == end_) syntax(p_);
    if (*p_ == '{') {
      root();
    } else {
      hold("safetensors header is not a JSON object", HeaderFault::Shape);
      value(1);
    }
    space();
    if (p_ != end_) syntax(p_);
    if (held_) {
      fault_ = held_fault_;
      throw *held_;
    }
  }
  HeaderFault fault() const { return fault_; }

 private:
  [[noreturn]] void syntax(const char* at) {
    fault_ = HeaderFault::Syntax;
    throw Error("safetensors header is not valid JSON", base_ + static_cast<uint64_t>(at - begin_));
  }
  // Keeps the first error of the entries for after the syntax check.
  void hold(const std::string& message, HeaderFault fault) {
    if (held_) return;
    held_.emplace(message, base_);
    held_fault_ = fault;
  }
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
  bool more(char close) {
    space();
    if (p_ != end_ && *p_ == ',') {
      ++p_;
      space();
      return true;
    }
    expect(close);
    return false;
  }

  void root() {
    members(&entry_.name, [&] { entry(); });
  }

  // `{"key": value, ...}` at p_: each key read into *key, then on_value()
  // with p_ at its value.
  template <class F>
  void members(std::string* key, F&& on_value) {
    ++p_;
    space();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return;
    }
    do {
      if (p_ == end_ || *p_ != '"') syntax(p_);
      string(key);
      space();
      expect(':');
      space();
      on_value();
    } while (more('}'));
  }

  // One top-level member's value, at level 2 (the root is level 1).
  void entry() {
    HeaderEntry& e = entry_;
    e.dtype_type = JsonType::Absent;
    e.dtype.clear();
    reset(e.shape);
    reset(e.data_offsets);
    e.metadata.clear();
    const char* start = p_;
    if (p_ != end_ && *p_ == '{') {
      e.type = JsonType::Object;
      object(std::string_view(e.name) == "__metadata__" ? Members::Metadata : Members::Tensor);
    } else {
      e.type = value(2);
    }
    e.text = {offset(start), offset(p_)};
    if (held_) return;
    try {
      on_entry_(e);
    } catch (const Error& error) {
      held_.emplace(error);
      held_fault_ = HeaderFault::Entry;
    }
  }

  // An entry's object, level 2: its members that a safetensors reader asks
  // for are kept, the others checked.
  void object(Members kind) {
    members(&key_, [&] {
      if (kind == Members::Metadata) {
        MetadataItem& m = entry_.metadata.emplace_back();
        m.key = key_;
        m.type = string_or_value(&m.value, &m.text);
        return;
      }
      std::string_view key = key_;
      if (key == "dtype") {
        entry_.dtype_type = string_or_value(&entry_.dtype, &entry_.dtype_text);
      } else if (key == "shape") {
        numbers(entry_.shape);
      } else if (key == "data_offsets") {
        numbers(entry_.data_offsets);
      } else {
        value(3);
      }
    });
  }

  // A level-3 value: a string's text into *out ("" for anything else, which
  // is only checked), its span into *text.
  JsonType string_or_value(std::string* out, JsonSpan* text) {
    const char* start = p_;
    out->clear();
    JsonType type = JsonType::String;
    if (p_ != end_ && *p_ == '"') string(out);
    else type = value(3);
    *text = {offset(start), offset(p_)};
    return type;
  }

  static void reset(HeaderNumbers& n) {
    n.type = JsonType::Absent;
    n.items = 0;
    n.uints.clear();
  }

  // "shape" or "data_offsets", level 3.
  void numbers(HeaderNumbers& n) {
    reset(n);
    const char* start = p_;
    if (p_ == end_ || *p_ != '[') {
      n.type = value(3);
      n.text = {offset(start), offset(p_)};
      return;
    }
    n.type = JsonType::Array;
    ++p_;
    space();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
    } else {
      do {
        item_limit(n.items, 3);
        ++n.items;
        uint64_t u = 0;
        JsonType t = (p_ != end_ && (*p_ == '-' || (*p_ >= '0' && *p_ <= '9'))) ? number(&u) : value(4);
        if (t == JsonType::Unsigned && n.uints.size() + 1 == n.items) n.uints.push_back(u);
      } while (more(']'));
    }
    n.text = {offset(start), offset(p_)};
  }

  // Before an item of an array at `level` that already holds `items`: the
  // limit on items, checked after a too-deep item's own nesting (the order
  // of nlohmann's events, which the reader followed before).
  void item_limit(uint64_t items, int level) {
    if (items < kMaxItems || held_) return;
    if (level + 1 > kMaxDepth && p_ != end_ && (*p_ == '[' || *p_ == '{')) too_deep();
    hold("safetensors tensor '" + entry_.name + "' has an array of more than " + std::to_string(kMaxItems) +
             " items",
         HeaderFault::ArrayItems);
  }
  void too_deep() {
    hold("safetensors header nests deeper than " + std::to_string(kMaxDepth) + " levels", HeaderFault::Shape);
  }

  // Any value, checked and skipped; a container at `level`. Iterative, so
  // that a text nested a million deep (whose depth error waits for the
  // syntax check) costs no native stack.
  JsonType value(int level) {
    if (p_ == end_) syntax(p_);
    char c = *p_;
    if (c == '"') {
      string(nullptr);
      return JsonType::String;
    }
    if (c != '[' && c != '{') return scalar();
    JsonType type = c == '[' ? JsonType::Array : JsonType::Object;
    // Per open container: whether an object, and (within the depth limit,
    // where the item limit applies) how many items an array holds.
    std::vector<bool>& objects = objects_;
    objects.clear();
    uint64_t items[kMaxDepth + 2];
    auto depth = [&] { return level + static_cast<int>(objects.size()) - 1; };  // of the innermost
    auto open = [&] {
      bool object = *p_ == '{';
      ++p_;
      objects.push_back(object);
      if (depth() > kMaxDepth) too_deep();
      else items[depth()] = 0;
      space();
      if (p_ != end_ && *p_ == (object ? '}' : ']')) {
        ++p_;
        return false;  // empty
      }
      return true;
    };
    // Before each member or item of the innermost container.
    auto before_item = [&] {
      if (objects.back()) {
        if (p_ == end_ || *p_ != '"') syntax(p_);
        string(nullptr);
        space();
        expect(':');
        space();
      } else if (depth() <= kMaxDepth) {
        item_limit(items[depth()]++, depth());
      }
    };
    bool filled = open();
    for (;;) {
      if (filled) {
        before_item();
        if (p_ == end_) syntax(p_);
        if (*p_ == '[' || *p_ == '{') {
          filled = open();
          continue;
        }
        if (*p_ == '"') string(nullptr);
        else scalar();
      }
      // The innermost container is closed (when empty) or holds an item.
      for (;;) {
        if (filled && more(objects.back() ? '}' : ']')) break;
        objects.pop_back();
        if (objects.empty()) return type;
        filled = true;
      }
      filled = true;
    }
  }

  JsonType scalar() {
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

  void literal(const char* word) {
    for (; *word; ++word, ++p_)
      if (p_ == end_ || *p_ != *word) syntax(p_);
  }

  bool digit() const { return p_ != end_ && *p_ >= '0' && *p_ <= '9'; }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; sets *u when Unsigned.
  JsonType number(uint64_t* u) {
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

  // Whether the number [b, e) is beyond a double's range (underflow is 0).
  static bool overflows(const char* b, const char* e) {
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

  // A string from its opening quote; decoded into *out unless null.
  void string(std::string* out) {
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

  // One multi-byte UTF-8 character, well formed as RFC 3629 has it.
  void utf8() {
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

  void escape(std::string* out) {
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

  uint32_t hex4() {
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

  static void put_utf8(std::string& s, uint32_t cp) {
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

  const char* begin_;
  const char* p_;
  const char* end_;
  uint64_t base_;
  const HeaderEntryFn& on_entry_;
  std::optional<Error> held_;
  HeaderFault held_fault_ = HeaderFault::Entry, fault_ = HeaderFault::Entry;
  HeaderEntry entry_;
  std::string key_;             // of the member being read
  std::vector<bool> objects_;  // value()'s stack, kept for its capacity
};

}  // namespace

void for_each_header_entry(std::string_view text, uint64_t base, const HeaderEntryFn& on_entry,
                           HeaderFault* fault) {
  HeaderParser parser(text, base, on_entry);
  try {
    parser.run();
  } catch (const Error&) {
    if (fault) *fault = parser.fault();
    throw;
  }
}

std::string json_dump(std::string_view text, JsonSpan value) {
  return nlohmann::json::parse(text.substr(value.begin, value.end - value.begin)).dump();
}

}  // namespace ptscope
