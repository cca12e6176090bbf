// profile --max-batch: the largest batch whose forward fits, found by
// forwards at growing batches until one runs out of memory (or, with a
// limit, measures more than it), then bisection (batch_search.h).
#pragma once

#include <c10/core/ScalarType.h>

#include <vector>

#include "measure.h"
#include "protocol.h"
#include "runnable.h"

namespace ptscope::torch_backend {

// `weights`: the parameters' and buffers' bytes; `limit` 0: until out of
// memory; `search_limit`: the largest batch tried.
MaxBatch max_batch(Runnable& m, const std::vector<InputSpec>& specs, at::ScalarType float_type,
                   const Target& target, uint64_t weights, uint64_t limit, int64_t search_limit);

}  // namespace ptscope::torch_backend
