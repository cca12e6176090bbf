#include "value_text.h"

#include <cstdio>
#include <vector>

#include "scan_hooks.h"

namespace ptscope {
namespace {

class Renderer {
 public:
  std::string render(const Value* v) {
    out_.clear();
    put(v, 0);
    return out_;
  }

 private:
  static constexpr size_t kMax = 160, kMaxString = 60;
  void text(const std::string& s) {
    if (out_.size() < kMax + 8) out_ += s;
  }
  void quoted(const std::string& s, const char* prefix) {
    std::string q = prefix;
    q += '\'';
    for (size_t i = 0; i < s.size() && i < kMaxString; ++i) {
      auto u = static_cast<unsigned char>(s[i]);
      if (u == '\'' || u == '\\') {
        q += '\\';
        q += static_cast<char>(u);
      } else if (u < 0x20 || u >= 0x7f) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "\\x%02x", u);
        q += hex;
      } else {
        q += static_cast<char>(u);
      }
    }
    if (s.size() > kMaxString) q += "...";
    q += '\'';
    text(q);
  }
  void items(const std::vector<Value*>& vs, size_t depth, const char* open, const char* close,
             size_t step) {
    text(open);
    for (size_t i = 0; i < vs.size(); i += step) {
      if (out_.size() > kMax) {
        text("...");
        break;
      }
      if (i) text(", ");
      put(vs[i], depth + 1);
      if (step == 2 && i + 1 < vs.size()) {
        text(": ");
        put(vs[i + 1], depth + 1);
      }
    }
    text(close);
  }
  void put(const Value* v, size_t depth) {
    if (!v) return text("?");
    if (depth > 4 || out_.size() > kMax) return text("...");
    switch (v->kind) {
      case Kind::None: return text("None");
      case Kind::Bool: return text(v->b ? "True" : "False");
      case Kind::Int: return text(v->s.empty() ? std::to_string(v->i) : v->s);
      case Kind::Float: {
        char b[32];
        std::snprintf(b, sizeof b, "%g", v->f);
        return text(b);
      }
      case Kind::Str: return quoted(v->s, "");
      case Kind::Bytes: return quoted(v->s, "b");
      case Kind::Tuple: return items(v->items, depth, "(", ")", 1);
      case Kind::List: return items(v->items, depth, "[", "]", 1);
      case Kind::Set: return items(v->items, depth, "{", "}", 1);
      case Kind::Dict: return items(v->items, depth, "{", "}", 2);
      case Kind::Global: return text(v->s);
      case Kind::Object: return call(v, depth);
      case Kind::Tensor: return v->callable ? call(v, depth) : text("<tensor>");
      case Kind::Storage: return v->callable ? call(v, depth) : text("<storage>");
    }
  }
  // The arguments of an allowlisted tensor rebuild are left out, kept or
  // not (ScanHooks::call).
  void call(const Value* v, size_t depth) {
    put(v->callable, depth + 1);
    if (v->args && !(v->callable && drops_args(v->callable))) return items(v->args->items, depth, "(", ")", 1);
    text("(...)");
  }
  std::string out_;
};

}  // namespace

std::string value_text(const Value* v) { return Renderer().render(v); }

}  // namespace ptscope
