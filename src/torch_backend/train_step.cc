#include "train_step.h"

#include <torch/optim.h>

#include <algorithm>
#include <memory>

#include "commands.h"
#include "memory_probe.h"

namespace ptscope::torch_backend {
namespace {

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

}  // namespace

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

}  // namespace ptscope::torch_backend
