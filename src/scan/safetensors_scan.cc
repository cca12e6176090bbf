// safetensors holds no code. What a reviewer still wants to know is whether
// the header keeps to the strict format that safetensors' own loader
// (safetensors/src/tensor.rs, Metadata::validate) enforces, since other
// readers are laxer:
//
//   u64 little-endian N | N bytes of JSON, space-padded | data
//   {"__metadata__": {str: str}, NAME: {"dtype", "shape", "data_offsets": [b, e]}}
//   the data_offsets, sorted, tile [0, data size) with no hole and no overlap
#include <algorithm>
#include <nlohmann/json.hpp>

#include "file_scan.h"
#include "json_entries.h"
#include "ptscope/dtype.h"
#include "ptscope/error.h"
#include "ptscope/limits.h"

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
  auto entry = [&](const std::string& name, nlohmann::json& v) {
    if (name == "__metadata__") {
      if (!v.is_object()) {
        strict(f, where, "__metadata__ is not an object");
        return;
      }
      for (auto m = v.begin(); m != v.end(); ++m)
        if (!m.value().is_string()) strict(f, where, "__metadata__ value '" + m.key() + "' is not a string");
      return;
    }
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets") ||
        !v["dtype"].is_string() || !v["shape"].is_array() || !v["data_offsets"].is_array() ||
        v["data_offsets"].size() != 2 || !v["data_offsets"][0].is_number_unsigned() ||
        !v["data_offsets"][1].is_number_unsigned()) {
      strict(f, where, "tensor '" + name + "' lacks a string dtype, a shape or two data_offsets");
      return;
    }
    uint64_t b = v["data_offsets"][0].get<uint64_t>(), e = v["data_offsets"][1].get<uint64_t>();
    if (e < b || e > data_size) {
      strict(f, where, "tensor '" + name + "' has data_offsets outside the data");
      return;
    }
    auto dtype = dtype_from_safetensors(v["dtype"].get<std::string>());
    uint64_t numel = 1;
    bool shape_ok = true;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_unsigned() || (d.get<uint64_t>() && numel > (1ull << 62) / d.get<uint64_t>())) {
        shape_ok = false;
        break;
      }
      numel *= d.get<uint64_t>();
    }
    if (!shape_ok) strict(f, where, "tensor '" + name + "' has a malformed shape");
    else if (dtype && numel * dtype_size(*dtype) != e - b)
      strict(f, where, "tensor '" + name + "' spans " + std::to_string(e - b) + " bytes, its shape needs " +
                           std::to_string(numel * dtype_size(*dtype)));
    spans.emplace_back(b, e);
  };
  // One entry at a time, linear in the header (io/json_entries.h).
  try {
    for_each_json_entry(where.src.read_string(8, n, "safetensors header"), 8, entry);
  } catch (const Error& e) {
    // Syntax and nesting are the library's rules; the array bound is ours
    // (limits::kMaxTensorDims), which the library does not have.
    if (e.message().find("items") != std::string::npos)
      f.note(Severity::Info, "not-scanned", where.record, where.at(8),
             e.message() + ": ptscope reads no longer array, the rest of the header was not checked");
    else
      strict(f, where, e.message());
    return format;
  }
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
