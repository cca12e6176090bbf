// safetensors holds no code. What a reviewer still wants to know is whether
// the header keeps to the strict format that safetensors' own loader
// (safetensors/src/tensor.rs, Metadata::validate) enforces, since other
// readers are laxer:
//
//   u64 little-endian N | N bytes of JSON, space-padded | data
//   {"__metadata__": {str: str}, NAME: {"dtype", "shape", "data_offsets": [b, e]}}
//   the data_offsets, sorted, tile [0, data size) with no hole and no overlap
#include <algorithm>
#include <map>

#include "file_scan.h"
#include "ptscope/dtype.h"
#include "ptscope/error.h"
#include "ptscope/limits.h"
#include "safetensors_header.h"

namespace ptscope {
namespace {

constexpr uint64_t kMaxHeader = limits::kMaxSafetensorsHeader;

void strict(FileScan& f, const Place& where, const std::string& what) {
  f.note(Severity::Warning, "safetensors-header", where.record, where.at(8),
         what + ": safetensors' own loader refuses this file");
}

}  // namespace

bool looks_like_safetensors(const ByteSource& src) {
  if (src.size() < 10) return false;
  uint64_t n = src.read_u64(0, "safetensors header length");
  return n >= 2 && n <= src.size() - 8 && src.read_string(8, 1, "safetensors header") == "{";
}

std::string scan_safetensors(FileScan& f, const Place& where) {
  const char* format = "safetensors";
  uint64_t n = where.src.read_u64(0, "safetensors header length");
  if (n > kMaxHeader) {
    strict(f, where, "a header of " + std::to_string(n) + " bytes, over the 100 MB limit");
    return format;
  }
  uint64_t data_size = where.src.size() - 8 - n;
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  // Findings wait for the parse: a text that is no JSON says only that.
  std::vector<std::string> findings;
  auto entry = [&](HeaderEntry& v) {
    const std::string& name = v.name;
    if (name == "__metadata__") {
      if (v.type != JsonType::Object) {
        findings.push_back("__metadata__ is not an object");
        return;
      }
      // A JSON map: each key once, its last value, in key order.
      std::map<std::string_view, bool> is_string;
      for (const MetadataItem& m : v.metadata) is_string[m.key] = m.type == JsonType::String;
      for (const auto& [key, string] : is_string)
        if (!string) findings.push_back("__metadata__ value '" + std::string(key) + "' is not a string");
      return;
    }
    const HeaderNumbers& offs = v.data_offsets;
    if (v.type != JsonType::Object || v.dtype_type != JsonType::String || v.shape.type != JsonType::Array ||
        offs.type != JsonType::Array || offs.items != 2 || !offs.all_unsigned()) {
      findings.push_back("tensor '" + name + "' lacks a string dtype, a shape or two data_offsets");
      return;
    }
    uint64_t b = offs.uints[0], e = offs.uints[1];
    if (e < b || e > data_size) {
      findings.push_back("tensor '" + name + "' has data_offsets outside the data");
      return;
    }
    auto dtype = dtype_from_safetensors(v.dtype);
    uint64_t numel = 1;
    bool shape_ok = v.shape.all_unsigned();
    for (uint64_t d : v.shape.uints) {
      if (d && numel > (1ull << 62) / d) {
        shape_ok = false;
        break;
      }
      numel *= d;
    }
    if (!shape_ok) findings.push_back("tensor '" + name + "' has a malformed shape");
    else if (dtype && numel * dtype_size(*dtype) != e - b)
      findings.push_back("tensor '" + name + "' spans " + std::to_string(e - b) + " bytes, its shape needs " +
                         std::to_string(numel * dtype_size(*dtype)));
    spans.emplace_back(b, e);
  };
  // One entry at a time, linear in the header (io/safetensors_header.h).
  std::string text = where.src.read_string(8, n, "safetensors header");
  HeaderFault fault = HeaderFault::Entry;
  try {
    for_each_header_entry(text, 8, entry, &fault);
  } catch (const Error& e) {
    if (fault == HeaderFault::Syntax) {
      strict(f, where, e.message());
      return format;
    }
    for (const std::string& what : findings) strict(f, where, what);
    // Nesting is the library's rule; the array bound is ours
    // (limits::kMaxTensorDims), which the library does not have.
    if (fault == HeaderFault::ArrayItems)
      f.note(Severity::Info, "not-scanned", where.record, where.at(8),
             e.message() + ": ptscope reads no longer array, the rest of the header was not checked");
    else
      strict(f, where, e.message());
    return format;
  }
  for (const std::string& what : findings) strict(f, where, what);
  std::sort(spans.begin(), spans.end());
  uint64_t at = 0;
  for (const auto& [b, e] : spans) {
    if (b > at) strict(f, where, "the data has a " + std::to_string(b - at) + "-byte hole at data offset " + std::to_string(at));
    if (b < at) strict(f, where, "tensors overlap at data offset " + std::to_string(b));
    at = std::max(at, e);
  }
  if (at < data_size)
    strict(f, where, std::to_string(data_size - at) + " bytes after the last tensor belong to none");
  return format;
}

}  // namespace ptscope
