// safetensors: an 8-byte little-endian header length N, N bytes of JSON
// (padded with spaces), then the tensor bytes. The JSON maps each name to
// {"dtype", "shape", "data_offsets": [begin, end]} relative to the data
// start, plus an optional "__metadata__" map of strings.
#include <algorithm>
#include <functional>
#include <numeric>
#include <unordered_set>

#include "ptscope/error.h"
#include "ptscope/limits.h"
#include "reader.h"
#include "region_labels.h"
#include "safetensors_header.h"
#include "tensor_layout.h"
#include "keyed_hash.h"

namespace ptscope {
namespace {

constexpr uint64_t kMaxHeader = limits::kMaxSafetensorsHeader;
constexpr int kMaxDepth = limits::kMaxSafetensorsDepth;

uint64_t header_length(const ByteSource& src) { return src.read_u64(0, "safetensors header length"); }

// Deep nesting, at the first bracket too deep even where the text is no
// JSON at all: this reader's first complaint, before any other the header
// earns. Over a JSON text of at most kMaxDepth levels it finds nothing, so
// it runs only once the parse has failed, to choose the message.
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
      if (++depth > kMaxDepth)
        throw Error("safetensors header nests deeper than " + std::to_string(kMaxDepth) +
                        " levels",
                    8 + i);
    } else if (ch == '}' || ch == ']') {
      --depth;
    }
  }
}

// Item i of a shape or data_offsets array (i < items).
uint64_t json_uint(const HeaderNumbers& n, size_t i, const std::string& what) {
  if (i >= n.uints.size()) throw Error("safetensors tensor '" + what + "' is not a non-negative integer", 8);
  return n.uints[i];
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

  Checkpoint read(const ByteSource& src, const RootVisitor&, ZipShare*) const override {
    uint64_t n = header_length(src);
    if (n > kMaxHeader)
      throw Error("safetensors header of " + std::to_string(n) + " bytes is over the " +
                      std::to_string(kMaxHeader) + "-byte limit",
                  0);
    std::string text = src.read_string(8, n, "safetensors header");

    Checkpoint c;
    c.format = Format::Safetensors;
    c.roles_known = true;  // a flat name -> tensor map, like a state_dict
    c.regions.push_back({0, 8 + n, label::kSafetensorsHeader, -1});
    uint64_t base = 8 + n, data_bytes = src.size() - base;
    std::unordered_set<std::string, KeyedHash> names;
    std::vector<std::pair<uint64_t, uint64_t>> extents;  // data_offsets, per tensor
    auto add = [&](HeaderEntry& entry) {
      const std::string& name = entry.name;
      if (!names.insert(name).second)
        throw Error("safetensors header names '" + name + "' twice", 8);
      if (name == "__metadata__") {
        if (entry.type != JsonType::Object) throw Error("safetensors __metadata__ is not an object", 8);
        // A repeated key: the last counts, as in a JSON map.
        for (MetadataItem& m : entry.metadata)
          c.metadata[m.key] = m.type == JsonType::String ? std::move(m.value) : json_dump(text, m.text);
        return;
      }
      c.tensors.push_back(read_tensor(text, entry, data_bytes));  // takes the name
      Tensor& t = c.tensors.back();
      uint64_t begin = entry.data_offsets.uints[0];
      extents.emplace_back(begin, begin + t.nbytes());
      Storage s;
      s.key = t.name;
      s.dtype = t.dtype;
      s.nbytes = t.nbytes();
      s.file_offset = base + begin;
      c.storages.push_back(s);
      t.storage = static_cast<int>(c.storages.size() - 1);
      c.regions.push_back({base + begin, s.nbytes, label::kTensorData, t.storage});
    };
    try {
      for_each_header_entry(text, 8, add);
    } catch (const Error&) {
      check_depth(text);
      throw;
    }
    check_tiling(c.tensors, extents, data_bytes);
    return c;
  }

 private:
  // As the safetensors library validates (tensor.rs, Metadata::validate
  // and read_metadata): ordered by data_offsets, each tensor starts where
  // the one before ends, and the last ends where the file does.
  static void check_tiling(const std::vector<Tensor>& tensors,
                           const std::vector<std::pair<uint64_t, uint64_t>>& extents,
                           uint64_t data_bytes) {
    std::vector<size_t> order(extents.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return extents[a] < extents[b]; });
    uint64_t end = 0;
    const Tensor* last = nullptr;
    for (size_t i : order) {
      auto [b, e] = extents[i];
      if (b < end)
        throw Error("safetensors tensors '" + last->name + "' and '" + tensors[i].name +
                        "' overlap",
                    8);
      if (b > end)
        throw Error("safetensors tensor '" + tensors[i].name + "' starts at data offset " +
                        std::to_string(b) + ", leaving a hole of " + std::to_string(b - end) +
                        " bytes",
                    8);
      end = e;
      last = &tensors[i];
    }
    if (end != data_bytes)
      throw Error("safetensors tensors end at data offset " + std::to_string(end) +
                      " but the file holds " + std::to_string(data_bytes) + " data bytes",
                  8);
  }

  static Tensor read_tensor(std::string_view text, HeaderEntry& entry, uint64_t data_bytes) {
    const std::string& name = entry.name;
    if (entry.type != JsonType::Object || entry.dtype_type == JsonType::Absent ||
        entry.shape.type == JsonType::Absent || entry.data_offsets.type == JsonType::Absent)
      throw Error("safetensors tensor '" + name + "' lacks dtype, shape or data_offsets", 8);
    auto dtype = entry.dtype_type == JsonType::String ? dtype_from_safetensors(entry.dtype) : std::nullopt;
    if (!dtype)
      throw Error("safetensors tensor '" + name + "' has an unknown dtype " + json_dump(text, entry.dtype_text), 8);
    const HeaderNumbers& shape = entry.shape;
    const HeaderNumbers& offs = entry.data_offsets;
    if (shape.type != JsonType::Array || offs.type != JsonType::Array || offs.items != 2)
      throw Error("safetensors tensor '" + name + "' has a malformed shape or data_offsets", 8);
    Tensor t;
    t.dtype = *dtype;
    // Bound the product of the nonzero sizes, in bytes: it bounds numel,
    // nbytes and the strides, even when a zero size makes numel 0.
    uint64_t numel = 1, span = 1, limit = (uint64_t{1} << 62) / dtype_size(*dtype);
    t.shape.reserve(shape.items);
    for (size_t i = 0; i < shape.items; ++i) {
      uint64_t v = json_uint(shape, i, name);
      if (v > 1 && span > limit / v)
        throw Error("safetensors tensor '" + name + "' numel overflows", 8);
      span *= std::max<uint64_t>(v, 1);
      numel *= v;
      t.shape.push_back(static_cast<int64_t>(v));
    }
    t.stride = contiguous_strides(t.shape);
    t.numel = numel;
    uint64_t begin = json_uint(offs, 0, name), end = json_uint(offs, 1, name);
    if (begin > end || end > data_bytes)
      throw Error("safetensors tensor '" + name + "' data_offsets [" + std::to_string(begin) +
                      ", " + std::to_string(end) + "] lie outside the " +
                      std::to_string(data_bytes) + " data bytes",
                  8);
    if (end - begin != t.nbytes())
      throw Error("safetensors tensor '" + name + "' has " + std::to_string(end - begin) +
                      " bytes for " + std::to_string(t.nbytes()) + " bytes of elements",
                  8);
    t.name = std::move(entry.name);  // the entry's last use of it
    return t;
  }
};

}  // namespace

std::unique_ptr<Reader> make_safetensors_reader() {
  return std::make_unique<SafetensorsReader>();
}

}  // namespace ptscope
