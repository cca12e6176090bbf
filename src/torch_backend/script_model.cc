#include "script_model.h"

#include <torch/script.h>

#include <map>
#include <set>

#include "commands.h"

namespace ptscope::torch_backend {
namespace {

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

}  // namespace

std::unique_ptr<Runnable> load_script_model(const std::string& file, at::ScalarType float_type, c10::Device device) {
  torch::jit::Module m;
  try {
    m = torch::jit::load(file, device);
  } catch (const c10::Error& e) {
    throw BackendError("torch::jit::load failed: " + last_line(e.what_without_backtrace()));
  }
  if (float_type != at::kFloat) m.to(float_type);
  return std::make_unique<ScriptModel>(std::move(m));
}

}  // namespace ptscope::torch_backend
