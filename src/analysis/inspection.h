// inspect's answer for one checkpoint, computed once: the summary, the
// byte map with the ranges behind it, and the module tree when asked.
// Reporters format it and compute nothing.
#pragma once

#include <vector>

#include "byte_map.h"
#include "module_tree.h"
#include "ptscope/checkpoint.h"
#include "ptscope/load.h"
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

// One shard of a model folder, counted on its own.
struct InspectedPart {
  std::string path;
  uint64_t file_bytes = 0;
  Count all;
  uint64_t storage_bytes = 0;
  int64_t overhead_bytes = 0;
  double overhead_percent = 0;
  std::vector<ByteRange> ranges;  // tile this file; kept only with views.bytes
};

struct Inspection {
  Checkpoint checkpoint;          // a folder's shards merged (merge_checkpoints)
  Summary summary;
  std::vector<ByteRange> ranges;  // tile the file, kept only with views.bytes; a folder's are in `parts`
  std::vector<ByteMapRow> byte_map;  // a folder's: each file's, summed
  std::vector<TreeRow> tree;      // empty unless views.tree
  std::vector<InspectedPart> parts;  // a folder's files; empty for one file
  std::optional<IndexCheck> index;   // set for a folder or an index file
  std::optional<ModelConfig> config;  // a folder's config.json (Model::config)
  std::string config_problem;         // Model::config_problem
  std::optional<DeepSpeedCheckpoint> deepspeed;  // Model::deepspeed
  // A mixture of experts' parameters per token, where config.json's
  // num_experts_per_tok gives top-k (at most the experts the shapes hold).
  int64_t experts_per_token = 0;
  std::optional<uint64_t> active_parameters;
};

Inspection inspect(Checkpoint c, const InspectViews& views);
// A folder or index: the summary over all shards, a row per file, the byte
// maps summed. A single file given as such is inspect(Checkpoint).
Inspection inspect(Model m, const InspectViews& views);

}  // namespace ptscope
