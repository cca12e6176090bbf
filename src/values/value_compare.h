// Tensor values compared from the files: a hash of each tensor's elements
// and, for a pair, how far apart they are. Both tensors are streamed side by
// side in chunks (tensor_stream.h), so memory stays a few chunks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ptscope/checkpoint.h"
#include "tensor_stream.h"
#include "value_diff.h"

namespace ptscope {

// 64-bit hash of a tensor's elements in logical order: FNV-1a's
// multiply-xor over 8-byte little-endian words (the tail zero-padded),
// finished with the byte count and a murmur3 fmix64. Not cryptographic:
// it finds equal data, it does not prove files trustworthy. Equal dtype and
// elements give equal hashes whatever the file format or the view's strides.
struct ValueHash {
  uint64_t hash = 0;
  std::string not_hashed;  // why the elements could not be read; "" when hashed
};
ValueHash hash_values(const TensorFile& f, const Tensor& t);

// How two tensors of the same shape differ, read side by side.
ValueDiff compare_values(const TensorFile& fa, const Tensor& a, const TensorFile& fb, const Tensor& b);

}  // namespace ptscope
