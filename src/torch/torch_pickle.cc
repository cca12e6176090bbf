#include "torch_pickle.h"

#include "torch_ao.h"

#include <algorithm>

namespace ptscope {

std::unique_ptr<TorchPickle> parse_torch_pickle(const ByteSource& src, uint64_t begin,
                                                uint64_t end, const std::string& what,
                                                TorchHooks::Flavor flavor,
                                                const ClassDecls* decls,
                                                size_t expected_tensors) {
  auto tp = std::make_unique<TorchPickle>(flavor);
  tp->hooks.expect(expected_tensors);
  tp->pickle = Pickle::parse(src, begin, end, what, &tp->hooks);
  walk_torch_pickle(*tp, begin, decls);
  return tp;
}

void walk_torch_pickle(TorchPickle& tp, uint64_t begin, const ClassDecls* decls) {
  // Entries in proportion to the pickle: shared containers cannot turn a
  // few hundred bytes into millions of names.
  WalkLimits limits;
  uint64_t bytes = tp.pickle->end() - begin;
  limits.max_entries = std::min(limits.max_entries,
                                bytes * ptscope::limits::kEntriesPerPickleByte);
  // The walk takes the rebuilt tensors it names into its entries.
  tp.hooks.parsed();
  tp.walk = walk_state(tp.pickle->root(), std::move(tp.hooks.tensors), decls, limits);
  tp.hooks.tensors.clear();
  tp.globals = tp.pickle->globals();
}

void adopt_tensors(TorchPickle& tp, const std::vector<int>& storage_index,
                   std::vector<Tensor>& out) {
  auto remap = [&](Tensor& t) {
    if (t.storage >= 0) t.storage = storage_index[static_cast<size_t>(t.storage)];
  };
  for (Tensor& t : tp.walk.tensors) {
    remap(t);
    for (Tensor& part : t.parts) remap(part);  // a sparse tensor's indices and values
  }
  // The walk's table becomes the checkpoint's: one copy of it at a time.
  if (out.empty()) {
    out = std::move(tp.walk.tensors);
    return;
  }
  out.reserve(out.size() + tp.walk.tensors.size());
  for (Tensor& t : tp.walk.tensors) out.push_back(std::move(t));
}

void adopt_state(TorchPickle& tp, const std::vector<int>& storage_index,
                 Checkpoint& c) {
  adopt_tensors(tp, storage_index, c.tensors);
  c.groups = std::move(tp.walk.groups);
  c.roles_known = tp.walk.exact_roles || tp.walk.state_dict;
  c.globals = std::move(tp.globals);
  group_torch_ao(c);
}

}  // namespace ptscope
