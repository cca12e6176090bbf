#include "model_tensors.h"

#include <set>

namespace ptscope {
namespace {

bool model_state(const Tensor& t) {
  return t.role != Role::Optimizer && t.role != Role::Other && t.role != Role::Quantized &&
         t.role != Role::QuantMeta;
}

void add_logical(const Checkpoint& c, const std::string* group, std::vector<const Tensor*>& out) {
  for (const LogicalTensor& l : c.logical)
    if (!group || l.tensor.group == *group) out.push_back(&l.tensor);
}

}  // namespace

ViewKey view_key(const Tensor& t) {
  return {t.storage, t.storage_offset, t.shape, t.stride, t.dtype};
}

int primary_group(const Checkpoint& c) {
  for (const char* kind : {"model", "ema"})
    for (size_t i = 0; i < c.groups.size(); ++i)
      if (c.groups[i].kind == kind) return static_cast<int>(i);
  return -1;
}

std::vector<const Tensor*> group_entries(const Checkpoint& c, const std::string& group) {
  std::vector<const Tensor*> out;
  for (const Tensor& t : c.tensors)
    if (t.group == group && model_state(t)) out.push_back(&t);
  add_logical(c, &group, out);
  return out;
}

std::vector<const Tensor*> model_entries(const Checkpoint& c) {
  int group = primary_group(c);
  if (group >= 0) return group_entries(c, c.groups[static_cast<size_t>(group)].name);
  std::vector<const Tensor*> out;
  if (!c.groups.empty()) return out;  // nested, and no model in it
  for (const Tensor& t : c.tensors)
    if (model_state(t)) out.push_back(&t);
  add_logical(c, nullptr, out);
  return out;
}

std::vector<const Tensor*> unique_views(const std::vector<const Tensor*>& entries) {
  std::vector<const Tensor*> out;
  std::set<ViewKey> seen;
  for (const Tensor* t : entries)
    if (t->storage < 0 || seen.insert(view_key(*t)).second) out.push_back(t);
  return out;
}

bool counts_as_parameter(const Checkpoint& c, const Tensor& t) {
  return c.roles_known ? t.role == Role::Parameter : dtype_is_floating(t.dtype);
}

}  // namespace ptscope
