// The largest batch that fits: doubling from 1 until a try fails (or the
// limit is reached), then bisection between the last batch that fit and the
// first that did not. `fits` runs the model, or simulates it in tests.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace ptscope {

struct BatchTry {
  int64_t batch = 0;
  bool fits = false;
};

struct BatchSearch {
  int64_t max_batch = 0;  // 0: not even batch 1 fits
  std::vector<BatchTry> tries;
};

// `fits` must be monotone: if a batch fits, every smaller one does.
BatchSearch search_max_batch(const std::function<bool(int64_t)>& fits, int64_t limit);

}  // namespace ptscope
