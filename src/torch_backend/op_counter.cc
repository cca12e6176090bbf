#include "op_counter.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/csrc/jit/runtime/interpreter.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <set>

#include "flops.h"
#include "script_model.h"

namespace ptscope::torch_backend {
namespace {

std::mutex mu;
FlopReport totals;
std::map<std::string, size_t> row_of;   // TorchScript: module path -> index in totals.layers
std::set<const void*> weights_seen;     // LayerScope: weights some row already counts
std::atomic<bool> recording{false};     // an OpCounter is alive
thread_local int depth = 0;
thread_local std::vector<int64_t> scopes;  // LayerScope rows, outermost first
thread_local int built_forwards = 0;       // BuiltForward scopes alive

struct Context : at::ObserverContext {
  bool counted = false;
  std::string module;
  std::vector<int64_t> rows;  // the per-layer rows the op counts for
  bool interpreted = false;   // TorchScript: rows take the op's output as theirs
  std::vector<OpArg> inputs;
};

// "layer1(__torch__.torchvision.models.resnet.Sequential)::forward" -> {"layer1", "Sequential"}
std::pair<std::string, std::string> entry_parts(const std::string& e) {
  size_t open = e.find('('), close = e.find(')', open);
  std::string type = open == std::string::npos ? "" : e.substr(open + 1, close - open - 1);
  size_t dot = type.rfind('.');
  return {open == std::string::npos ? e : e.substr(0, open), dot == std::string::npos ? type : type.substr(dot + 1)};
}

// Under `mu`: the rows of every module in the interpreter's call stack,
// created in the order their first op runs. TOP and SELF entries are the
// root module; "::fn" entries free functions, part of the module calling them.
std::vector<int64_t> interpreter_rows(const std::vector<std::string>& hierarchy) {
  std::vector<int64_t> rows;
  std::string path;
  for (size_t i = 1; i < hierarchy.size(); ++i) {
    auto [name, type] = entry_parts(hierarchy[i]);
    if (hierarchy[i].find('(') == 0 || hierarchy[i].find('(') == std::string::npos || name == "SELF") continue;
    path += (path.empty() ? "" : ".") + name;
    auto [it, added] = row_of.emplace(path, totals.layers.size());
    if (added) {
      LayerTotals row;
      row.name = path;
      row.type = type;
      row.depth = static_cast<int64_t>(rows.size());
      totals.layers.push_back(row);
    }
    rows.push_back(static_cast<int64_t>(it->second));
  }
  return rows;
}

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

// The first tensor of a module's output, depth first through tuples and
// lists: a module returning (output, weights) is shown by its output.
const at::Tensor* first_tensor(const c10::IValue& v) {
  if (v.isTensor()) return v.toTensor().defined() ? &v.toTensor() : nullptr;
  if (v.isTuple())
    for (const c10::IValue& e : v.toTupleRef().elements())
      if (const at::Tensor* t = first_tensor(e)) return t;
  if (v.isList())
    for (const c10::IValue& e : v.toListRef())
      if (const at::Tensor* t = first_tensor(e)) return t;
  return nullptr;
}

// kModuleOutputOp(name, type, output), run by the caller of module `name`
// after the call: the row's output, in place of its last op's. A module
// that ran no op (an Identity) gets its row here.
void on_module_output(const at::RecordFunction& fn) {
  std::vector<std::string> hierarchy = torch::jit::currentModuleHierarchy();
  c10::ArrayRef<const c10::IValue> args = fn.inputs();
  if (hierarchy.empty() || args.size() < 3 || !args[args.size() - 3].isString()) return;
  const c10::IValue& output = args[args.size() - 1];
  std::lock_guard<std::mutex> lock(mu);
  std::vector<int64_t> callers = interpreter_rows(hierarchy);
  std::string caller = callers.empty() ? "" : totals.layers[static_cast<size_t>(callers.back())].name;
  std::string path = (caller.empty() ? "" : caller + ".") + args[args.size() - 3].toStringRef();
  auto [it, added] = row_of.emplace(path, totals.layers.size());
  if (added) {
    LayerTotals row;
    row.name = path;
    row.type = args[args.size() - 2].toStringRef();
    row.depth = static_cast<int64_t>(callers.size());
    totals.layers.push_back(row);
  }
  LayerTotals& row = totals.layers[it->second];
  const at::Tensor* t = first_tensor(output);
  row.output_shape = t ? t->sizes().vec() : std::vector<int64_t>{};
  row.activation_bytes = t ? t->nbytes() : 0;
  row.output_seen = true;
}

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
  auto ctx = std::make_unique<Context>();
  if (depth++ > 0) return ctx;
  if (std::strcmp(fn.name(), kModuleOutputOp) == 0) {
    try {
      on_module_output(fn);
    } catch (const c10::Error&) {
      // Recorded without inputs: the row keeps its last op's output.
    }
    return ctx;
  }
  if (!scopes.empty()) {  // a model built in C++
    ctx->counted = true;
    ctx->rows = scopes;
    std::lock_guard<std::mutex> lock(mu);
    ctx->module = totals.layers[static_cast<size_t>(scopes.front())].name;
  } else if (built_forwards > 0) {
    ctx->counted = true;
    ctx->module = "(top)";
  } else {
    std::vector<std::string> hierarchy = torch::jit::currentModuleHierarchy();
    if (hierarchy.empty()) return ctx;  // not run by the module's interpreter
    ctx->counted = true;
    ctx->interpreted = true;
    ctx->module = top_level_module(hierarchy);
    std::lock_guard<std::mutex> lock(mu);
    ctx->rows = interpreter_rows(hierarchy);
  }
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
  uint64_t out_bytes = 0;
  try {
    const std::vector<c10::IValue>& values = fn.outputs();
    outputs = last_values(values.data(), values.size(), schema_counts(fn).returns);
    if (!values.empty() && values.back().isTensor() && values.back().toTensor().defined())
      out_bytes = values.back().toTensor().nbytes();
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
  for (int64_t r : ctx->rows) {
    LayerTotals& row = totals.layers[static_cast<size_t>(r)];
    row.macs += cost.macs;
    row.flops += cost.flops;
    // The interpreter does not say what a module returns: until its
    // caller's kModuleOutputOp does, its last op's output stands in (right
    // for all but modules returning a tuple or an input).
    if (ctx->interpreted && !row.output_seen && !outputs.empty() && outputs.back().kind == OpArg::Kind::Tensor) {
      row.output_shape = outputs.back().shape;
      row.activation_bytes = out_bytes;
    }
  }
}

}  // namespace

OpCounter::OpCounter() {
  {
    std::lock_guard<std::mutex> lock(mu);
    totals = FlopReport{};
    row_of.clear();
    weights_seen.clear();
  }
  depth = 0;
  scopes.clear();
  recording = true;
  handle_ = at::addGlobalCallback(at::RecordFunctionCallback(on_start, on_end)
                                      .needsInputs(true)
                                      .needsOutputs(true)
                                      .scopes({at::RecordScope::FUNCTION}));
}

OpCounter::~OpCounter() {
  recording = false;
  at::removeCallback(handle_);
}

FlopReport OpCounter::report() const {
  std::lock_guard<std::mutex> lock(mu);
  return totals;
}

BuiltForward::BuiltForward() { ++built_forwards; }
BuiltForward::~BuiltForward() { --built_forwards; }

LayerScope::LayerScope(const std::string& name, const char* type, std::initializer_list<at::Tensor> weights) {
  if (!recording) return;
  std::lock_guard<std::mutex> lock(mu);
  LayerTotals row;
  row.name = name;
  row.type = type;
  row.depth = static_cast<int64_t>(scopes.size());
  for (const at::Tensor& w : weights)
    if (w.defined() && weights_seen.insert(w.unsafeGetTensorImpl()).second) row.parameters += w.numel();
  row_ = static_cast<int64_t>(totals.layers.size());
  totals.layers.push_back(std::move(row));
  scopes.push_back(row_);
}

LayerScope::~LayerScope() {
  if (row_ < 0) return;
  scopes.pop_back();
  std::lock_guard<std::mutex> lock(mu);
  if (!scopes.empty())
    totals.layers[static_cast<size_t>(scopes.back())].parameters += totals.layers[static_cast<size_t>(row_)].parameters;
}

const at::Tensor& LayerScope::out(const at::Tensor& t) {
  if (row_ < 0) return t;
  std::lock_guard<std::mutex> lock(mu);
  LayerTotals& row = totals.layers[static_cast<size_t>(row_)];
  row.output_shape = t.sizes().vec();
  row.activation_bytes = t.nbytes();
  return t;
}

}  // namespace ptscope::torch_backend
