#include "op_counter.h"

#include <torch/csrc/jit/runtime/interpreter.h>

#include <mutex>

#include "ptscope/flops.h"

namespace ptscope::torch_backend {
namespace {

std::mutex mu;
FlopReport totals;
thread_local int depth = 0;

struct Context : at::ObserverContext {
  bool counted = false;
  std::string module;
  std::vector<OpArg> inputs;
};

OpArg to_arg(const c10::IValue& v) {
  OpArg a;
  if (v.isTensor()) {
    a.kind = OpArg::Kind::Tensor;
    const at::Tensor& t = v.toTensor();
    if (t.defined()) a.shape = t.sizes().vec();
  } else if (v.isBool()) {
    a.kind = OpArg::Kind::Bool;
    a.i = v.toBool();
  } else if (v.isInt()) {
    a.kind = OpArg::Kind::Int;
    a.i = v.toInt();
  } else if (v.isIntList()) {
    a.kind = OpArg::Kind::IntList;
    a.shape = v.toIntVector();
  } else if (v.isString()) {
    a.kind = OpArg::Kind::Str;
    a.s = v.toStringRef();
  } else if (v.isDouble()) {
    a.kind = OpArg::Kind::Double;
  }
  return a;
}

// "TOP(Net)::forward", "layer1(Sequential)::forward", ... -> "layer1".
// Ops called by the top module's own code (or functions it calls) are
// attributed to "(top)".
std::string top_level_module(const std::vector<std::string>& hierarchy) {
  if (hierarchy.size() < 2) return "(top)";
  const std::string& e = hierarchy[1];
  size_t paren = e.find('(');
  if (paren == 0 || paren == std::string::npos) return "(top)";
  return e.substr(0, paren);
}

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
  auto ctx = std::make_unique<Context>();
  if (depth++ > 0) return ctx;
  std::vector<std::string> hierarchy = torch::jit::currentModuleHierarchy();
  if (hierarchy.empty()) return ctx;  // not run by the module's interpreter
  ctx->counted = true;
  ctx->module = top_level_module(hierarchy);
  try {
    for (const c10::IValue& v : fn.inputs()) ctx->inputs.push_back(to_arg(v));
  } catch (const c10::Error&) {
    // Recorded without inputs: counted, but with no shapes to price it.
  }
  return ctx;
}

void on_end(const at::RecordFunction& fn, at::ObserverContext* base) {
  --depth;
  auto* ctx = static_cast<Context*>(base);
  if (!ctx || !ctx->counted) return;
  std::vector<OpArg> outputs;
  try {
    for (const c10::IValue& v : fn.outputs()) outputs.push_back(to_arg(v));
  } catch (const c10::Error&) {
  }
  std::string name = fn.name();
  OpCost cost = op_cost(name, ctx->inputs, outputs);
  std::lock_guard<std::mutex> lock(mu);
  OpTotals& op = totals.ops[name];
  ++op.count;
  op.macs += cost.macs;
  op.flops += cost.flops;
  op.known = cost.known;
  OpTotals& m = totals.modules[ctx->module];
  ++m.count;
  m.macs += cost.macs;
  m.flops += cost.flops;
  totals.macs += cost.macs;
  totals.flops += cost.flops;
}

}  // namespace

OpCounter::OpCounter() {
  {
    std::lock_guard<std::mutex> lock(mu);
    totals = FlopReport{};
  }
  depth = 0;
  handle_ = at::addGlobalCallback(at::RecordFunctionCallback(on_start, on_end)
                                      .needsInputs(true)
                                      .needsOutputs(true)
                                      .scopes({at::RecordScope::FUNCTION}));
}

OpCounter::~OpCounter() { at::removeCallback(handle_); }

FlopReport OpCounter::report() const {
  std::lock_guard<std::mutex> lock(mu);
  return totals;
}

}  // namespace ptscope::torch_backend
