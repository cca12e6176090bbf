#include "module_tree.h"

#include <map>

namespace ptscope {

std::vector<TreeRow> module_tree(const Checkpoint& c, int depth) {
  std::vector<TreeRow> rows;
  std::map<std::string, size_t> index;
  auto row = [&](const std::string& prefix, int d) -> TreeRow& {
    auto it = index.find(prefix);
    if (it != index.end()) return rows[it->second];
    index[prefix] = rows.size();
    rows.push_back({prefix, d, {}, {}});
    return rows.back();
  };
  for (const Tensor& t : c.tensors) {
    size_t end = t.name.rfind('.');
    if (end == std::string::npos) {
      TreeRow& r = row("(root)", 1);
      r.all.add(t);
      if (t.role == Role::Parameter) r.parameters.add(t);
      continue;
    }
    size_t pos = 0;
    for (int d = 1; d <= depth; ++d) {
      size_t dot = t.name.find('.', pos);
      if (dot == std::string::npos || dot > end) dot = end;
      TreeRow& r = row(t.name.substr(0, dot), d);
      r.all.add(t);
      if (t.role == Role::Parameter) r.parameters.add(t);
      if (dot == end) break;
      pos = dot + 1;
    }
  }
  return rows;
}

}  // namespace ptscope
