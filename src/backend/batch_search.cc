#include "batch_search.h"

namespace ptscope {

BatchSearch search_max_batch(const std::function<bool(int64_t)>& fits, int64_t limit) {
  BatchSearch s;
  auto attempt = [&](int64_t batch) {
    bool ok = fits(batch);
    s.tries.push_back({batch, ok});
    return ok;
  };
  if (limit < 1) return s;
  int64_t good = 0, bad = limit + 1;
  for (int64_t b = 1; b <= limit; b = b > limit / 2 ? limit : b * 2) {
    if (!attempt(b)) {
      bad = b;
      break;
    }
    good = b;
    if (b == limit) break;
  }
  while (bad - good > 1) {
    int64_t mid = good + (bad - good) / 2;
    (attempt(mid) ? good : bad) = mid;
  }
  s.max_batch = good;
  return s;
}

}  // namespace ptscope
