// ptscope profile: load a TorchScript module with torch::jit::load (or
// build a state_dict's model, built_model.h), build inputs, and measure one
// forward (or one training step): FLOPs per op, per module and per layer,
// activation memory, latency. The only translation unit that includes
// torch/script.h and the optimizers.
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/optim.h>
#include <torch/version.h>
#include <torch/script.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <set>

#include "commands.h"
#include "batch_search.h"
#include "built_model.h"
#include "nvml.h"
#include "memory_probe.h"
#include "op_counter.h"
#include "runnable.h"
#include "torch_compat.h"
#include "torch_dtypes.h"

namespace ptscope::torch_backend {
namespace {

using Clock = std::chrono::steady_clock;

std::string signature(const c10::FunctionSchema& schema) {
  std::string s = "forward(";
  for (size_t i = 1; i < schema.arguments().size(); ++i) {
    const c10::Argument& a = schema.arguments()[i];
    s += (i > 1 ? ", " : "") + a.name() + ": " + a.type()->annotation_str();
  }
  return s + ")";
}

// A TorchScript archive, run by its interpreter.
class ScriptModel : public Runnable {
 public:
  explicit ScriptModel(torch::jit::Module m) : m_(std::move(m)) {
    for (const auto& sub : m_.named_modules()) {
      uint64_t n = 0;
      std::set<const void*> seen;
      for (const at::Tensor& p : sub.value.parameters())
        if (seen.insert(p.unsafeGetTensorImpl()).second) n += static_cast<uint64_t>(p.numel());
      layer_parameters_[sub.name] = n;
    }
  }
  // Checked against forward's schema, so a mismatch names the arguments
  // the model expects.
  std::vector<Argument> arguments(size_t given) const override {
    const c10::FunctionSchema& schema = m_.get_method("forward").function().getSchema();
    const auto& args = schema.arguments();
    size_t required = 0;
    for (size_t i = 1; i < args.size(); ++i) required += args[i].default_value() ? 0 : 1;
    if (given < required || given > args.size() - 1)
      throw BackendError("the model's " + signature(schema) + " takes " + std::to_string(required) +
                         (required == args.size() - 1 ? "" : "+") + " inputs, but " + std::to_string(given) +
                         " --input given");
    std::vector<Argument> out;
    for (size_t i = 0; i < given; ++i) {
      const c10::Argument& a = args[i + 1];
      if (a.type()->kind() != c10::TypeKind::TensorType)
        throw BackendError("argument '" + a.name() + "' of " + signature(schema) + " is " +
                           a.type()->annotation_str() + ": --input builds tensors only");
      out.push_back({a.name(), 0});
    }
    return out;
  }
  c10::IValue forward(const std::vector<c10::IValue>& inputs) override {
    return m_.forward(std::vector<c10::IValue>(inputs));
  }
  // A tied weight is listed under each of its names: counted (and trained)
  // once, as torch.optim does with nn.Module.parameters().
  std::vector<at::Tensor> parameters() const override {
    std::vector<at::Tensor> params;
    std::set<const void*> seen;
    for (const at::Tensor& p : m_.parameters())
      if (seen.insert(p.unsafeGetTensorImpl()).second) params.push_back(p);
    return params;
  }
  std::vector<at::Tensor> buffers() const override {
    std::vector<at::Tensor> out;
    for (const at::Tensor& b : m_.buffers()) out.push_back(b);
    return out;
  }
  void train(bool on) override { m_.train(on); }
  uint64_t layer_parameters(const std::string& name) const override {
    auto it = layer_parameters_.find(name);
    return it == layer_parameters_.end() ? 0 : it->second;
  }

 private:
  torch::jit::Module m_;
  std::map<std::string, uint64_t> layer_parameters_;  // a module's own and its submodules'
};

// One tensor per --input. Floating inputs are random normal, token ids
// uniform below the vocabulary, other integers zeros; seed 0, so a
// reference given the same seed draws the same ones.
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

uint64_t state_bytes(const Runnable& m) {
  uint64_t total = 0;
  std::set<const void*> seen;  // tied weights once
  auto add = [&](const at::Tensor& t) {
    if (t.defined() && seen.insert(t.data_ptr()).second) total += t.nbytes();
  };
  for (const at::Tensor& p : m.parameters()) add(p);
  for (const at::Tensor& b : m.buffers()) add(b);
  return total;
}

ParameterCount count_parameters(const Runnable& m) {
  ParameterCount c;
  for (const at::Tensor& p : m.parameters()) {
    ++c.tensors;
    c.numel += static_cast<uint64_t>(p.numel());
    c.bytes += p.nbytes();
  }
  return c;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  double pos = p * static_cast<double>(v.size() - 1);
  size_t lo = static_cast<size_t>(pos);
  size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
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

template <typename F>
std::vector<double> time_runs(int iters, F&& run) {
  std::vector<double> ms;
  for (int i = 0; i < iters; ++i) {
    auto t0 = Clock::now();
    run();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return ms;
}

void add_flops(const FlopReport& r, const Runnable& m, Forward& f) {
  for (const LayerTotals& l : r.layers)
    f.layers.push_back({l.name, l.type, l.depth, l.output_shape, l.parameters + m.layer_parameters(l.name), l.macs,
                        l.flops, l.activation_bytes});
  for (const auto& [name, t] : r.ops) {
    f.ops[name] = {t.count, t.macs, t.flops};
    if (!t.known) f.ops_without_formula.push_back(name);
  }
  for (const auto& [name, t] : r.modules) f.modules[name] = {t.macs, t.flops};
  f.macs = r.macs;
  f.flops = r.flops;
  // Backward costs about twice the forward (one product for the input
  // gradient, one for the weight gradient): the usual 3x estimate.
  f.flops_fwd_bwd_estimate = 3 * r.flops;
}

// The sum of every floating output: a scalar to call backward() on.
void add_loss(const c10::IValue& out, at::Tensor& loss) {
  if (out.isTensor()) {
    const at::Tensor& t = out.toTensor();
    if (at::isFloatingType(t.scalar_type())) loss = loss.defined() ? loss + t.to(at::kFloat).sum() : t.to(at::kFloat).sum();
  } else if (out.isTuple()) {
    for (const c10::IValue& e : out.toTupleRef().elements()) add_loss(e, loss);
  } else if (out.isList()) {
    for (const c10::IValue& e : out.toListRef()) add_loss(e, loss);
  }
}

Optimizer optimizer_of(const std::string& name) {
  std::optional<Optimizer> o = profile_optimizer(name);
  if (!o) throw BackendError("unknown optimizer '" + name + "' (sgd, adam, adamw)");
  return *o;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(Optimizer o, std::vector<at::Tensor> params) {
  switch (o) {
    case Optimizer::Momentum:
      return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(1e-3).momentum(0.9));
    case Optimizer::Adam: return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(1e-3));
    case Optimizer::AdamW: return std::make_unique<torch::optim::AdamW>(params, torch::optim::AdamWOptions(1e-3));
    default: throw BackendError("profile_optimizer named an optimizer the plugin cannot build");
  }
}

uint64_t optimizer_state_bytes(torch::optim::Optimizer& opt) {
  uint64_t total = 0;
  auto add = [&](const at::Tensor& t) { total += t.defined() ? t.nbytes() : 0; };
  for (auto& [key, state] : opt.state()) {
    if (auto* s = dynamic_cast<torch::optim::AdamParamState*>(state.get())) {
      add(s->exp_avg()); add(s->exp_avg_sq()); add(s->max_exp_avg_sq());
    } else if (auto* w = dynamic_cast<torch::optim::AdamWParamState*>(state.get())) {
      add(w->exp_avg()); add(w->exp_avg_sq()); add(w->max_exp_avg_sq());
    } else if (auto* g = dynamic_cast<torch::optim::SGDParamState*>(state.get())) {
      add(g->momentum_buffer());
    }
  }
  return total;
}

// Where the model runs. CUDA work is asynchronous: timings wait for it.
struct Target {
  c10::Device device;
  void sync() const {
    if (device.is_cuda()) torch::cuda::synchronize(device.has_index() ? device.index() : -1);
  }
};

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

// One forward + backward + optimizer step from a clean state (no gradients,
// no optimizer state), measured in two phases so the parts can be told apart.
Train train_step(Runnable& m, const std::vector<c10::IValue>& inputs,
                 const std::string& optimizer, uint64_t weights, int warmup, int iters,
                 int64_t batch, const Target& target) {
  m.train(true);
  std::vector<at::Tensor> params = m.parameters();  // a tied weight and its gradient once
  if (params.empty()) throw BackendError("the model has no parameters to train");
  uint64_t param_bytes = 0;
  for (const at::Tensor& p : params) param_bytes += p.nbytes();
  Optimizer kind = optimizer_of(optimizer);
  auto opt = make_optimizer(kind, params);
  auto forward = [&] {
    for (at::Tensor& p : params) p.mutable_grad() = at::Tensor();  // start without gradients
    at::Tensor loss;
    add_loss(m.forward(inputs), loss);
    if (!loss.defined() || !loss.requires_grad())
      throw BackendError("the model's output does not depend on its parameters: nothing to train");
    return loss;
  };
  auto forward_backward = [&] { forward().backward(); };

  // What autograd keeps between forward and backward is what is live once
  // the forward has returned (the outputs are gone, the scalar loss stays):
  // the saved activations of Korthikanti et al.'s accounting.
  auto hook = std::make_shared<MemoryHook>(target.device);
  int64_t saved = 0, fwd_bwd_peak = 0, step_peak = 0;
  {
    HookScope scope(hook);
    at::Tensor loss = forward();
    saved = hook->current();
    loss.backward();
    loss.reset();
    fwd_bwd_peak = hook->peak();
    opt->step();
    step_peak = hook->peak();
  }
  uint64_t grads = 0;
  for (const at::Tensor& p : params) grads += p.grad().defined() ? p.grad().nbytes() : 0;
  uint64_t state = optimizer_state_bytes(*opt);
  auto step = [&] {
    forward_backward();
    opt->step();
    target.sync();
  };
  for (int i = 0; i < warmup; ++i) step();
  std::vector<double> ms = time_runs(iters, step);
  int64_t activations = std::max<int64_t>(0, saved);
  double moments = kind == Optimizer::Momentum ? 1.0 : 2.0;
  Train t;
  t.optimizer = optimizer;
  t.peak_bytes = static_cast<int64_t>(weights) + std::max(fwd_bwd_peak, step_peak);
  t.parameters_bytes = param_bytes;
  t.buffers_bytes = weights - std::min(weights, param_bytes);
  t.gradients_bytes = grads;
  t.optimizer_state_bytes = state;
  t.activations_bytes = activations;
  t.forward_backward_peak_bytes = fwd_bwd_peak;
  t.rule_of_thumb_bytes = static_cast<uint64_t>(static_cast<double>(param_bytes) * (2.0 + moments)) +
                          static_cast<uint64_t>(activations);
  t.latency = latency(ms, batch, warmup);
  if (target.device.is_cuda()) t.cuda = CudaPeaks{hook->peak_total_allocated(), hook->peak_reserved()};
  return t;
}

// Cached blocks go back to the driver between --max-batch tries, so each
// try starts from the same state and a failed one leaves nothing behind.
void release_cached_blocks(const Target& target) {
  if (target.device.is_cuda()) compat::cuda_empty_cache();
}

bool is_out_of_memory(const c10::Error& e) {
  return dynamic_cast<const c10::OutOfMemoryError*>(&e) != nullptr ||
         std::string(e.what_without_backtrace()).find("out of memory") != std::string::npos;
}

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

// What nvidia-smi shows for this process: the CUDA context and every
// allocator, not only LibTorch's tensors.
GpuProcess process_memory() {
  ProcessGpuMemory p = process_gpu_memory(static_cast<unsigned>(getpid()));
  GpuProcess g;
  g.process_bytes = p.bytes;
  if (!p.bytes) g.process_bytes_unavailable = p.unavailable;
  if (!p.gpu_name.empty()) g.gpu_name = p.gpu_name;
  return g;
}

// The TorchScript archive, or the model built from the state_dict's weights.
std::unique_ptr<Runnable> load(const ProfileRequest& req, at::ScalarType float_type, const Target& target,
                               ProfileReply& out) {
  if (req.build) {
    auto t0 = Clock::now();
    BuiltModel built = build_model(*req.build, float_type, target.device);
    out.build_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    out.built = built.summary;
    return std::move(built.model);
  }
  torch::jit::Module m;
  try {
    m = torch::jit::load(req.file, target.device);
  } catch (const c10::Error& e) {
    throw BackendError("torch::jit::load failed: " + last_line(e.what_without_backtrace()));
  }
  if (float_type != at::kFloat) m.to(float_type);
  return std::make_unique<ScriptModel>(std::move(m));
}

// The inputs and the first output, as torch.save writes them, for a check
// against a reference implementation.
void save_io(const std::string& path, const std::vector<c10::IValue>& inputs, const c10::IValue& output) {
  std::vector<char> bytes = torch::jit::pickle_save(c10::ivalue::Tuple::create({c10::IValue(c10::ivalue::Tuple::create(inputs)), output}));
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw BackendError("cannot write " + path);
}

}  // namespace

ProfileReply profile(const ProfileRequest& req) {
  Target target = target_of(req.device);
  at::ScalarType float_type = parse_scalar_type(req.dtype);
  ProfileReply out;
  std::unique_ptr<Runnable> model = load(req, float_type, target, out);
  Runnable& m = *model;
  m.train(false);

  out.file = req.file;
  out.device = target.device.str();
  out.dtype = scalar_type_name(float_type);
  std::vector<c10::IValue> inputs = build_inputs(m, req.inputs, req.batch, float_type, target.device, out.inputs);
  int64_t batch_used = inputs.empty() || inputs[0].toTensor().dim() == 0 ? 1 : inputs[0].toTensor().size(0);
  uint64_t weights = state_bytes(m);
  for (const InputInfo& i : out.inputs) out.inputs_bytes += i.bytes;
  out.batch = batch_used;
  out.parameters = count_parameters(m);
  out.weights_bytes = weights;

  if (req.train) {
    out.train = train_step(m, inputs, req.optimizer, weights, req.warmup, req.iters, batch_used, target);
    return out;
  }

  Forward& f = out.forward.emplace();
  torch::NoGradGuard no_grad;
  auto forward = [&] {
    m.forward(inputs);
    target.sync();
  };
  try {
    if (!req.save_io.empty()) save_io(req.save_io, inputs, m.forward(inputs));
    for (int i = 0; i < std::max(req.warmup, 1); ++i) forward();
  } catch (const c10::Error& e) {
    throw BackendError("forward failed: " + last_line(e.what_without_backtrace()));
  }
  {
    OpCounter counter;
    forward();
    add_flops(counter.report(), m, f);
  }
  if (target.device.is_cpu()) {
    auto hook = std::make_shared<MemoryHook>(target.device);
    CountingAllocator& counting = CountingAllocator::instance();
    CountingAllocator::Scope swap;
    counting.reset();
    HookScope scope(hook);
    forward();
    f.activation_peak_bytes = hook->peak();
    f.allocator_peak_bytes = counting.peak();
  } else {
    // The caching allocator reports blocks and its reserved total alike.
    auto hook = std::make_shared<MemoryHook>(target.device);
    HookScope scope(hook);
    forward();
    f.activation_peak_bytes = hook->peak();
    f.cuda = CudaPeaks{hook->peak_total_allocated(), hook->peak_reserved()};
  }
  f.latency = latency(time_runs(req.iters, forward), batch_used, req.warmup);
  if (req.counter_overhead) {
    OpCounter counter;
    f.latency_with_counter = latency(time_runs(req.iters, forward), batch_used, req.warmup);
  }
  if (req.max_batch)
    f.max_batch = max_batch(m, req.inputs, float_type, target, weights, req.memory_limit, req.max_batch_limit);
  if (target.device.is_cuda()) f.gpu = process_memory();
  return out;
}

}  // namespace ptscope::torch_backend
