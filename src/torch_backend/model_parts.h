// What the family builders share: the weights, mapped from the files and
// fetched by name, and the Runnable part every built model has alike.
#pragma once

#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "commands.h"
#include "op_counter.h"
#include "protocol.h"
#include "runnable.h"

namespace ptscope::torch_backend {

class MappedFile;

// The state_dict's tensors, each a view of its mapped file until fetched:
// param() and buffer() give it in the model's dtype and on its device (a
// copy only when either differs from the file's) and record it, so the
// model's parameters are what its forward uses, each once.
class Weights {
 public:
  Weights(const ModelBuild& build, at::ScalarType dtype, c10::Device device);
  ~Weights();
  at::Tensor param(const std::string& name, std::vector<int64_t> shape);   // throws when absent or mis-shaped
  at::Tensor maybe_param(const std::string& name, std::vector<int64_t> shape);  // undefined when absent
  at::Tensor buffer(const std::string& name, std::vector<int64_t> shape);
  // A buffer the forward recomputes (a causal mask, rotary frequencies,
  // BatchNorm's batch count): held, in whatever shape the file has it, when
  // the file has it.
  void keep_buffer(const std::string& name);
  bool has(const std::string& name) const { return table_.count(name) > 0; }
  const std::vector<at::Tensor>& params() const { return params_; }
  const std::vector<at::Tensor>& buffers() const { return buffers_; }
  size_t unused() const { return table_.size() - used_.size(); }
  at::ScalarType dtype() const { return dtype_; }
  c10::Device device() const { return device_; }

 private:
  at::Tensor fetch(const std::string& name, const std::vector<int64_t>* shape, bool required);
  std::vector<std::shared_ptr<MappedFile>> files_;
  std::map<std::string, const ModelTensor*> table_;
  std::map<std::string, at::Tensor> fetched_;  // a name asked twice is one tensor
  // Tied weights: two names over the same bytes (file, offset, shape,
  // strides), as torch.save writes lm_head and wte, are one tensor.
  std::map<std::string, at::Tensor> by_place_;
  std::set<std::string> used_;
  std::vector<at::Tensor> params_, buffers_;
  at::ScalarType dtype_;
  c10::Device device_;
};

// nn.Linear, counted as one layer; without a bias where the model has none
// (T5's, LLaMA's projections).
struct Linear {
  std::string name;
  at::Tensor weight, bias;  // bias undefined: none
  at::Tensor operator()(const at::Tensor& x) const {
    LayerScope s(name, "Linear", {weight, bias});
    return s.out(at::linear(x, weight, bias));
  }
};

// nn.LayerNorm over the last dimension, counted as one layer; eps is the
// builder's (config.json's, else the family's default: default_norm_eps).
struct LayerNorm {
  std::string name;
  at::Tensor weight, bias;
  double eps = 0;
  at::Tensor operator()(const at::Tensor& x) const {
    LayerScope s(name, "LayerNorm", {weight, bias});
    return s.out(at::layer_norm(x, {weight.size(0)}, weight, bias, eps));
  }
};

// torch.finfo(dtype).min: what HF's eager attention masks with.
double lowest_value(at::ScalarType t);

// The Runnable side all built models share: parameters are the weights the
// forward fetched; train() turns their gradients (and BatchNorm's batch
// statistics) on.
class BuiltRunnable : public Runnable {
 public:
  explicit BuiltRunnable(std::unique_ptr<Weights> w) : w_(std::move(w)) {}
  std::vector<at::Tensor> parameters() const override { return w_->params(); }
  std::vector<at::Tensor> buffers() const override { return w_->buffers(); }
  // Every op of the forward is the model's: those outside its modules too.
  c10::IValue forward(const std::vector<c10::IValue>& inputs) final {
    BuiltForward counted;
    return run(inputs);
  }
  void train(bool on) override {
    training_ = on;
    for (const at::Tensor& p : w_->params()) p.requires_grad_(on);
  }

 protected:
  virtual c10::IValue run(const std::vector<c10::IValue>& inputs) = 0;
  // One input, checked: `name` and whether it holds token ids below `tokens`.
  std::vector<Argument> one_argument(size_t given, const std::string& signature, Argument a) const {
    if (given != 1)
      throw BackendError("the model's " + signature + " takes 1 input, but " + std::to_string(given) +
                         " --input given");
    return {a};
  }
  // nn.Dropout as HF's modules apply it: only in a --train step (train
  // mode) and where the config's probability is above 0; the forward-only
  // profile (eval) runs none.
  at::Tensor dropout(const at::Tensor& x, double p) const { return training_ && p > 0 ? at::dropout(x, p, true) : x; }
  std::unique_ptr<Weights> w_;
  bool training_ = false;
};

// The family builders (one file each), from the sizes the core recognised.
std::unique_ptr<Runnable> build_resnet(const ModelBuild& b, std::unique_ptr<Weights> w);
std::unique_ptr<Runnable> build_llama(const ModelBuild& b, std::unique_ptr<Weights> w);
std::unique_ptr<Runnable> build_gpt2(const ModelBuild& b, std::unique_ptr<Weights> w);
std::unique_ptr<Runnable> build_vit(const ModelBuild& b, std::unique_ptr<Weights> w);
std::unique_ptr<Runnable> build_bert(const ModelBuild& b, std::unique_ptr<Weights> w);
std::unique_ptr<Runnable> build_t5(const ModelBuild& b, std::unique_ptr<Weights> w);

}  // namespace ptscope::torch_backend
