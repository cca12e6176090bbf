#include "inspection.h"

namespace ptscope {

Inspection inspect(Checkpoint c, const InspectViews& views) {
  Inspection i;
  i.summary = summarize(c);
  i.ranges = byte_ranges(c);
  i.byte_map = byte_map(i.ranges);
  if (views.tree) i.tree = module_tree(c, views.depth);
  i.checkpoint = std::move(c);
  return i;
}

}  // namespace ptscope
