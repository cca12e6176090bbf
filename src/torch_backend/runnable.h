// What profile measures: a TorchScript module (profile.cc) or a model the
// plugin built from a state_dict's weights (built_model.h). One interface,
// so both go through the same measurement path: the op counter, the memory
// hook, the timings, --train and --max-batch.
#pragma once

#include <ATen/core/ivalue.h>

#include <string>
#include <vector>

namespace ptscope::torch_backend {

class Runnable {
 public:
  struct Argument {
    std::string name;
    int64_t tokens = 0;  // > 0: token ids, int64 in [0, tokens); 0: a tensor of --dtype (or its own)
  };
  virtual ~Runnable() = default;
  // forward's arguments for `given` inputs; throws BackendError naming the
  // signature when they do not fit it.
  virtual std::vector<Argument> arguments(size_t given) const = 0;
  virtual c10::IValue forward(const std::vector<c10::IValue>& inputs) = 0;
  virtual std::vector<at::Tensor> parameters() const = 0;  // each once, a tied weight too
  virtual std::vector<at::Tensor> buffers() const = 0;
  virtual void train(bool on) = 0;
  // Per-layer parameter counts where the op counter cannot see them
  // (TorchScript: from the module tree); rows the model marks itself
  // (LayerScope) have theirs already.
  virtual uint64_t layer_parameters(const std::string& /*name*/) const { return 0; }
  // What the op counter runs: the model itself, or (TorchScript) a copy
  // that also reports each module's output, so the per-layer table has
  // output shapes while the timed forwards run the model as it is.
  virtual Runnable& for_counting() { return *this; }
};

}  // namespace ptscope::torch_backend
