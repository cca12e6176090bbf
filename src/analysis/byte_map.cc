// The byte map: every byte of the file under one label. Regions the readers
// labelled are laid end to end; gaps become label::kUnlabelled; storage regions
// split into the bytes some tensor reaches and the rest.
#include "byte_map.h"

#include <algorithm>
#include <numeric>
#include <tuple>
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
  // (storage, begin, end) in one table: most storages have one span, and a
  // table per storage was a small allocation each.
  struct Span {
    size_t storage;
    uint64_t begin, end;
    bool operator<(const Span& o) const { return std::tie(storage, begin, end) < std::tie(o.storage, o.begin, o.end); }
  };
  std::vector<Span> spans;
  spans.reserve(c.tensors.size());
  for (const Tensor& entry : c.tensors)
    for_each_stored(entry, [&](const Tensor& t) {
      if (t.storage < 0 || static_cast<size_t>(t.storage) >= c.storages.size() || t.numel == 0) return;
      // Readers checked these layouts; a view that still overflows reaches no
      // bytes we could map.
      uint64_t extent = tensor_layout(t.shape, t.stride, kMaxMappedElements).extent;
      if (extent == 0) return;
      uint64_t size = dtype_size(t.dtype);
      spans.push_back({static_cast<size_t>(t.storage), t.storage_offset * size,
                       (t.storage_offset + extent) * size});
    });
  std::sort(spans.begin(), spans.end());
  std::vector<uint64_t> used(c.storages.size(), 0);
  for (size_t i = 0; i < spans.size();) {
    size_t storage = spans[i].storage;
    uint64_t total = 0, cur_begin = spans[i].begin, cur_end = spans[i].end;
    for (; i < spans.size() && spans[i].storage == storage; ++i) {
      if (spans[i].begin > cur_end) {
        total += cur_end - cur_begin;
        cur_begin = spans[i].begin;
      }
      cur_end = std::max(cur_end, spans[i].end);
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

void for_each_byte_range(const Checkpoint& c, const std::function<void(const ByteRange&)>& out) {
  // Regions in file order: readers mostly give them so, and sorting their
  // positions, not copies, keeps a 100k-record archive's table single.
  auto by_offset = [&](uint32_t a, uint32_t b) { return c.regions[a].offset < c.regions[b].offset; };
  std::vector<uint32_t> order(c.regions.size());
  std::iota(order.begin(), order.end(), uint32_t{0});
  if (!std::is_sorted(order.begin(), order.end(), by_offset))
    std::stable_sort(order.begin(), order.end(), by_offset);
  std::vector<uint64_t> used = used_storage_bytes(c);
  std::vector<bool> meta = quant_metadata_storages(c);
  uint64_t cursor = 0, file = c.file_bytes;
  auto emit = [&](uint64_t at, uint64_t n, std::string_view label) {
    if (n) out(ByteRange{at, n, label});
  };
  for (uint32_t i : order) {
    const Region& r = c.regions[i];
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
}

std::vector<ByteRange> byte_ranges(const Checkpoint& c) {
  std::vector<ByteRange> out;
  for_each_byte_range(c, [&](const ByteRange& r) { out.push_back(r); });
  return out;
}

namespace {

// Bytes per label, rows in the labels' report order. Labels are literals,
// and a file's ranges take turns among a few: each literal's sum is found
// by name once, then by its address.
class LabelSums {
 public:
  void add(const ByteRange& r) {
    for (auto& [at, sum] : by_address_)
      if (at == r.label.data()) {
        *sum += r.size;
        return;
      }
    uint64_t* sum = &sums_[r.label];  // std::map: the node stays put
    by_address_.emplace_back(r.label.data(), sum);
    *sum += r.size;
  }
  std::vector<ByteMapRow> rows() {
    std::vector<ByteMapRow> rows;
    for (std::string_view label : label::kOrder) {
      auto it = sums_.find(label);
      if (it == sums_.end()) continue;
      rows.push_back({std::string(it->first), it->second});
      sums_.erase(it);
    }
    for (const auto& [label, bytes] : sums_) rows.push_back({std::string(label), bytes});
    return rows;
  }

 private:
  std::map<std::string_view, uint64_t> sums_;
  std::vector<std::pair<const char*, uint64_t*>> by_address_;
};

}  // namespace

std::vector<ByteMapRow> byte_map(const std::vector<ByteRange>& ranges) {
  LabelSums sums;
  for (const ByteRange& r : ranges) sums.add(r);
  return sums.rows();
}

std::vector<ByteMapRow> byte_map(const Checkpoint& c) {
  LabelSums sums;
  for_each_byte_range(c, [&](const ByteRange& r) { sums.add(r); });
  return sums.rows();
}

}  // namespace ptscope
