// Reading a checkpoint file into the one model every analysis consumes.
// Nothing in the file is executed: pickles are interpreted, never unpickled.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ptscope/checkpoint.h"
#include "ptscope/model_config.h"

namespace ptscope {

// Reads a .pt/.pth (zip or legacy), a TorchScript archive or a safetensors
// file, chosen by content, and classifies parameters and buffers. Throws
// ptscope::Error naming `path`, what failed and the byte offset.
Checkpoint load_checkpoint(const std::string& path);

// The shard index checked against the shards (README "Model folders").
struct IndexCheck {
  std::string file;                   // the index read; "" when the folder has none
  bool checked = false;               // an index was there to check
  std::vector<std::string> problems;  // one line each, "index: ..."
};

// A model as downloaded: one file, or the shards of a folder.
struct Model {
  std::string path;               // as given
  std::vector<Checkpoint> files;  // the shards read, in the index's order (else by name)
  std::optional<IndexCheck> index;  // nullopt: a single checkpoint file was given
  std::optional<ModelConfig> config;  // the folder's config.json, when read
  std::string config_problem;         // why a config.json there was not read; "" when none
};

// `path` is a folder (its *.safetensors.index.json, else *.bin.index.json;
// without one every *.safetensors in it, else every *.bin, *.pt, *.pth), an
// index file, or a single checkpoint file. Shards are read in parallel, at
// most std::thread::hardware_concurrency() at once. A shard that cannot be
// read throws its Error; a missing or inconsistent shard is a problem in
// `index`, not an error. A folder's (or an index file's folder's)
// config.json is read into `config`; one that cannot be read is a line in
// `config_problem`, never an error.
Model load_model(const std::string& path);

}  // namespace ptscope
