#include "ptscope/summary.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace ptscope {

ViewKey view_key(const Tensor& t) {
  return {t.storage, t.storage_offset, t.shape, t.stride, t.dtype};
}

int primary_group(const Checkpoint& c) {
  for (size_t i = 0; i < c.groups.size(); ++i)
    if (c.groups[i].kind == "model") return static_cast<int>(i);
  return -1;
}

namespace {

// Unique parameters and buffers among tensors of group `group` ("" = all).
void count_roles(const Checkpoint& c, const std::string& group, bool all_groups,
                 std::optional<Count>& params, std::optional<Count>& buffers) {
  params = Count{};
  buffers = Count{};
  std::set<ViewKey> seen;
  for (const Tensor& t : c.tensors) {
    if (!all_groups && t.group != group) continue;
    if (t.role != Role::Parameter && t.role != Role::Buffer) continue;
    if (t.storage >= 0 && !seen.insert(view_key(t)).second) continue;
    (t.role == Role::Parameter ? *params : *buffers).add(t);
  }
}

}  // namespace

Summary summarize(const Checkpoint& c) {
  Summary s;
  std::set<ViewKey> views;
  std::set<int> storages;
  std::map<int, std::vector<const Tensor*>> by_storage;
  for (const Tensor& t : c.tensors) {
    s.all.add(t);
    s.dtypes[dtype_name(t.dtype)].add(t);
    if (t.storage < 0 || views.insert(view_key(t)).second) s.unique_numel += t.numel;
    if (t.storage >= 0) {
      if (storages.insert(t.storage).second)
        s.storage_bytes += c.storages[static_cast<size_t>(t.storage)].nbytes;
      by_storage[t.storage].push_back(&t);
    }
  }
  for (const Tensor& t : c.constants) s.constants.add(t);
  s.overhead_bytes = static_cast<int64_t>(c.file_bytes) - static_cast<int64_t>(s.storage_bytes);
  s.overhead_percent = c.file_bytes ? 100.0 * static_cast<double>(s.overhead_bytes) /
                                          static_cast<double>(c.file_bytes)
                                    : 0.0;

  for (const auto& [storage, members] : by_storage) {
    if (members.size() < 2) continue;
    SharedStorage sh;
    sh.storage = c.storages[static_cast<size_t>(storage)].key;
    sh.tied = true;
    for (const Tensor* t : members) {
      sh.names.push_back(t->name);
      sh.tied = sh.tied && view_key(*t) == view_key(*members[0]);
    }
    s.shared.push_back(std::move(sh));
  }

  if (c.roles_known) {
    int primary = primary_group(c);
    if (c.groups.empty())
      count_roles(c, "", true, s.parameters, s.buffers);
    else if (primary >= 0)
      count_roles(c, c.groups[static_cast<size_t>(primary)].name, false, s.parameters,
                  s.buffers);
  }
  for (const Group& g : c.groups) {
    GroupSummary gs{g.name, g.kind, {}, std::nullopt, std::nullopt};
    for (const Tensor& t : c.tensors)
      if (t.group == g.name) gs.all.add(t);
    if (c.roles_known && (g.kind == "model" || g.kind == "ema"))
      count_roles(c, g.name, false, gs.parameters, gs.buffers);
    s.groups.push_back(std::move(gs));
  }
  return s;
}

std::vector<TreeRow> module_tree(const Checkpoint& c, int depth) {
  std::vector<TreeRow> rows;
  std::map<std::string, size_t> index;
  auto row = [&](const std::string& prefix, int d) -> TreeRow& {
    auto it = index.find(prefix);
    if (it != index.end()) return rows[it->second];
    index[prefix] = rows.size();
    rows.push_back({prefix, d, {}, 0});
    return rows.back();
  };
  for (const Tensor& t : c.tensors) {
    size_t end = t.name.rfind('.');
    if (end == std::string::npos) {
      TreeRow& r = row("(root)", 1);
      r.all.add(t);
      if (t.role == Role::Parameter) r.parameter_numel += t.numel;
      continue;
    }
    size_t pos = 0;
    for (int d = 1; d <= depth; ++d) {
      size_t dot = t.name.find('.', pos);
      if (dot == std::string::npos || dot > end) dot = end;
      TreeRow& r = row(t.name.substr(0, dot), d);
      r.all.add(t);
      if (t.role == Role::Parameter) r.parameter_numel += t.numel;
      if (dot == end) break;
      pos = dot + 1;
    }
  }
  return rows;
}

const std::vector<Precision>& precisions() {
  static const std::vector<Precision> p = {
      {"fp32", 4}, {"fp16", 2}, {"bf16", 2}, {"int8", 1}, {"int4", 0.5}};
  return p;
}

uint64_t bytes_at(uint64_t params, const Precision& p) {
  return static_cast<uint64_t>(std::ceil(static_cast<double>(params) * p.bytes_per_param));
}

uint64_t params_in(uint64_t bytes, const Precision& p) {
  return static_cast<uint64_t>(static_cast<double>(bytes) / p.bytes_per_param);
}

}  // namespace ptscope
