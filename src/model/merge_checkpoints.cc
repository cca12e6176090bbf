#include <algorithm>
#include <set>

#include "ptscope/checkpoint.h"

namespace ptscope {
namespace {

std::string base_name(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void renumber(Tensor& t, int storage_base) {
  if (t.storage >= 0) t.storage += storage_base;
  for (Tensor& p : t.parts) renumber(p, storage_base);
}

}  // namespace

Checkpoint merge_checkpoints(std::vector<Checkpoint> parts, const std::string& path) {
  Checkpoint m;
  m.path = path;
  if (parts.empty()) return m;
  m.format = parts.front().format;
  m.roles_known = true;
  std::set<std::string> groups, globals;
  for (Checkpoint& c : parts) {
    int storage_base = static_cast<int>(m.storages.size());
    int tensor_base = static_cast<int>(m.tensors.size());
    std::string prefix = base_name(c.path) + ":";
    m.file_bytes += c.file_bytes;
    m.roles_known = m.roles_known && c.roles_known;
    for (Storage& s : c.storages) {
      s.key = prefix + s.key;
      m.storages.push_back(std::move(s));
    }
    for (Tensor& t : c.tensors) {
      renumber(t, storage_base);
      m.tensors.push_back(std::move(t));
    }
    for (Tensor& t : c.constants) {
      renumber(t, storage_base);
      m.constants.push_back(std::move(t));
    }
    for (LogicalTensor& l : c.logical) {
      for (int& i : l.stored) i += tensor_base;
      m.logical.push_back(std::move(l));
    }
    for (Group& g : c.groups)
      if (groups.insert(g.name).second) m.groups.push_back(std::move(g));
    for (std::string& g : c.globals)
      if (globals.insert(g).second) m.globals.push_back(std::move(g));
    for (auto& [k, v] : c.metadata) m.metadata.emplace(k, v);  // the first shard's value wins
  }
  return m;
}

}  // namespace ptscope
