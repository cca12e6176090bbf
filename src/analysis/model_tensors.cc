#include "model_tensors.h"

#include <algorithm>
#include <tuple>

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

bool same_view(const Tensor& a, const Tensor& b) {
  return a.storage == b.storage && a.storage_offset == b.storage_offset && a.dtype == b.dtype &&
         a.shape == b.shape && a.stride == b.stride;
}

bool view_less(const Tensor& a, const Tensor& b) {
  return std::tie(a.storage, a.storage_offset, a.dtype, a.shape, a.stride) <
         std::tie(b.storage, b.storage_offset, b.dtype, b.shape, b.stride);
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

std::vector<uint32_t> views_per_storage(const std::vector<const Tensor*>& entries) {
  int top = -1;
  for (const Tensor* t : entries) top = std::max(top, t->storage);
  std::vector<uint32_t> views(static_cast<size_t>(top + 1), 0);
  for (const Tensor* t : entries)
    if (t->storage >= 0 && views[static_cast<size_t>(t->storage)] < 2) ++views[static_cast<size_t>(t->storage)];
  return views;
}

std::vector<bool> first_views(const std::vector<const Tensor*>& entries) {
  // Most tensors are the only view of their storage: only entries that
  // share one are compared, by sorting their positions (no copies of
  // shapes; 100k entries once took a set of 100k keys).
  std::vector<bool> first(entries.size(), true);
  std::vector<uint32_t> views = views_per_storage(entries);
  std::vector<size_t> shared;
  for (size_t i = 0; i < entries.size(); ++i)
    if (entries[i]->storage >= 0 && views[static_cast<size_t>(entries[i]->storage)] > 1) shared.push_back(i);
  // Stable: among the same view, the first entry comes first and is kept.
  std::stable_sort(shared.begin(), shared.end(),
                   [&](size_t a, size_t b) { return view_less(*entries[a], *entries[b]); });
  for (size_t k = 1; k < shared.size(); ++k)
    if (same_view(*entries[shared[k - 1]], *entries[shared[k]])) first[shared[k]] = false;
  return first;
}

std::vector<const Tensor*> unique_views(const std::vector<const Tensor*>& entries) {
  std::vector<bool> first = first_views(entries);
  std::vector<const Tensor*> out;
  for (size_t i = 0; i < entries.size(); ++i)
    if (first[i]) out.push_back(entries[i]);
  return out;
}

bool counts_as_parameter(const Checkpoint& c, const Tensor& t) {
  return c.roles_known ? t.role == Role::Parameter : dtype_is_floating(t.dtype);
}

}  // namespace ptscope
