// ptscope profile: load a TorchScript module (script_model.h) or build a
// state_dict's model (built_model.h), build inputs, and measure one forward
// (or one training step, train_step.h): FLOPs per op, per module and per
// layer, activation memory, latency, and the largest batch (max_batch.h).
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>

#include "commands.h"
#include "built_model.h"
#include "max_batch.h"
#include "measure.h"
#include "memory_probe.h"
#include "nvml.h"
#include "op_counter.h"
#include "runnable.h"
#include "script_model.h"
#include "torch_dtypes.h"
#include "train_step.h"

namespace ptscope::torch_backend {
namespace {

using Clock = std::chrono::steady_clock;

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
  return load_script_model(req.file, float_type, target.device);
}

// The inputs and the first output, as torch.save writes them, for a check
// against a reference implementation.
void save_io(const std::string& path, const std::vector<c10::IValue>& inputs, const c10::IValue& output) {
  std::vector<char> bytes = torch::jit::pickle_save(c10::ivalue::Tuple::create({c10::IValue(c10::ivalue::Tuple::create(inputs)), output}));
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw BackendError("cannot write " + path);
}

// What the op counter runs: the model's counting copy
// (Runnable::for_counting), run until the profiling executor has optimized
// it, as the model has been by now, so the counter sees the ops of the same
// optimized graph (not the whole --warmup again: a large model's forwards
// are seconds). The model itself where the copy cannot be made or run: the
// model's forward has run, so the failure is the marking's, and the rows
// fall back to their last op's output.
Runnable& counted_runnable(Runnable& m, const std::vector<c10::IValue>& inputs, int warmup, const Target& target) {
  try {
    Runnable& counted = m.for_counting();
    if (&counted == &m) return m;
    int runs = std::max(1, std::min(warmup, static_cast<int>(torch::jit::getNumProfiledRuns().load())));
    for (int i = 0; i < runs; ++i) {
      counted.forward(inputs);
      target.sync();
    }
    return counted;
  } catch (const c10::Error&) {
    return m;
  }
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
    Runnable& counted = counted_runnable(m, inputs, req.warmup, target);
    OpCounter counter;
    counted.forward(inputs);
    target.sync();
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
