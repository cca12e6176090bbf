#include "measure.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <algorithm>

#include "commands.h"
#include "torch_dtypes.h"

namespace ptscope::torch_backend {
namespace {

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  double pos = p * static_cast<double>(v.size() - 1);
  size_t lo = static_cast<size_t>(pos);
  size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

}  // namespace

void Target::sync() const {
  if (device.is_cuda()) torch::cuda::synchronize(device.has_index() ? device.index() : -1);
}

Target target_of(const std::string& name) {
  c10::Device device(c10::DeviceType::CPU);
  try {
    device = c10::Device(name);
  } catch (const c10::Error&) {
    throw BackendError("device '" + name + "' is not a device name (cpu, cuda, cuda:N)");
  }
  if (device.is_cuda() && !torch::cuda::is_available())
    throw BackendError("device '" + name + "' is not available: this LibTorch (" +
                       std::string(TORCH_VERSION) + ") was built without CUDA or sees no GPU");
  if (device.is_cuda() && device.has_index() &&
      static_cast<size_t>(device.index()) >= torch::cuda::device_count())
    throw BackendError("device '" + name + "' does not exist: LibTorch sees " +
                       std::to_string(torch::cuda::device_count()) + " GPUs");
  if (!device.is_cpu() && !device.is_cuda())
    throw BackendError("device '" + name + "' is not supported (cpu, cuda, cuda:N)");
  return {device};
}

// Floating inputs are random normal, token ids uniform below the
// vocabulary, other integers zeros; seed 0, so a reference given the same
// seed draws the same ones.
std::vector<c10::IValue> build_inputs(const Runnable& m, const std::vector<InputSpec>& specs, int64_t batch,
                                      at::ScalarType float_type, c10::Device device, std::vector<InputInfo>& out) {
  std::vector<Runnable::Argument> args = m.arguments(specs.size());
  std::vector<c10::IValue> inputs;
  at::manual_seed(0);
  for (size_t i = 0; i < specs.size(); ++i) {
    std::vector<int64_t> shape = specs[i].shape;
    if (batch > 0 && !shape.empty()) shape[0] = batch;
    // Inputs without a dtype of their own follow --dtype, token ids int64.
    at::ScalarType type = specs[i].dtype ? parse_scalar_type(*specs[i].dtype)
                          : args[i].tokens ? at::kLong
                                           : float_type;
    auto options = at::TensorOptions().dtype(type).device(device);
    at::Tensor t = at::isFloatingType(type) ? at::randn(shape, options)
                   : args[i].tokens         ? at::randint(args[i].tokens, shape, options)
                                            : at::zeros(shape, options);
    out.push_back({args[i].name, shape, scalar_type_name(type), t.nbytes()});
    inputs.emplace_back(std::move(t));
  }
  return inputs;
}

Latency latency(const std::vector<double>& ms, int64_t batch, int warmup) {
  Latency l;
  for (double x : ms) l.mean_ms += x;
  l.mean_ms /= static_cast<double>(ms.size());
  l.median_ms = percentile(ms, 0.5);
  l.p10_ms = percentile(ms, 0.1);
  l.p90_ms = percentile(ms, 0.9);
  l.iters = static_cast<int>(ms.size());
  l.warmup = warmup;
  l.throughput = l.median_ms > 0 ? 1000.0 * static_cast<double>(batch) / l.median_ms : 0.0;
  l.threads = at::get_num_threads();
  return l;
}

}  // namespace ptscope::torch_backend
