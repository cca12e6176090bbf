#include "deepspeed_state.h"

#include "ptscope/error.h"

namespace ptscope {
namespace {

constexpr size_t kMaxNames = size_t{1} << 22;
constexpr uint64_t kMaxNumel = uint64_t{1} << 62;

// A dict, or an OrderedDict (pickled as a call with SETITEMS): its k, v list.
const std::vector<Value*>* pairs(const Value* v) {
  if (!v) return nullptr;
  if (v->kind == Kind::Dict) return &v->items;
  if (v->kind == Kind::Object && v->callable && v->callable->s == "collections.OrderedDict") return &v->items;
  return nullptr;
}

const Value* lookup(const Value* v, const char* key) {
  const std::vector<Value*>* kv = pairs(v);
  if (!kv) return nullptr;
  for (size_t i = 0; i + 1 < kv->size(); i += 2)
    if ((*kv)[i]->is_str(key)) return (*kv)[i + 1];
  return nullptr;
}

// An int, or an int subclass pickled as a call on one (ZeroStageEnum(2)).
std::optional<int64_t> int_of(const Value* v) {
  if (v && v->kind == Kind::Object && v->args && v->args->kind == Kind::Tuple && v->args->items.size() == 1)
    v = v->args->items[0];
  if (!v || v->kind != Kind::Int || !v->s.empty()) return std::nullopt;  // s: wider than 64 bits
  return v->i;
}

// zero_stage: a ZeroStageEnum (deepspeed/runtime/zero/config.py), pickled
// by value, ZeroStageEnum(2), or, by newer Pythons, by name,
// getattr(ZeroStageEnum, "gradients"); or a plain int.
std::optional<int64_t> stage_of(const Value* v) {
  if (v && v->kind == Kind::Object && v->callable &&
      (v->callable->s == "__builtin__.getattr" || v->callable->s == "builtins.getattr") && v->args &&
      v->args->kind == Kind::Tuple && v->args->items.size() == 2 && v->args->items[1]->kind == Kind::Str) {
    static const std::map<std::string, int64_t> kStages = {
        {"disabled", 0}, {"optimizer_states", 1}, {"gradients", 2}, {"weights", 3}, {"max_stage", 3}};
    auto it = kStages.find(v->args->items[1]->s);
    return it == kStages.end() ? std::nullopt : std::optional<int64_t>(it->second);
  }
  return int_of(v);
}

std::string str_of(const Value* v) { return v && v->kind == Kind::Str ? v->s : ""; }

// At the value's byte; a shared value (None, a small int: many bytes make
// it) points at its container's.
[[noreturn]] void fail(const std::string& what, const Value* at, const Value* in = nullptr) {
  std::optional<uint64_t> where = at ? at->where() : std::nullopt;
  if (!where && in) where = in->where();
  throw Error(what, where);
}

// torch.Size(tuple) as a call, or a plain tuple or list of sizes.
std::vector<int64_t> shape_of(const Value* v, const std::string& what) {
  const Value* seq = v;
  if (v && v->kind == Kind::Object && v->callable && v->callable->s == "torch.Size" && v->args &&
      v->args->kind == Kind::Tuple && v->args->items.size() == 1)
    seq = v->args->items[0];
  if (!seq || (seq->kind != Kind::Tuple && seq->kind != Kind::List)) fail(what + " is not a torch.Size", v);
  if (seq->items.size() > limits::kMaxTensorDims)
    fail(what + " has more than " + std::to_string(limits::kMaxTensorDims) + " dimensions", v);
  std::vector<int64_t> out;
  uint64_t n = 1;
  for (const Value* d : seq->items) {
    std::optional<int64_t> i = int_of(d);
    if (!i || *i < 0) fail(what + " has a size that is not a non-negative integer", d, v);
    if (*i && n > kMaxNumel / static_cast<uint64_t>(*i)) fail(what + " has too many elements", v);
    n *= static_cast<uint64_t>(*i);
    out.push_back(*i);
  }
  return out;
}

// name -> torch.Size, a dict or OrderedDict; nullptr and None give none.
Shapes shapes_of(const Value* v, const char* key, size_t& names) {
  Shapes out;
  if (!v || v->kind == Kind::None) return out;
  const std::vector<Value*>* kv = pairs(v);
  if (!kv) fail(std::string(key) + " is not a dict of name -> torch.Size", v);
  for (size_t i = 0; i + 1 < kv->size(); i += 2) {
    if ((*kv)[i]->kind != Kind::Str) fail(std::string(key) + " has a name that is not a string", (*kv)[i]);
    if (++names > kMaxNames) fail(std::string(key) + ": more than 4,194,304 names", v);
    out.emplace_back((*kv)[i]->s, shape_of((*kv)[i + 1], std::string(key) + " of '" + (*kv)[i]->s + "'"));
  }
  return out;
}

}  // namespace

uint64_t numel_of(const std::vector<int64_t>& shape) {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);  // bounded by shape_of
  return n;
}

void read_model_facts(const Value& root, ModelFacts& f) {
  if (root.kind != Kind::Dict) fail("not a DeepSpeed model states file: the saved object is not a dict", &root);
  const Value* bn = root.get("buffer_names");
  f.model_states = bn != nullptr;
  if (!f.model_states) return;
  if (bn->kind != Kind::List) fail("buffer_names is not a list", bn, &root);
  for (const Value* n : bn->items) {
    if (n->kind != Kind::Str) fail("buffer_names holds a value that is not a string", n, bn);
    f.buffer_names.insert(n->s);
  }
  f.dp_world_size = int_of(root.get("dp_world_size"));
  f.mp_world_size = int_of(root.get("mp_world_size"));
  f.global_steps = int_of(root.get("global_steps"));
  f.ds_version = str_of(root.get("ds_version"));
  f.config_stage = int_of(lookup(lookup(root.get("ds_config"), "zero_optimization"), "stage"));
  size_t names = 0;
  const Value* ps = root.get("param_shapes");
  if (ps && ps->kind != Kind::None) {
    if (ps->kind != Kind::List) fail("param_shapes is not a list", ps, &root);
    f.zero = true;
    for (const Value* g : ps->items) f.param_shapes.push_back(shapes_of(g, "param_shapes", names));
  }
  f.frozen = shapes_of(root.get("frozen_param_shapes"), "frozen_param_shapes", names);
  const Value* sp = root.get("shared_params");
  if (const std::vector<Value*>* kv = pairs(sp))
    for (size_t i = 0; i + 1 < kv->size(); i += 2)
      if ((*kv)[i]->kind == Kind::Str && (*kv)[i + 1]->kind == Kind::Str) f.shared[(*kv)[i]->s] = (*kv)[i + 1]->s;
}

void read_optim_facts(const Value& root, OptimFacts& f) {
  if (root.kind != Kind::Dict) fail("not a DeepSpeed optimizer states file: the saved object is not a dict", &root);
  const Value* osd = root.get("optimizer_state_dict");
  if (!pairs(osd)) fail("not a DeepSpeed optimizer states file: no optimizer_state_dict dict", &root);
  f.zero_stage = stage_of(lookup(osd, "zero_stage"));
  // bf16_optimizer.py's state_dict has no zero_stage: it partitions as ZeRO-1.
  if (!f.zero_stage && lookup(osd, "single_partition_of_fp32_groups") &&
      !lookup(osd, "loss_scaler"))
    f.zero_stage = 1;
  const Value* pc = lookup(osd, "partition_count");
  if (pc && pc->kind == Kind::List) {  // one per group; zero_to_fp32 takes the largest
    for (const Value* v : pc->items)
      if (std::optional<int64_t> n = int_of(v); n && (!f.partition_count || *n > *f.partition_count))
        f.partition_count = n;
  } else {
    f.partition_count = int_of(pc);
  }
  if (const Value* gp = lookup(osd, "group_paddings"); gp && gp->kind == Kind::List)
    for (const Value* v : gp->items)
      if (std::optional<int64_t> n = int_of(v); n && *n >= 0) f.group_paddings.push_back(*n);
}

}  // namespace ptscope
