// Where every byte of the file goes. The ranges tile the file exactly;
// summed per label they give the byte map, whose rows add up to the file
// size ("unlabelled" catches what no reader claimed).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ptscope/checkpoint.h"

namespace ptscope {

// A contiguous range of the file with its label. Storage records are split
// into the bytes tensors reach ("tensor data") and the rest ("unused storage").
struct ByteRange {
  uint64_t offset = 0, size = 0;
  std::string_view label;  // one of region_labels.h
};
// Each range, in file order, as it is found: a byte map needs only sums.
void for_each_byte_range(const Checkpoint& c, const std::function<void(const ByteRange&)>& out);
std::vector<ByteRange> byte_ranges(const Checkpoint& c);

struct ByteMapRow {
  std::string label;
  uint64_t bytes = 0;
};
// byte_ranges summed per label, in the labels' report order.
std::vector<ByteMapRow> byte_map(const std::vector<ByteRange>& ranges);
// The same of one checkpoint, keeping no ranges.
std::vector<ByteMapRow> byte_map(const Checkpoint& c);

}  // namespace ptscope
