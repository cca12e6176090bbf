// What every profile measurement shares: where the model runs (and how to
// wait for it), the inputs built from --input, and the timer and its
// summary. Used by the forward (profile.cc), the training step
// (train_step.cc) and the batch search (max_batch.cc).
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <ATen/core/ivalue.h>

#include <chrono>
#include <string>
#include <vector>

#include "protocol.h"
#include "runnable.h"

namespace ptscope::torch_backend {

// Where the model runs. CUDA work is asynchronous: timings wait for it.
struct Target {
  c10::Device device;
  void sync() const;
};

// --device's name as a device LibTorch can use here; BackendError otherwise.
Target target_of(const std::string& name);

// One tensor per --input, the first dimension replaced by `batch` when it
// is > 0; what was built is appended to `out`.
std::vector<c10::IValue> build_inputs(const Runnable& m, const std::vector<InputSpec>& specs, int64_t batch,
                                      at::ScalarType float_type, c10::Device device, std::vector<InputInfo>& out);

// Median, p10, p90 and mean of the runs, and samples/s at the median.
Latency latency(const std::vector<double>& ms, int64_t batch, int warmup);

// Milliseconds of each of `iters` calls of `run`.
template <typename F>
std::vector<double> time_runs(int iters, F&& run) {
  using Clock = std::chrono::steady_clock;
  std::vector<double> ms;
  for (int i = 0; i < iters; ++i) {
    auto t0 = Clock::now();
    run();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return ms;
}

}  // namespace ptscope::torch_backend
