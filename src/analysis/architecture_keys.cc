#include "architecture_keys.h"

#include "model_tensors.h"

namespace ptscope {

ModelKeys::ModelKeys(const Checkpoint& c) {
  for (const Tensor* t : model_entries(c)) by_name_.emplace(t->name, t);
}

int64_t ModelKeys::dim(const std::string& name, size_t axis) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end() || axis >= it->second->shape.size()) return 0;
  return it->second->shape[axis];
}

uint64_t ModelKeys::numel(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? 0 : it->second->numel;
}

std::optional<std::string> ModelKeys::prefix_of(const std::string& suffix) const {
  for (const auto& [name, t] : by_name_) {
    if (name.size() < suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix))
      continue;
    size_t cut = name.size() - suffix.size();
    if (cut == 0 || name[cut - 1] == '.') return name.substr(0, cut);
  }
  return std::nullopt;
}

int64_t ModelKeys::count_blocks(const std::string& stem) const {
  int64_t n = 0;
  while (true) {
    std::string start = stem + std::to_string(n) + ".";
    auto it = by_name_.lower_bound(start);
    if (it == by_name_.end() || it->first.compare(0, start.size(), start)) return n;
    ++n;
  }
}

bool ModelKeys::tied(const std::string& a, const std::string& b) const {
  auto ia = by_name_.find(a), ib = by_name_.find(b);
  if (ia == by_name_.end() || ib == by_name_.end()) return false;
  return ia->second->storage >= 0 && same_view(*ia->second, *ib->second);
}

std::string strip_suffix(const std::string& prefix, const std::string& suffix) {
  if (prefix.size() >= suffix.size() &&
      prefix.compare(prefix.size() - suffix.size(), suffix.size(), suffix) == 0)
    return prefix.substr(0, prefix.size() - suffix.size());
  return prefix;
}

}  // namespace ptscope
