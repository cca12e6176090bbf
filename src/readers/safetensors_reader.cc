// safetensors: an 8-byte little-endian header length N, N bytes of JSON
// (padded with spaces), then the tensor bytes. The JSON maps each name to
// {"dtype", "shape", "data_offsets": [begin, end]} relative to the data
// start, plus an optional "__metadata__" map of strings.
#include <nlohmann/json.hpp>

#include "ptscope/error.h"
#include "reader.h"
#include "region_labels.h"
#include "tensor_layout.h"

namespace ptscope {
namespace {

constexpr uint64_t kMaxHeader = 100u << 20;  // the safetensors library's own limit
constexpr int kMaxDepth = 16;

uint64_t header_length(const ByteSource& src) { return src.read_u64(0, "safetensors header length"); }

// Rejects deep nesting before nlohmann builds (and later destroys) it recursively.
void check_depth(const std::string& json) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    char ch = json[i];
    if (in_string) {
      if (ch == '\\') ++i;
      else if (ch == '"') in_string = false;
    } else if (ch == '"') {
      in_string = true;
    } else if (ch == '{' || ch == '[') {
      if (++depth > kMaxDepth) throw Error("safetensors header nests deeper than 16 levels", 8 + i);
    } else if (ch == '}' || ch == ']') {
      --depth;
    }
  }
}

uint64_t json_uint(const nlohmann::ordered_json& v, const std::string& what) {
  if (!v.is_number_unsigned()) throw Error("safetensors tensor '" + what + "' is not a non-negative integer", 8);
  return v.get<uint64_t>();
}

class SafetensorsReader : public Reader {
 public:
  bool accepts(const ByteSource& src) const override {
    if (src.size() < 9) return false;
    uint64_t n = header_length(src);
    char brace = 0;
    if (n < 2) return false;  // a length past the end is a truncated file: read() says so
    src.read(8, &brace, 1, "safetensors header");
    return brace == '{';
  }

  Checkpoint read(const ByteSource& src, const RootVisitor&) const override {
    uint64_t n = header_length(src);
    if (n > kMaxHeader) throw Error("safetensors header of " + std::to_string(n) + " bytes is over the 100 MiB limit", 0);
    std::string text = src.read_string(8, n, "safetensors header");
    check_depth(text);
    nlohmann::ordered_json header;
    try {
      header = nlohmann::ordered_json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      throw Error("safetensors header is not valid JSON", 8 + (e.byte > 0 ? e.byte - 1 : 0));
    }
    if (!header.is_object()) throw Error("safetensors header is not a JSON object", 8);

    Checkpoint c;
    c.format = Format::Safetensors;
    c.roles_known = true;  // a flat name -> tensor map, like a state_dict
    c.regions.push_back({0, 8 + n, label::kSafetensorsHeader, -1});
    uint64_t base = 8 + n, data_bytes = src.size() - base;
    for (const auto& [name, entry] : header.items()) {
      if (name == "__metadata__") {
        if (!entry.is_object()) throw Error("safetensors __metadata__ is not an object", 8);
        for (const auto& [k, v] : entry.items())
          c.metadata[k] = v.is_string() ? v.get<std::string>() : v.dump();
        continue;
      }
      c.tensors.push_back(read_tensor(name, entry, data_bytes));
      Tensor& t = c.tensors.back();
      uint64_t begin = json_uint(entry["data_offsets"][0], name);
      Storage s;
      s.key = name;
      s.dtype = t.dtype;
      s.nbytes = t.nbytes();
      s.file_offset = base + begin;
      c.storages.push_back(s);
      t.storage = static_cast<int>(c.storages.size() - 1);
      c.regions.push_back({base + begin, s.nbytes, label::kTensorData, t.storage});
    }
    return c;
  }

 private:
  static Tensor read_tensor(const std::string& name, const nlohmann::ordered_json& entry,
                            uint64_t data_bytes) {
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets"))
      throw Error("safetensors tensor '" + name + "' lacks dtype, shape or data_offsets", 8);
    const auto& dt = entry["dtype"];
    auto dtype = dt.is_string() ? dtype_from_safetensors(dt.get<std::string>()) : std::nullopt;
    if (!dtype) throw Error("safetensors tensor '" + name + "' has an unknown dtype " + dt.dump(), 8);
    const auto& shape = entry["shape"];
    const auto& offs = entry["data_offsets"];
    if (!shape.is_array() || !offs.is_array() || offs.size() != 2)
      throw Error("safetensors tensor '" + name + "' has a malformed shape or data_offsets", 8);
    Tensor t;
    t.name = name;
    t.dtype = *dtype;
    // Bound the product of the nonzero sizes, in bytes: it bounds numel,
    // nbytes and the strides, even when a zero size makes numel 0.
    uint64_t numel = 1, span = 1, limit = (uint64_t{1} << 62) / dtype_size(*dtype);
    for (const auto& d : shape) {
      uint64_t v = json_uint(d, name);
      if (v > 1 && span > limit / v)
        throw Error("safetensors tensor '" + name + "' numel overflows", 8);
      span *= std::max<uint64_t>(v, 1);
      numel *= v;
      t.shape.push_back(static_cast<int64_t>(v));
    }
    t.stride = contiguous_strides(t.shape);
    t.numel = numel;
    uint64_t begin = json_uint(offs[0], name), end = json_uint(offs[1], name);
    if (begin > end || end > data_bytes)
      throw Error("safetensors tensor '" + name + "' data_offsets [" + std::to_string(begin) +
                      ", " + std::to_string(end) + "] lie outside the " +
                      std::to_string(data_bytes) + " data bytes",
                  8);
    if (end - begin != t.nbytes())
      throw Error("safetensors tensor '" + name + "' has " + std::to_string(end - begin) +
                      " bytes for " + std::to_string(t.nbytes()) + " bytes of elements",
                  8);
    return t;
  }
};

}  // namespace

std::unique_ptr<Reader> make_safetensors_reader() {
  return std::make_unique<SafetensorsReader>();
}

}  // namespace ptscope
