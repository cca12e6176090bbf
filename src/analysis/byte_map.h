// Where every byte of the file goes. The ranges tile the file exactly;
// summed per label they give the byte map, whose rows add up to the file
// size ("unlabelled" catches what no reader claimed).
#pragma once

#include <cstdint>
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
std::vector<ByteRange> byte_ranges(const Checkpoint& c);

struct ByteMapRow {
  std::string label;
  uint64_t bytes = 0;
};
// byte_ranges summed per label, in the labels' report order.
std::vector<ByteMapRow> byte_map(const std::vector<ByteRange>& ranges);

}  // namespace ptscope
