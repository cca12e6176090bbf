#include "state_walk.h"

#include <deque>
#include <map>
#include <set>
#include <string_view>
#include <unordered_set>

#include "ptscope/error.h"
#include "keyed_hash.h"
#include "state_kinds.h"

namespace ptscope {
namespace {

std::string join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

class Walker {
 public:
  Walker(std::vector<Tensor>& pool, const ClassDecls* decls, WalkLimits limits,
         WalkResult& out)
      : pool_(pool), emitted_(pool.size(), kNotEmitted), decls_(decls), limits_(limits), out_(out) {}

  // The entries, into out_.tensors: the pool itself when they were made in place.
  void finish() {
    if (!in_place_) return;
    pool_.resize(entries_);
    out_.tensors = std::move(pool_);
  }

  void visit(const Value* v, const std::string& path, int depth) {
    if (!v->shared) at_ = v->offset;
    step(1, v);
    if ((path_bytes_ += path.size()) > limits_.max_path_bytes)
      throw Error("object graph paths add up to more than " +
                      std::to_string(limits_.max_path_bytes) + " bytes",
                  where(v));
    if (depth > limits_.max_depth)
      throw Error("objects nested deeper than " + std::to_string(limits_.max_depth) +
                      " levels",
                  where(v));
    if (!on_path_.insert(v).second) return;  // a cycle: seen on this path already
    switch (v->kind) {
      case Kind::Tensor: emit_tensor(v, path, Role::Unknown, ""); break;
      case Kind::Dict: visit_pairs(v->items, path, depth); break;
      case Kind::List: case Kind::Tuple: case Kind::Set:
        for (size_t i = 0; i < v->items.size(); ++i)
          visit(v->items[i], join(path, std::to_string(i)), depth + 1);
        break;
      case Kind::Object: visit_object(v, path, depth); break;
      default: break;
    }
    on_path_.erase(v);
  }

 private:
  // Where an error points: the value, or for a shared one (which many bytes
  // made) the last value of its own visited, its container.
  uint64_t where(const Value* v) const { return v->shared ? at_ : v->offset; }
  uint64_t at_ = 0;

  // Charges n steps of work done at `v`: visits, members and lookups alike.
  void step(uint64_t n, const Value* v) {
    if ((visits_ += n) > limits_.max_visits)
      throw Error("object graph has more than " + std::to_string(limits_.max_visits) +
                      " paths to walk",
                  where(v));
  }

  void visit_pairs(const std::vector<Value*>& kv, const std::string& path, int depth) {
    for (size_t i = 0; i + 1 < kv.size(); i += 2) {
      std::string key = key_text(kv[i]);
      if (depth == 0) top_ = i / 2;  // the group, should this be a nested checkpoint
      visit(kv[i + 1], join(path, key), depth + 1);
    }
  }

  void emit(const Value* v, const std::string& name, Role role, const char* rule) {
    if (entries_ >= limits_.max_entries)
      throw Error("object graph names more than " + std::to_string(limits_.max_entries) +
                      " tensor entries",
                  where(v));
    if ((name_bytes_ += name.size()) > limits_.max_name_bytes)
      throw Error("tensor names add up to more than " +
                      std::to_string(limits_.max_name_bytes) + " bytes",
                  where(v));
    // A pool tensor's first entry takes it; a second name (tied weights)
    // copies the first entry. While every entry is the pool tensor of its
    // own index, the usual order (a state_dict pickles each tensor where
    // its key is), the pool is the entries: no second table of tensors.
    size_t i = static_cast<size_t>(v->i);
    bool first = emitted_[i] == kNotEmitted;
    if (in_place_ && !(first && i == entries_)) leave_the_pool();
    Tensor* t = &pool_[i];
    if (!in_place_) {
      out_.tensors.push_back(first ? std::move(pool_[i]) : out_.tensors[emitted_[i]]);
      t = &out_.tensors.back();
    }
    if (first) emitted_[i] = entries_;
    ++entries_;
    t->declared = false;  // per entry, as name, group, role and rule
    t->name = name;
    top_of_.push_back(top_);
    t->role = role;
    t->rule = rule;
  }

  // The entries made in place move to a table of their own.
  void leave_the_pool() {
    in_place_ = false;
    out_.tensors.reserve(std::min<size_t>(pool_.size(), limits_.max_entries));
    for (size_t k = 0; k < entries_; ++k) out_.tensors.push_back(std::move(pool_[k]));
  }
  Tensor& last_entry() { return in_place_ ? pool_[entries_ - 1] : out_.tensors.back(); }

  // A tensor and, for a torch.ao per-channel qtensor, the scales and zero
  // points it carries (torch_hooks.cc), named after it.
  void emit_tensor(const Value* v, const std::string& name, Role role, const char* rule) {
    emit(v, name, role, rule);
    for (const Value* meta : v->items)
      emit(meta, join(name, meta->s), Role::QuantMeta, "torch.ao per-channel qparams");
  }

  // torch.ao packed params, a C++ object pickled as its __getstate__:
  // torch.save(model) writes torch.ScriptObject with state (payload, class
  // name); TorchScript writes __torch__.torch.classes.quantized.*PackedParamsBase
  // with state payload. Linear's payload is (weight, bias), named as
  // state_dict() names that tuple: PATH.0, PATH.1.
  static const Value* packed_payload(const Value* v) {
    if (!v->callable || v->callable->kind != Kind::Global || !v->state ||
        v->state->kind != Kind::Tuple)
      return nullptr;
    const std::string& cls = v->callable->s;
    if (cls.rfind("__torch__.torch.classes.quantized.", 0) == 0) return v->state;
    const auto& st = v->state->items;
    if (cls == "torch.ScriptObject" && st.size() == 2 && st[1]->kind == Kind::Str &&
        st[1]->s.rfind("__torch__.torch.classes.quantized.", 0) == 0)
      return st[0];
    return nullptr;
  }

  // torch.ao dynamic RNN cell params, CellParamsBase: torch.save writes a
  // torch.ScriptObject with state (payload, class name), TorchScript the
  // class itself with state payload. The payload is RNN.cpp's
  // CellParamsSerializationType: (type, tensors, doubles, longs, packed
  // linear params).
  static const Value* cell_payload(const Value* v) {
    static const std::string kCell = "__torch__.torch.classes.rnn.CellParamsBase";
    if (!v->callable || v->callable->kind != Kind::Global || !v->state ||
        v->state->kind != Kind::Tuple)
      return nullptr;
    const Value* payload = nullptr;
    if (v->callable->s == kCell) {
      payload = v->state;
    } else if (v->callable->s == "torch.ScriptObject") {
      const auto& st = v->state->items;
      if (st.size() == 2 && st[1]->kind == Kind::Str && st[1]->s == kCell) payload = st[0];
    }
    if (!payload || payload->kind != Kind::Tuple || payload->items.size() != 5 ||
        payload->items[0]->kind != Kind::Str || payload->items[1]->kind != Kind::List ||
        payload->items[4]->kind != Kind::List)
      return nullptr;
    return payload;
  }

  // Cell params of quantize_dynamic's LSTM/GRU. "quantized_dynamic" keeps
  // the biases twice: as tensors (bias_ih, bias_hh) and inside the packed
  // Linear params (packed_ih = (qweight, bias_ih), packed_hh likewise);
  // "quantized_fp16" only in the packed params. Named PATH.bias_ih,
  // PATH.packed_ih.0 (weight), PATH.packed_ih.1 (bias copy), ...; torch_ao.cc
  // names the logical tensors after the float LSTM. Other types (the
  // legacy static "quantized") are walked structurally.
  void visit_cell(const Value* payload, const std::string& path, int depth) {
    const std::string& type = payload->items[0]->s;
    const auto& tensors = payload->items[1]->items;
    const auto& packed = payload->items[4]->items;
    bool dynamic = type == "quantized_dynamic" && tensors.size() == 2;
    bool fp16 = type == "quantized_fp16" && tensors.empty();
    if ((!dynamic && !fp16) || packed.size() != 2) return visit(payload, path, depth + 1);
    if (dynamic)
      for (size_t i = 0; i < 2; ++i)
        if (tensors[i]->kind == Kind::Tensor)
          emit_tensor(tensors[i], join(path, i == 0 ? "bias_ih" : "bias_hh"), Role::Unknown, "");
    for (size_t i = 0; i < 2; ++i)
      visit(packed[i], join(path, i == 0 ? "packed_ih" : "packed_hh"), depth + 1);
  }

  // A TorchScript module with __getstate__ (torch.ao quantized Conv*): its
  // state is a tuple whose one qtensor is the weight and the float tensor
  // right after it the bias, as state_dict() names them.
  bool visit_script_getstate(const Value* state, const std::string& path) {
    const auto& items = state->items;
    for (size_t i = 0; i < items.size(); ++i) {
      const Value* w = items[i];
      if (w->kind != Kind::Tensor || !is_qint(pool_tensor(w).dtype)) continue;
      emit_tensor(w, join(path, "weight"), Role::Unknown, "");
      if (i + 1 < items.size() && items[i + 1]->kind == Kind::Tensor)
        emit(items[i + 1], join(path, "bias"), Role::Parameter,
             "TorchScript __getstate__ bias of a quantized module");
      return true;
    }
    return false;
  }

  static bool is_qint(DType d) {
    return d == DType::QInt8 || d == DType::QUInt8 || d == DType::QInt32 ||
           d == DType::QUInt4x2 || d == DType::QUInt2x4;
  }

  void visit_object(const Value* v, const std::string& path, int depth) {
    const Value* state = v->state;
    if (const Value* payload = packed_payload(v)) return visit(payload, path, depth + 1);
    if (const Value* payload = cell_payload(v)) return visit_cell(payload, path, depth);
    if (decls_ && v->callable && v->callable->kind == Kind::Global) {
      auto it = decls_->find(v->callable->s);
      if (it != decls_->end() && state && state->kind == Kind::Dict)
        return visit_script_module(state, it->second, path, depth);
      if (it != decls_->end() && state && state->kind == Kind::Tuple &&
          visit_script_getstate(state, path))
        return;
    }
    if (state && state->kind == Kind::Dict) step(state->items.size(), state);  // the lookups
    if (state && state->kind == Kind::Dict && has_key(state, "_parameters") &&
        has_key(state, "_modules"))
      return visit_nn_module(state, path, depth);
    if (v->args) visit(v->args, path, depth + 1);
    if (state) {
      if (state->kind == Kind::Tuple)  // (__dict__, __slots__ state)
        for (const Value* part : state->items) visit(part, path, depth + 1);
      else
        visit(state, path, depth + 1);
    }
    for (size_t i = 0; i < v->items.size(); ++i)
      visit(v->items[i], join(path, std::to_string(i)), depth + 1);
  }

  // A pickled torch.nn.Module: __dict__ holds _parameters, _buffers, _modules.
  // Every member looked at is a step: a module shared by many paths is
  // walked once per path, and its members with it.
  void visit_nn_module(const Value* state, const std::string& path, int depth) {
    out_.exact_roles = true;
    const Value *params = nullptr, *buffers = nullptr, *mods = nullptr, *np = nullptr,
                *packed = nullptr;
    step(state->items.size() / 2, state);
    for (size_t i = 0; i + 1 < state->items.size(); i += 2) {
      const Value* k = state->items[i];
      if (k->kind != Kind::Str) continue;
      const Value* v = state->items[i + 1];
      // The first of each, as Value::get finds it.
      if (k->s == "_parameters" && !params) params = v;
      else if (k->s == "_buffers" && !buffers) buffers = v;
      else if (k->s == "_modules" && !mods) mods = v;
      else if (k->s == "_non_persistent_buffers_set" && !np) np = v;
      else if (k->s == "_packed_params" && !packed) packed = v;
    }
    std::unordered_set<std::string, KeyedHash> transient;
    if (np) {
      step(np->items.size(), np);
      for (const Value* k : np->items) transient.insert(key_text(k));
    }
    auto members = [&](const Value* d, Role role, const char* rule) {
      if (!d || d->kind != Kind::Dict) return;
      step(d->items.size() / 2, d);
      for (size_t i = 0; i + 1 < d->items.size(); i += 2) {
        const Value* t = d->items[i + 1];
        if (t->kind != Kind::Tensor) continue;
        std::string name = key_text(d->items[i]);
        if (transient.count(name)) continue;
        emit(t, join(path, name), role, rule);
      }
    };
    members(params, Role::Parameter, "nn.Module _parameters");
    members(buffers, Role::Buffer, "nn.Module _buffers");
    // torch.ao LinearPackedParams keeps its weight in a plain attribute.
    if (packed && packed->kind == Kind::Object && packed_payload(packed))
      visit(packed, join(path, "_packed_params"), depth + 1);
    // torch.ao dynamic LSTM/GRU: PackedParameter keeps its cell params in a
    // plain attribute, `param`.
    for (size_t i = 0; i + 1 < state->items.size(); i += 2) {
      const Value* a = state->items[i + 1];
      if (a->kind == Kind::Object && cell_payload(a))
        visit(a, join(path, key_text(state->items[i])), depth + 1);
    }
    if (mods && mods->kind == Kind::Dict)
      for (size_t i = 0; i + 1 < mods->items.size(); i += 2)
        visit(mods->items[i + 1], join(path, key_text(mods->items[i])), depth + 1);
  }

  // A TorchScript object: attributes in __dict__, roles from the class's
  // __parameters__/__buffers__ lines in code/. Other tensor attributes are
  // not part of the state_dict and are not counted.
  void visit_script_module(const Value* state, const ClassDecl& decl,
                           const std::string& path, int depth) {
    out_.exact_roles = true;
    step(state->items.size() / 2, state);
    for (size_t i = 0; i + 1 < state->items.size(); i += 2) {
      std::string name = key_text(state->items[i]);
      const Value* val = state->items[i + 1];
      if (val->kind == Kind::Tensor) {
        if (decl.parameters.count(name) || decl.buffers.count(name)) {
          bool parameter = decl.parameters.count(name) > 0;
          emit(val, join(path, name), parameter ? Role::Parameter : Role::Buffer,
               parameter ? "TorchScript __parameters__" : "TorchScript __buffers__");
          last_entry().declared = true;
        }
      } else if (val->kind == Kind::Object && val->callable &&
                 (decls_->count(val->callable->s) || packed_payload(val) ||
                  cell_payload(val))) {
        visit(val, join(path, name), depth + 1);
      }
    }
  }

  // The rebuilt tensor a Tensor value stands for, wherever it now is.
  const Tensor& pool_tensor(const Value* v) const {
    size_t i = static_cast<size_t>(v->i);
    return emitted_[i] == kNotEmitted || in_place_ ? pool_[i] : out_.tensors[emitted_[i]];
  }
  static constexpr size_t kNotEmitted = SIZE_MAX;

 public:
  static constexpr size_t kNoTop = SIZE_MAX;
  // Per entry, the root dict's pair (item index / 2) it was found under,
  // or kNoTop: the group, named only once the checkpoint proves nested,
  // so a flat state_dict does not hold each name twice.
  const std::vector<size_t>& top_of() const { return top_of_; }

 private:
  std::vector<Tensor>& pool_;
  std::vector<size_t> emitted_;  // per pool tensor: its first entry
  size_t entries_ = 0;
  bool in_place_ = true;  // entry k is pool_[k], so far
  const ClassDecls* decls_;
  WalkLimits limits_;
  WalkResult& out_;
  uint64_t visits_ = 0, name_bytes_ = 0, path_bytes_ = 0;
  std::unordered_set<const Value*> on_path_;
  size_t top_ = kNoTop;  // the root dict's pair being walked
  std::vector<size_t> top_of_;  // per entry: its top_
};

}  // namespace

WalkResult walk_state(const Value* root, std::vector<Tensor> pool,
                      const ClassDecls* decls, WalkLimits limits) {
  WalkResult out;
  Walker walker(pool, decls, limits, out);
  walker.visit(root, "", 0);
  walker.finish();
  // A top-level dict is nested when its containers hold the tensors, whatever
  // loose tensors sit beside them (rng state, best_acc1, a loss); flat when
  // only loose tensors hold them. Loose tensors with state_dict names beside
  // containers (torchtitan's flattened model) are one group, the model. A
  // container under a dotted key is a state_dict entry too (torch.ao's
  // `fc._packed_params._packed_params` tuple), never a group of its own:
  // trainers' group keys have no dots.
  // Keys as views: a string key's own text, other keys' text kept aside
  // (a state_dict's keys are its tensors' names: no second copy of them).
  bool loose = false, only_tensors = root->kind == Kind::Dict;
  if (root->kind == Kind::Dict)
    for (size_t i = 1; i < root->items.size(); i += 2) {
      bool tensor = root->items[i]->kind == Kind::Tensor;
      loose = loose || tensor;
      only_tensors = only_tensors && tensor;
    }
  Whole whole = root->kind == Kind::Dict ? whole_kind(root) : Whole::Checkpoint;
  // A dict of tensors alone (a state_dict) holds nothing nested: no table of
  // its keys is needed to say so.
  if (root->kind != Kind::Dict || out.tensors.empty() || (only_tensors && whole == Whole::Checkpoint)) {
    out.state_dict = loose;
    return out;
  }
  std::map<std::string_view, const Value*> values;
  std::deque<std::string> other_keys;
  std::vector<std::string_view> top_keys;  // per root pair
  bool dotted_loose = false;
  for (size_t i = 0; i + 1 < root->items.size(); i += 2) {
    const Value* k = root->items[i];
    std::string_view key = k->kind == Kind::Str ? std::string_view(k->s) : other_keys.emplace_back(key_text(k));
    top_keys.push_back(key);
    values.emplace(key, root->items[i + 1]);
    if (root->items[i + 1]->kind != Kind::Tensor) continue;
    dotted_loose = dotted_loose || key.find('.') != std::string_view::npos;
  }
  auto value_of = [&](const std::string& key) -> const Value* {
    auto it = values.find(key);
    return it == values.end() ? nullptr : it->second;
  };
  auto group_of = [&](size_t entry) {
    size_t top = walker.top_of()[entry];
    return top == Walker::kNoTop || top >= top_keys.size() ? std::string_view() : top_keys[top];
  };
  bool held = false;
  for (size_t e = 0; e < out.tensors.size(); ++e) {
    std::string_view group = group_of(e);
    auto it = values.find(group);
    held = held || (it != values.end() && it->second->kind != Kind::Tensor &&
                    group.find('.') == std::string_view::npos);
  }
  if (!held && whole == Whole::Checkpoint) {
    out.state_dict = loose;
    return out;
  }
  for (size_t e = 0; e < out.tensors.size(); ++e) out.tensors[e].group = group_of(e);
  std::map<std::string, std::string> kinds;
  std::set<std::string> from_module;
  for (Tensor& t : out.tensors) {
    const Value* v = value_of(t.group);
    bool entry = v && (v->kind == Kind::Tensor || t.group.find('.') != std::string::npos);
    if (entry && dotted_loose && whole == Whole::Checkpoint) t.group = kTopLevelGroup;
    if (t.role == Role::Parameter || t.role == Role::Buffer) from_module.insert(t.group);
  }
  for (const Tensor& t : out.tensors) {
    if (kinds.count(t.group)) continue;
    const Value* v = value_of(t.group);
    std::string kind = whole == Whole::Optimizer ? "optimizer"
                     : whole == Whole::Rng       ? "rng"
                     : t.group == kTopLevelGroup ? "model"
                                                 : group_kind(t.group, v, from_module.count(t.group) > 0);
    kinds[t.group] = kind;
    out.groups.push_back({t.group, kind});
    if ((kind == "model" || kind == "ema") && (t.group == kTopLevelGroup || all_tensors(v)))
      out.state_dict = true;
  }
  for (Tensor& t : out.tensors) {
    const std::string& kind = kinds[t.group];
    if (t.role != Role::Unknown || kind == "model" || kind == "ema") continue;
    t.role = kind == "optimizer" ? Role::Optimizer : Role::Other;
    t.rule = kind == "optimizer" ? "optimizer state" : "not model state";
  }
  return out;
}

}  // namespace ptscope
