#include "json_entries.h"

#include <nlohmann/json.hpp>

#include "ptscope/error.h"
#include "ptscope/limits.h"

namespace ptscope {
namespace {

using json = nlohmann::json;

// `byte` is the SAX callback's position, the same count a parse_error
// carries; the exception itself may be another kind (out_of_range for a
// number too large), so it is not downcast.
[[noreturn]] void invalid_json(std::size_t byte, uint64_t base) {
  throw Error("safetensors header is not valid JSON", base + (byte > 0 ? byte - 1 : 0));
}

// Accepts any JSON text, keeping nothing; parse errors name their byte.
struct JsonCheck : nlohmann::json_sax<json> {
  explicit JsonCheck(uint64_t b) : base(b) {}
  uint64_t base;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception&) override {
    invalid_json(position, base);
  }
};

// Builds each top-level entry's value (json_entries.h).
class HeaderSax : public nlohmann::json_sax<json> {
 public:
  HeaderSax(const JsonEntry& on_entry, uint64_t base) : on_entry_(on_entry), base(base) {}

  bool null() override { return value(json()); }
  bool boolean(bool v) override { return value(json(v)); }
  bool number_integer(number_integer_t v) override { return value(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return value(json(v)); }
  bool number_float(number_float_t v, const string_t&) override { return value(json(v)); }
  bool string(string_t& v) override { return value(json(std::move(v))); }
  bool binary(binary_t&) override { return value(json()); }  // not in JSON text

  bool start_object(std::size_t) override {
    if (!root_) return root_ = true;
    deeper();
    json* slot = value(json::object());
    stack_.push_back(slot);
    return true;
  }
  bool key(string_t& k) override {
    if (stack_.empty()) {
      name_ = k;
    } else {
      key_slot_ = &(*stack_.back())[k];
    }
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override {
    if (!root_) throw Error("safetensors header is not a JSON object", base);
    deeper();
    stack_.push_back(value(json::array()));
    return true;
  }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception&) override {
    invalid_json(position, base);
  }

 private:
  // The root is level 1, an entry's value level 2.
  void deeper() {
    if (stack_.size() + 2 > static_cast<size_t>(limits::kMaxSafetensorsDepth))
      throw Error("safetensors header nests deeper than " +
                      std::to_string(limits::kMaxSafetensorsDepth) + " levels",
                  base);
  }

  // Places v where the parse stands; returns where it went.
  json* value(json v) {
    if (!root_) throw Error("safetensors header is not a JSON object", base);
    if (stack_.empty()) {  // a whole entry's value
      entry_ = std::move(v);
      if (!entry_.is_object() && !entry_.is_array()) finish();
      return &entry_;
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      if (top.size() >= limits::kMaxTensorDims)
        throw Error("safetensors tensor '" + name_ + "' has an array of more than " +
                        std::to_string(limits::kMaxTensorDims) + " items",
                    base);
      top.push_back(std::move(v));
      return &top.back();
    }
    *key_slot_ = std::move(v);
    return key_slot_;
  }
  bool close() {
    if (stack_.empty()) return true;  // the root
    stack_.pop_back();
    if (stack_.empty()) finish();
    return true;
  }
  void finish() {
    on_entry_(name_, entry_);
    entry_ = json();
  }

  const JsonEntry& on_entry_;
  uint64_t base;
  bool root_ = false;
  std::string name_;
  json entry_;
  std::vector<json*> stack_;  // containers of the entry being built
  json* key_slot_ = nullptr;
};

}  // namespace

void for_each_json_entry(const std::string& text, uint64_t base, const JsonEntry& on_entry) {
  JsonCheck syntax(base);
  json::sax_parse(text, &syntax);
  HeaderSax entries(on_entry, base);
  json::sax_parse(text, &entries);
}

}  // namespace ptscope
