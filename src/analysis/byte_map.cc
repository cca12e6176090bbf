// The byte map: every byte of the file under one label. Regions the readers
// labelled are laid end to end; gaps become label::kUnlabelled; storage regions
// split into the bytes some tensor reaches and the rest.
#include "byte_map.h"

#include <algorithm>
#include <map>
#include <vector>

#include "region_labels.h"
#include "tensor_layout.h"

namespace ptscope {
namespace {

// Elements below 2**62 bytes for any dtype: products stay in 64 bits.
constexpr uint64_t kMaxMappedElements = uint64_t{1} << 58;

// Bytes of each storage that some tensor can reach: the union of the
// element spans [offset, offset + extent) of the tensors over it (a sparse
// tensor reaches through its indices and values).
// Storage indices are dense (0 .. storages - 1): tables indexed by them.
std::vector<uint64_t> used_storage_bytes(const Checkpoint& c) {
  std::vector<std::vector<std::pair<uint64_t, uint64_t>>> spans(c.storages.size());
  for (const Tensor& entry : c.tensors)
    for (const Tensor* t : stored_tensors(entry)) {
      if (t->storage < 0 || static_cast<size_t>(t->storage) >= spans.size() || t->numel == 0) continue;
      // Readers checked these layouts; a view that still overflows reaches no
      // bytes we could map.
      uint64_t extent = tensor_layout(t->shape, t->stride, kMaxMappedElements).extent;
      if (extent == 0) continue;
      uint64_t size = dtype_size(t->dtype);
      spans[static_cast<size_t>(t->storage)].push_back(
          {t->storage_offset * size, (t->storage_offset + extent) * size});
    }
  std::vector<uint64_t> used(spans.size(), 0);
  for (size_t storage = 0; storage < spans.size(); ++storage) {
    std::vector<std::pair<uint64_t, uint64_t>>& v = spans[storage];
    if (v.empty()) continue;
    std::sort(v.begin(), v.end());
    uint64_t total = 0, cur_begin = v[0].first, cur_end = v[0].second;
    for (const auto& [b, e] : v) {
      if (b > cur_end) {
        total += cur_end - cur_begin;
        cur_begin = b;
      }
      cur_end = std::max(cur_end, e);
    }
    used[storage] = total + (cur_end - cur_begin);
  }
  return used;
}

// Storages whose every tensor is a quantized weight's metadata (scales,
// zeros, group indices, quant state): bytes the model needs, not unused ones.
std::vector<bool> quant_metadata_storages(const Checkpoint& c) {
  std::vector<char> any(c.storages.size(), 0), all_meta(c.storages.size(), 1);
  for (const Tensor& t : c.tensors)
    if (t.storage >= 0 && static_cast<size_t>(t.storage) < any.size()) {
      any[static_cast<size_t>(t.storage)] = 1;
      if (t.role != Role::QuantMeta) all_meta[static_cast<size_t>(t.storage)] = 0;
    }
  std::vector<bool> out(any.size());
  for (size_t i = 0; i < any.size(); ++i) out[i] = any[i] && all_meta[i];
  return out;
}

}  // namespace

std::vector<ByteRange> byte_ranges(const Checkpoint& c) {
  std::vector<Region> regions = c.regions;
  std::stable_sort(regions.begin(), regions.end(),
                   [](const Region& a, const Region& b) { return a.offset < b.offset; });
  std::vector<uint64_t> used = used_storage_bytes(c);
  std::vector<bool> meta = quant_metadata_storages(c);
  std::vector<ByteRange> out;
  uint64_t cursor = 0, file = c.file_bytes;
  auto emit = [&](uint64_t at, uint64_t n, std::string_view label) {
    if (n) out.push_back({at, n, label});
  };
  for (const Region& r : regions) {
    if (r.offset >= file) continue;
    if (r.offset > cursor) emit(cursor, r.offset - cursor, label::kUnlabelled);
    uint64_t begin = std::max(r.offset, cursor);
    uint64_t end = r.size > file - r.offset ? file : r.offset + r.size;
    if (end <= begin) continue;
    if (r.storage >= 0) {
      // Overlapping regions are clipped, so the split uses what is left.
      size_t st = static_cast<size_t>(r.storage);
      bool known = st < used.size();
      uint64_t tensor = known ? std::min(end - begin, used[st]) : 0;
      if (known) used[st] -= tensor;
      emit(begin, tensor, known && meta[st] ? label::kQuantMetadata : label::kTensorData);
      emit(begin + tensor, end - begin - tensor, label::kUnusedStorage);
    } else {
      emit(begin, end - begin, r.label);
    }
    cursor = end;
  }
  if (cursor < file) emit(cursor, file - cursor, label::kUnlabelled);
  return out;
}

std::vector<ByteMapRow> byte_map(const std::vector<ByteRange>& ranges) {
  std::map<std::string_view, uint64_t> sums;
  for (const ByteRange& r : ranges) sums[r.label] += r.size;
  std::vector<ByteMapRow> rows;
  for (std::string_view label : label::kOrder) {
    auto it = sums.find(label);
    if (it == sums.end()) continue;
    rows.push_back({std::string(it->first), it->second});
    sums.erase(it);
  }
  for (const auto& [label, bytes] : sums) rows.push_back({std::string(label), bytes});
  return rows;
}

}  // namespace ptscope
