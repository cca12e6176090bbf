// What a diff knows about two tensors' values, and the seam through which
// it asks: the analysis never reads files; the values stage (src/values)
// streams the storages and answers.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "ptscope/checkpoint.h"

namespace ptscope {

// How two tensors of the same shape differ. Elements are decoded to double
// (fp16, bf16 and float8 included); NaN equals NaN.
struct ValueDiff {
  bool compared = false;
  std::string reason;        // why not compared; "" when compared
  bool equal = false;        // every element equal
  uint64_t hash_a = 0, hash_b = 0;
  uint64_t changed = 0, numel = 0;  // elements that differ, of how many
  double max_abs_diff = 0;
  double rel_l2 = 0;         // ||b - a|| / ||a||; 0 when equal; inf when a is all zeros and b is not
  // Where a is float32 and b float16/bfloat16: whether every element of b is
  // a's rounded to b's dtype (nearest-even, as .half() and .bfloat16() round).
  std::optional<bool> within_rounding;
};

// A hash as 16 lowercase hex digits, as reports print it.
inline std::string hash_hex(uint64_t h) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(h));
  return b;
}

class ValueOracle {
 public:
  virtual ~ValueOracle() = default;
  // A hash of `t`'s elements (equal dtype and elements, equal hash), or
  // nullopt when they cannot be read from the file.
  virtual std::optional<uint64_t> hash(const Checkpoint& c, const Tensor& t) = 0;
  virtual ValueDiff compare(const Checkpoint& ca, const Tensor& a, const Checkpoint& cb, const Tensor& b) = 0;
};

}  // namespace ptscope
