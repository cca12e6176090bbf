// Counts FLOPs and MACs of a forward pass from a RecordFunction callback
// that sees every aten op with its inputs and outputs. Only the outermost op
// of a chain counts (aten::linear calls aten::addmm: the linear counts), and
// only ops the TorchScript interpreter runs for the module: constant
// folding during graph optimization runs ops too, outside any module.
// A model built in C++ has no interpreter to say which module runs: its
// forward marks each module with a LayerScope, and ops inside one count.
// A TorchScript module's output comes from the kModuleOutputOp its caller
// runs after the call (script_model.h), where the counted copy has them.
#pragma once

#include <ATen/record_function.h>

#include <initializer_list>
#include <map>
#include <string>
#include <vector>

namespace ptscope::torch_backend {

struct OpTotals {
  uint64_t count = 0, macs = 0, flops = 0;
  bool known = true;
};

// One module of the per-layer table: its inclusive counts, in the order
// its first op ran (forward order).
struct LayerTotals {
  std::string name, type;
  int64_t depth = 0;
  // The value it returned (the first tensor of a tuple); TorchScript
  // modules called other than as an attribute of their caller: its last
  // op's output.
  std::vector<int64_t> output_shape;
  bool output_seen = false;           // output_shape is the returned value's
  uint64_t parameters = 0;            // LayerScope: numel of the weights it is first to use
  uint64_t macs = 0, flops = 0, activation_bytes = 0;
};

struct FlopReport {
  std::map<std::string, OpTotals> ops;       // "aten::conv2d" -> totals
  std::map<std::string, OpTotals> modules;   // top-level submodule -> totals
  std::vector<LayerTotals> layers;           // every module, forward order
  uint64_t macs = 0, flops = 0;
};

class OpCounter {
 public:
  OpCounter();   // installs the callback
  ~OpCounter();  // removes it
  FlopReport report() const;

 private:
  at::CallbackHandle handle_;
};

// While alive, ops outside any LayerScope count too, as the model's own
// ("(top)"): the forward of a model built in C++ is all the model's work.
class BuiltForward {
 public:
  BuiltForward();
  ~BuiltForward();
  BuiltForward(const BuiltForward&) = delete;
  BuiltForward& operator=(const BuiltForward&) = delete;
};

// One module's forward in a model built in C++, while an OpCounter counts
// (otherwise it costs one atomic load): a row named `name` (the state_dict's
// dotted path) one deeper than the scope around it; ops run while it lives
// count for it and every enclosing row. Parameters: the numel of `weights`
// no earlier row used (a tied weight counts once, where first used), plus
// its children's.
class LayerScope {
 public:
  LayerScope(const std::string& name, const char* type, std::initializer_list<at::Tensor> weights = {});
  ~LayerScope();
  LayerScope(const LayerScope&) = delete;
  LayerScope& operator=(const LayerScope&) = delete;
  // The module's output: its row's shape and bytes. Returns `t`.
  const at::Tensor& out(const at::Tensor& t);

 private:
  int64_t row_ = -1;
};

}  // namespace ptscope::torch_backend
