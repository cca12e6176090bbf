// The JSON header of a safetensors file, read one top-level entry at a
// time for untrusted files:
//
//   {"__metadata__": {str: str}, NAME: {"dtype": str, "shape": [u64...],
//    "data_offsets": [u64, u64]}, ...}
//
// Strict RFC 8259 JSON, as serde_json (the safetensors library's parser)
// and nlohmann (this reader's predecessor) read it: no trailing commas,
// leading zeros, control characters in strings, invalid escapes or UTF-8,
// lone surrogates, numbers that overflow a double, or anything but
// whitespace after the root. Linear in the text, no DOM: an entry comes as
// a HeaderEntry that keeps what a safetensors reader asks of it (its dtype,
// shape and data_offsets, or the members of "__metadata__") and where each
// value lies in the text, for messages; everything else is checked and
// skipped.
//
// A malformed text says so whatever its entries hold: the first error of an
// entry, the reader's own (not an object, nesting over
// limits::kMaxSafetensorsDepth, an array over limits::kMaxTensorDims items)
// or the one the callback throws, is held back until the whole text has
// proved to be JSON, and no entry is handed on after it. Entries are handed
// on as they are read, before the rest is checked: a caller keeps nothing
// from them that it cannot drop when the call throws. A NUL byte is no
// whitespace (nlohmann took one outside a string for the end of the text;
// serde_json refuses it, and so does this reader).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "json_text.h"

namespace ptscope {

// Where a value lies in the header text.
struct JsonSpan {
  size_t begin = 0, end = 0;
};

// "shape" or "data_offsets": an array of unsigned integers, or whatever the
// file holds there instead.
struct HeaderNumbers {
  JsonType type = JsonType::Absent;
  JsonSpan text;
  size_t items = 0;             // when an array
  std::vector<uint64_t> uints;  // its items up to the first that is not Unsigned
  bool all_unsigned() const { return uints.size() == items; }
};

// One member of "__metadata__".
struct MetadataItem {
  std::string key;
  JsonType type = JsonType::Absent;
  std::string value;  // when a string, decoded
  JsonSpan text;
};

// One top-level entry. Of an object's members named "dtype", "shape" or
// "data_offsets" the last counts, as in nlohmann's and serde's maps.
struct HeaderEntry {
  std::string name;  // decoded; the callback may move it away
  JsonType type = JsonType::Absent;
  JsonSpan text;
  JsonType dtype_type = JsonType::Absent;
  JsonSpan dtype_text;
  std::string dtype;  // when a string, decoded
  HeaderNumbers shape, data_offsets;
  std::vector<MetadataItem> metadata;  // the "__metadata__" object's members, in text order
};

using HeaderEntryFn = std::function<void(HeaderEntry& entry)>;

// Which of for_each_header_entry's errors it threw, for a caller that
// treats them apart (a scan reports a syntax error alone, and an array
// over ptscope's bound as not scanned rather than as the file's fault).
enum class HeaderFault : uint8_t {
  Syntax,      // "safetensors header is not valid JSON"
  Shape,       // "... is not a JSON object", "... nests deeper than N levels"
  ArrayItems,  // "safetensors tensor 'NAME' has an array of more than N items"
  Entry,       // the callback's own error
};

// Calls on_entry for each top-level entry in text order. Throws Error:
// "safetensors header is not valid JSON" at `base` (where the text lies in
// the file) plus the offending byte; then, held back as above, "... is not
// a JSON object", "... nests deeper than N levels" or "safetensors tensor
// 'NAME' has an array of more than N items", each at `base`, or the
// callback's own error. `fault`, when given, says which.
void for_each_header_entry(std::string_view text, uint64_t base, const HeaderEntryFn& on_entry,
                           HeaderFault* fault = nullptr);

// A value of the text as nlohmann writes it (compact, object keys sorted,
// the last of a repeated key), for messages and for metadata that is not a
// string: rare paths, read again on demand.
std::string json_dump(std::string_view text, JsonSpan value);

}  // namespace ptscope
