#include "script_model.h"

#include <torch/library.h>
#include <torch/script.h>

#include <map>
#include <optional>
#include <set>

#include "commands.h"

namespace ptscope::torch_backend {
namespace {

// Does nothing: the op counter's RecordFunction callback sees its
// arguments. Its alias analysis is CONSERVATIVE, which makes it a node with
// side effects: dead code elimination keeps it though nothing uses it. It
// returns an int no one reads because LibTorch 1.13's inliner gives the
// inlined nodes their caller's module (the callstack the interpreter's
// module hierarchy reads) by walking the values they output: a node with
// no output would run as the top module's.
void module_output(const c10::OperatorHandle&, torch::jit::Stack* stack) {
  torch::jit::drop(*stack, 3);
  torch::jit::push(*stack, int64_t{0});
}

TORCH_LIBRARY(ptscope, m) {
  m.def(torch::schema("ptscope::module_output(str name, str type, Any output) -> int",
                      c10::AliasAnalysisKind::CONSERVATIVE),
        torch::CppFunction::makeFromBoxedFunction<&module_output>());
}

// "conv", "block.0": the GetAttr chain from the method's `self` to a
// called module; none when the module comes from elsewhere.
std::optional<std::string> attribute_path(torch::jit::Value* v, const torch::jit::Value* self) {
  std::string path;
  while (v != self) {
    torch::jit::Node* n = v->node();
    if (n->kind() != c10::prim::GetAttr) return std::nullopt;
    path = n->s(c10::attr::name) + (path.empty() ? "" : "." + path);
    v = n->input(0);
  }
  if (path.empty()) return std::nullopt;
  return path;
}

// After each `self.<path>.forward(...)` in the block (and the blocks in
// it): module_output("<path>", "<type>", its output).
void mark_calls(torch::jit::Block* block, const torch::jit::Value* self) {
  std::vector<torch::jit::Node*> calls;
  for (torch::jit::Node* n : block->nodes()) {
    for (torch::jit::Block* inner : n->blocks()) mark_calls(inner, self);
    if (n->kind() == c10::prim::CallMethod && n->s(c10::attr::name) == "forward" && n->outputs().size() == 1)
      calls.push_back(n);
  }
  for (torch::jit::Node* n : calls) {
    std::optional<std::string> path = attribute_path(n->input(0), self);
    if (!path) continue;
    auto type = n->input(0)->type()->cast<c10::ClassType>();
    std::string type_name = type && type->name() ? type->name()->name() : "";
    torch::jit::Graph* g = n->owningGraph();
    torch::jit::WithInsertPoint after(n->next());
    torch::jit::Value* name = g->insertConstant(*path);
    torch::jit::Value* type_value = g->insertConstant(type_name);
    g->insertNode(g->create(c10::Symbol::fromQualString(kModuleOutputOp), {name, type_value, n->output()}, 1));
  }
}

// A copy of `m` sharing its weights whose methods report each submodule
// call's output. The interpreter tells the op counter which module runs an
// op, not what a module returns: TorchScript has no forward hooks to add to
// a loaded module (hooks are compiled into the callers' graphs when
// scripted), so the callers' graphs get the op instead. A copy, so the
// timed forwards run the graphs as saved.
torch::jit::Module marked_copy(const torch::jit::Module& m) {
  torch::jit::Module copy = m.clone(/*inplace=*/true);
  std::set<const torch::jit::Graph*> done;  // a type shared by several modules has one graph per method
  for (const torch::jit::Module& sub : copy.modules())
    for (const torch::jit::Method& method : sub.get_methods()) {
      std::shared_ptr<torch::jit::Graph> g = method.graph();
      if (done.insert(g.get()).second) mark_calls(g->block(), g->inputs().at(0));
    }
  return copy;
}

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
  void train(bool on) override {
    m_.train(on);
    if (counted_) counted_->train(on);
  }
  uint64_t layer_parameters(const std::string& name) const override {
    auto it = layer_parameters_.find(name);
    return it == layer_parameters_.end() ? 0 : it->second;
  }
  Runnable& for_counting() override {
    if (!counted_) {
      counted_ = std::make_unique<ScriptModel>(marked_copy(m_));
      counted_->train(m_.is_training());
    }
    return *counted_;
  }

 private:
  torch::jit::Module m_;
  std::map<std::string, uint64_t> layer_parameters_;  // a module's own and its submodules'
  std::unique_ptr<ScriptModel> counted_;             // for_counting's copy, made on first use
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
