// A model folder as one model: which files are its shards (from the index,
// else by extension), read by the one-file path in parallel. load_model
// (ptscope/load.h) is built from these.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ptscope/checkpoint.h"
#include "reader.h"
#include "shard_index.h"

namespace ptscope {

// What a path given to load_model names.
struct ModelFiles {
  std::string index_file;               // "" when there is none
  std::optional<ShardIndex> index;
  std::vector<std::string> shard_names;  // as the index names them, or file names
  std::vector<std::string> shard_paths;  // where to read them
  std::vector<std::string> unlisted;     // files beside the index with a shard's extension it does not name
  bool single_file = false;              // a checkpoint file given as such
};
ModelFiles find_model_files(const std::string& path);

// Reads each path with load_checkpoint on up to hardware_concurrency()
// threads; nullopt for a path that does not exist. Each thread holds one
// shard's metadata while reading it; the results are kept for the merge.
// The first Error, in path order, is rethrown once every thread is done.
// `visitors`, when given, holds one RootVisitor per path (each called on
// its own thread, for its own file).
std::vector<std::optional<Checkpoint>> read_shards(const std::vector<std::string>& paths,
                                                   const std::vector<RootVisitor>& visitors = {});

}  // namespace ptscope
