// The header's structure on json_text.h's tokens.
#include "safetensors_header.h"

#include <optional>

#include <nlohmann/json.hpp>

#include "ptscope/error.h"
#include "ptscope/limits.h"

namespace ptscope {
namespace {

constexpr int kMaxDepth = limits::kMaxSafetensorsDepth;
constexpr uint64_t kMaxItems = limits::kMaxTensorDims;

// Where the parse stands inside an entry's object.
enum class Members { Tensor, Metadata };

class HeaderParser : public JsonText {
 public:
  HeaderParser(std::string_view text, uint64_t base, const HeaderEntryFn& on_entry)
      : JsonText(text, base, "safetensors header is not valid JSON"), on_entry_(on_entry) {}

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
    if (held_) throw *held_;
  }
  // Which error run() threw.
  HeaderFault fault() const { return syntax_failed() ? HeaderFault::Syntax : held_fault_; }

 private:
  // Keeps the first error of the entries for after the syntax check.
  void hold(const std::string& message, HeaderFault fault) {
    if (held_) return;
    held_.emplace(message, base_);
    held_fault_ = fault;
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

  const HeaderEntryFn& on_entry_;
  std::optional<Error> held_;
  HeaderFault held_fault_ = HeaderFault::Entry;
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
