#include "max_batch.h"

#include <map>
#include <memory>

#include "batch_search.h"
#include "commands.h"
#include "memory_probe.h"
#include "torch_compat.h"

namespace ptscope::torch_backend {
namespace {

// Cached blocks go back to the driver between --max-batch tries, so each
// try starts from the same state and a failed one leaves nothing behind.
void release_cached_blocks(const Target& target) {
  if (target.device.is_cuda()) compat::cuda_empty_cache();
}

bool is_out_of_memory(const c10::Error& e) {
  return dynamic_cast<const c10::OutOfMemoryError*>(&e) != nullptr ||
         std::string(e.what_without_backtrace()).find("out of memory") != std::string::npos;
}

}  // namespace

// Forward passes at growing batches until one runs out of memory (or, with
// a limit, measures more than it): the largest batch that fits and its peak.
MaxBatch max_batch(Runnable& m, const std::vector<InputSpec>& specs, at::ScalarType float_type,
                   const Target& target, uint64_t weights, uint64_t limit, int64_t search_limit) {
  MaxBatch out;
  std::map<int64_t, int64_t> peaks;
  auto fits = [&](int64_t batch) {
    release_cached_blocks(target);
    MaxBatchTry tried;
    tried.batch = batch;
    bool ok = true;
    try {
      std::vector<InputInfo> built;
      std::vector<c10::IValue> inputs = build_inputs(m, specs, batch, float_type, target.device, built);
      uint64_t input_bytes = 0;
      for (const InputInfo& i : built) input_bytes += i.bytes;
      auto hook = std::make_shared<MemoryHook>(target.device);
      {
        HookScope scope(hook);
        m.forward(inputs);
        target.sync();
      }
      int64_t peak = static_cast<int64_t>(weights + input_bytes) + hook->peak();
      peaks[batch] = peak;
      tried.peak_bytes = peak;
      ok = limit == 0 || static_cast<uint64_t>(peak) <= limit;
    } catch (const c10::Error& e) {
      if (!is_out_of_memory(e)) throw BackendError("forward at batch " + std::to_string(batch) +
                                                   " failed: " + last_line(e.what_without_backtrace()));
      tried.error = "out of memory";
      ok = false;
    }
    tried.fits = ok;
    out.tries.push_back(tried);
    return ok;
  };
  BatchSearch s = search_max_batch(fits, search_limit);
  release_cached_blocks(target);
  out.batch = s.max_batch;
  if (s.max_batch) out.peak_bytes = peaks[s.max_batch];
  if (limit) out.limit_bytes = limit;
  return out;
}

}  // namespace ptscope::torch_backend
