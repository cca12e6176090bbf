// The top-level entries of a JSON object, one at a time, for headers of
// untrusted files (safetensors): linear in the text, and memory one entry
// at a time. Each entry's value is built as a small nlohmann DOM, handed to
// the callback in file order and dropped; no JSON array may hold more than
// limits::kMaxTensorDims items (a 40-million-dimension shape made
// gigabytes of DOM). Syntax is checked over the whole text first, so a
// malformed text says so whatever its entries hold.
//
// nlohmann's ordered_json looks keys up linearly (100,000 tensors took
// 11 s) and its callback parser rescans an object on each member it closes:
// neither is used here.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace ptscope {

using JsonEntry = std::function<void(const std::string& name, nlohmann::json& value)>;

// Throws Error: "safetensors header is not valid JSON" at `base` plus the
// offending byte, "... is not a JSON object", or an array over the limit
// (naming the entry), each at `base` (where the text lies in the file).
void for_each_json_entry(const std::string& text, uint64_t base, const JsonEntry& on_entry);

}  // namespace ptscope
