// How a tensor's shape and stride lay its elements over a storage: how many
// there are and how far the view reaches. Sizes come from untrusted files,
// so every product is checked against a limit before it is formed.
#pragma once

#include <cstdint>
#include <vector>

namespace ptscope {

struct TensorLayout {
  enum class Problem { None, Negative, NumelOverflow, ExtentOverflow };
  uint64_t numel = 0;
  // Elements from the view's first element to one past its furthest,
  // 1 + sum((size - 1) * stride); 0 when numel is 0.
  uint64_t extent = 0;
  Problem problem = Problem::None;
};

// `limit` bounds numel and extent (elements); the first problem found wins.
TensorLayout tensor_layout(const std::vector<int64_t>& shape, const std::vector<int64_t>& stride,
                           uint64_t limit);

// Row-major strides, as torch.empty(shape) has them (a size-0 or size-1
// dimension steps like a size-1 one).
std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& shape);

}  // namespace ptscope
