#include "ptscope/summary.h"
#include "region_labels.h"

#include "model_tensors.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace ptscope {

namespace {

// Unique parameters and buffers among model entries.
void count_roles(const std::vector<const Tensor*>& entries, std::optional<Count>& params,
                 std::optional<Count>& buffers) {
  params = Count{};
  buffers = Count{};
  for (const Tensor* t : unique_views(entries)) {
    if (t->role == Role::Parameter) params->add(*t);
    if (t->role == Role::Buffer) buffers->add(*t);
  }
}

std::optional<QuantizedSummary> quantized(const Checkpoint& c) {
  if (c.logical.empty()) return std::nullopt;
  QuantizedSummary q;
  double bits = 0;
  for (const LogicalTensor& l : c.logical) {
    ++q.tensors;
    q.numel += l.tensor.numel;
    q.stored_bytes += l.stored_bytes;
    bits += l.bits * static_cast<double>(l.tensor.numel);
    if (std::find(q.schemes.begin(), q.schemes.end(), l.scheme) == q.schemes.end()) q.schemes.push_back(l.scheme);
  }
  q.bits_per_weight = q.numel ? bits / static_cast<double>(q.numel) : 0;
  return q;
}

}  // namespace

void set_storage_bytes(Summary& s, uint64_t file_bytes, uint64_t storage_bytes) {
  s.storage_bytes = storage_bytes;
  s.overhead_bytes = static_cast<int64_t>(file_bytes) - static_cast<int64_t>(storage_bytes);
  s.overhead_percent =
      file_bytes ? 100.0 * static_cast<double>(s.overhead_bytes) / static_cast<double>(file_bytes) : 0.0;
}

Summary summarize(const Checkpoint& c) {
  Summary s;
  std::vector<const Tensor*> all;
  all.reserve(c.tensors.size());
  for (const Tensor& t : c.tensors) all.push_back(&t);
  std::vector<bool> first = first_views(all);
  std::vector<uint32_t> views = views_per_storage(all);
  std::vector<bool> counted(c.storages.size(), false);
  std::map<DType, Count> dtypes;
  for (size_t i = 0; i < c.tensors.size(); ++i) {
    const Tensor& t = c.tensors[i];
    s.all.add(t);
    dtypes[t.dtype].add(t);
    if (first[i]) s.unique_numel += t.numel;
    for_each_stored(t, [&](const Tensor& stored) {  // a sparse tensor's parts
      auto k = static_cast<size_t>(stored.storage);
      if (stored.storage >= 0 && !counted[k]) {
        counted[k] = true;
        s.storage_bytes += c.storages[k].nbytes;
      }
    });
  }
  for (const auto& [dtype, n] : dtypes) {
    Count& named = s.dtypes[dtype_name(dtype)];
    named.tensors += n.tensors;
    named.numel += n.numel;
    named.bytes += n.bytes;
  }
  // Storages several entries view, each with its entries in file order.
  std::map<int, std::vector<const Tensor*>> by_storage;
  for (const Tensor& t : c.tensors)
    if (t.storage >= 0 && views[static_cast<size_t>(t.storage)] > 1) by_storage[t.storage].push_back(&t);
  for (const Tensor& t : c.constants) s.constants.add(t);
  // DCP's tensors have no torch storage: their bytes are the chunks the
  // data files hold, which the reader labelled.
  if (c.format == Format::DistributedCheckpoint)
    for (const Region& r : c.regions)
      if (r.label == label::kTensorData) s.storage_bytes += r.size;
  set_storage_bytes(s, c.file_bytes, s.storage_bytes);

  for (const auto& [storage, members] : by_storage) {
    if (members.size() < 2) continue;
    SharedStorage sh;
    sh.storage = c.storages[static_cast<size_t>(storage)].key;
    sh.tied = true;
    for (const Tensor* t : members) {
      sh.names.push_back(t->name);
      sh.tied = sh.tied && same_view(*t, *members[0]);
    }
    s.shared.push_back(std::move(sh));
  }

  if (c.roles_known) {
    if (c.groups.empty() || primary_group(c) >= 0) count_roles(model_entries(c), s.parameters, s.buffers);
  }
  for (const Group& g : c.groups) {
    GroupSummary gs{g.name, g.kind, {}, std::nullopt, std::nullopt};
    for (const Tensor& t : c.tensors)
      if (t.group == g.name) gs.all.add(t);
    if (c.roles_known && (g.kind == "model" || g.kind == "ema"))
      count_roles(group_entries(c, g.name), gs.parameters, gs.buffers);
    s.groups.push_back(std::move(gs));
  }
  s.quantized = quantized(c);
  s.experts = find_experts(c);
  s.model = model_sizes(c);
  for (WeightType w : kWeightTypes) {
    PrecisionSize p{w, 0, "", parameters_in(c.file_bytes, w)};
    p.bytes = weight_bytes(w, s.model, kDefaultGroupSize, &p.formula);
    s.precisions.push_back(std::move(p));
  }
  return s;
}

}  // namespace ptscope
