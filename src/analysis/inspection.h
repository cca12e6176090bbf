// inspect's answer for one checkpoint, computed once: the summary, the
// byte map with the ranges behind it, and the module tree when asked.
// Reporters format it and compute nothing.
#pragma once

#include <vector>

#include "byte_map.h"
#include "module_tree.h"
#include "ptscope/checkpoint.h"
#include "ptscope/summary.h"

namespace ptscope {

// The per-file views asked for beside the summary.
struct InspectViews {
  bool tensors = false;  // one row per tensor entry
  bool tree = false;     // numel and bytes per module prefix
  int depth = 2;
  bool bytes = false;    // the byte map, range by range
  bool any() const { return tensors || tree || bytes; }
};

struct Inspection {
  Checkpoint checkpoint;
  Summary summary;
  std::vector<ByteRange> ranges;  // tile the file
  std::vector<ByteMapRow> byte_map;
  std::vector<TreeRow> tree;      // empty unless views.tree
};

Inspection inspect(Checkpoint c, const InspectViews& views);

}  // namespace ptscope
