// Counts FLOPs and MACs of a forward pass from a RecordFunction callback
// that sees every aten op with its inputs and outputs. Only the outermost op
// of a chain counts (aten::linear calls aten::addmm: the linear counts), and
// only ops the TorchScript interpreter runs for the module: constant
// folding during graph optimization runs ops too, outside any module.
#pragma once

#include <ATen/record_function.h>

#include <map>
#include <string>

namespace ptscope::torch_backend {

struct OpTotals {
  uint64_t count = 0, macs = 0, flops = 0;
  bool known = true;
};

struct FlopReport {
  std::map<std::string, OpTotals> ops;       // "aten::conv2d" -> totals
  std::map<std::string, OpTotals> modules;   // top-level submodule -> totals
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

}  // namespace ptscope::torch_backend
