#include "tensor_layout.h"

#include <algorithm>

namespace ptscope {

TensorLayout tensor_layout(const std::vector<int64_t>& shape, const std::vector<int64_t>& stride,
                           uint64_t limit) {
  using Problem = TensorLayout::Problem;
  TensorLayout l;
  size_t dims = std::min(shape.size(), stride.size());
  uint64_t numel = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0 || (d < stride.size() && stride[d] < 0)) return {0, 0, Problem::Negative};
    uint64_t n = static_cast<uint64_t>(shape[d]);
    if (n != 0 && numel > limit / n) return {0, 0, Problem::NumelOverflow};
    numel *= n;
  }
  l.numel = numel;
  if (numel == 0) return l;
  uint64_t extent = 1;
  for (size_t d = 0; d < dims; ++d) {
    uint64_t span = static_cast<uint64_t>(shape[d] - 1), step = static_cast<uint64_t>(stride[d]);
    if (span != 0 && step > limit / span) return {numel, 0, Problem::ExtentOverflow};
    extent += span * step;
    if (extent > limit) return {numel, 0, Problem::ExtentOverflow};
  }
  l.extent = extent;
  return l;
}

std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> stride(shape.size(), 1);
  int64_t step = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    stride[i] = step;
    step *= std::max<int64_t>(shape[i], 1);
  }
  return stride;
}

}  // namespace ptscope
