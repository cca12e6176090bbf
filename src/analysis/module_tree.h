// numel and bytes per dotted name prefix: where a model's parameters sit.
#pragma once

#include <string>
#include <vector>

#include "ptscope/checkpoint.h"
#include "ptscope/summary.h"

namespace ptscope {

// Prefixes of up to `depth` components, in first-seen order. Tensors at the
// root fall under "(root)".
struct TreeRow {
  std::string prefix;
  int depth = 0;
  Count all;
  Count parameters;
};
std::vector<TreeRow> module_tree(const Checkpoint& c, int depth);

}  // namespace ptscope
