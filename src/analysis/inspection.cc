#include "inspection.h"

namespace ptscope {

Inspection inspect(Checkpoint c, const InspectViews& views) {
  Inspection i;
  i.summary = summarize(c);
  // The ranges themselves (several per tensor) are made only for --bytes.
  if (views.bytes) {
    i.ranges = byte_ranges(c);
    i.byte_map = byte_map(i.ranges);
  } else {
    i.byte_map = byte_map(c);
  }
  if (views.tree) i.tree = module_tree(c, views.depth);
  i.checkpoint = std::move(c);
  return i;
}

Inspection inspect(Model m, const InspectViews& views) {
  if (!m.index) return inspect(std::move(m.files.front()), views);
  Inspection i;
  // Byte ranges are per file: each file's are made and labelled alone, and
  // only their sums meet.
  std::vector<ByteRange> all_ranges;
  for (const Checkpoint& c : m.files) {
    Summary s = summarize(c);
    InspectedPart p{c.path, c.file_bytes, s.all, s.storage_bytes, s.overhead_bytes, s.overhead_percent, {}};
    std::vector<ByteRange> r = byte_ranges(c);
    all_ranges.insert(all_ranges.end(), r.begin(), r.end());
    if (views.bytes) p.ranges = std::move(r);
    i.parts.push_back(std::move(p));
  }
  i.byte_map = byte_map(all_ranges);
  i.checkpoint = merge_checkpoints(std::move(m.files), m.path);
  i.summary = summarize(i.checkpoint);
  uint64_t stored = 0;  // DCP's chunks, which no torch storage holds, included
  for (const InspectedPart& p : i.parts) stored += p.storage_bytes;
  set_storage_bytes(i.summary, i.checkpoint.file_bytes, stored);
  if (views.tree) i.tree = module_tree(i.checkpoint, views.depth);
  i.index = std::move(m.index);
  i.config = std::move(m.config);
  i.config_problem = std::move(m.config_problem);
  i.deepspeed = std::move(m.deepspeed);
  const std::optional<Experts>& x = i.summary.experts;
  if (x && i.config && i.config->num_experts_per_tok && *i.config->num_experts_per_tok <= x->experts) {
    i.experts_per_token = *i.config->num_experts_per_tok;
    i.active_parameters = active_parameters(*x, i.summary.model.parameters, i.experts_per_token);
  }
  return i;
}

}  // namespace ptscope
