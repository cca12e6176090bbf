#include "op_counter.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/csrc/jit/runtime/interpreter.h>

#include <mutex>

#include "flops.h"

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

// "TOP(Net)::forward", "SELF(Net)::_impl", "layer1(Sequential)::forward"
// -> "layer1". SELF entries are the top module's other methods and "::fn"
// entries free functions; ops reached only through those are the top
// module's own, "(top)".
std::string top_level_module(const std::vector<std::string>& hierarchy) {
  for (size_t i = 1; i < hierarchy.size(); ++i) {
    const std::string& e = hierarchy[i];
    size_t paren = e.find('(');
    if (paren == 0 || paren == std::string::npos) continue;
    std::string name = e.substr(0, paren);
    if (name != "SELF") return name;
  }
  return "(top)";
}

// The interpreter may hand the callback more values than the op takes or
// returns (what else is on its stack, e.g. inside a differentiable graph);
// the op's own are the last N, N from its schema.
struct SchemaCounts {
  size_t arguments = SIZE_MAX, returns = SIZE_MAX;
};
SchemaCounts schema_counts(const at::RecordFunction& fn) {
  static std::mutex cache_mu;
  static std::map<std::string, SchemaCounts> cache;
  auto name = fn.operator_name();
  if (!name) return {};
  std::string key = name->name + "." + name->overload_name;
  std::lock_guard<std::mutex> lock(cache_mu);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  auto handle = c10::Dispatcher::singleton().findSchema(*name);
  SchemaCounts n;
  if (handle) n = {handle->schema().arguments().size(), handle->schema().returns().size()};
  cache[key] = n;
  return n;
}

std::vector<OpArg> last_values(const c10::IValue* values, size_t size, size_t count) {
  std::vector<OpArg> args;
  for (size_t i = size - std::min(size, count); i < size; ++i) args.push_back(to_arg(values[i]));
  return args;
}

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
  auto ctx = std::make_unique<Context>();
  if (depth++ > 0) return ctx;
  std::vector<std::string> hierarchy = torch::jit::currentModuleHierarchy();
  if (hierarchy.empty()) return ctx;  // not run by the module's interpreter
  ctx->counted = true;
  ctx->module = top_level_module(hierarchy);
  try {
    c10::ArrayRef<const c10::IValue> inputs = fn.inputs();
    ctx->inputs = last_values(inputs.data(), inputs.size(), schema_counts(fn).arguments);
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
    const std::vector<c10::IValue>& values = fn.outputs();
    outputs = last_values(values.data(), values.size(), schema_counts(fn).returns);
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
