// Reading a checkpoint file into the one model every analysis consumes.
// Nothing in the file is executed: pickles are interpreted, never unpickled.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ptscope/checkpoint.h"
#include "ptscope/model_config.h"
#include "ptscope/scan.h"

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

// One data-parallel rank's ZeRO optimizer file of a DeepSpeed checkpoint.
struct DeepSpeedRank {
  std::string file;              // its name, e.g. zero_pp_rank_1_mp_rank_00_optim_states.pt
  int64_t rank = 0;              // the data-parallel rank its name gives
  uint64_t fp32_numel = 0;       // fp32 master partitions as saved (single_partition_of_fp32_groups / fp32_flat_groups)
  uint64_t optimizer_numel = 0;  // the base optimizer's state tensors (Adam: exp_avg, exp_avg_sq, step)
  uint64_t padding = 0;          // alignment padding inside this rank's partitions
};

// A DeepSpeed checkpoint folder read as one model (README "DeepSpeed
// folders"): what its files say about the run, checked against each other.
struct DeepSpeedCheckpoint {
  std::string folder;                   // the global_stepN folder read
  std::string tag;                      // from the run folder's `latest`; "" when the folder was given
  std::optional<int64_t> zero_stage;    // the optim files' zero_stage; 0 with no ZeRO files
  std::optional<int64_t> dp_world_size; // the model states' dp_world_size
  std::optional<int64_t> partition_count;  // the optim files' (the largest of a per-group list)
  std::optional<int64_t> mp_world_size;
  std::optional<int64_t> global_steps;
  std::string ds_version;
  std::string params_from;              // "module", or "param_shapes" (ZeRO-3's placeholders)
  uint64_t padding = 0;                 // all ranks' alignment padding
  std::vector<DeepSpeedRank> ranks;     // the optim files read, by rank
  std::vector<std::string> problems;    // one line each, "deepspeed: ..."
};

// A model as downloaded: one file, or the shards of a folder.
struct Model {
  std::string path;               // as given
  std::vector<Checkpoint> files;  // the shards read, in the index's order (else by name)
  std::optional<IndexCheck> index;  // nullopt: a single checkpoint file was given
  std::optional<ModelConfig> config;  // the folder's config.json, when read
  std::string config_problem;         // why a config.json there was not read; "" when none
  std::optional<DeepSpeedCheckpoint> deepspeed;  // a DeepSpeed folder's run, when that is what was read
};

// `path` is a torch.distributed.checkpoint folder (.metadata); a DeepSpeed
// run or checkpoint folder (`latest` followed; `deepspeed` says what its
// files say about the run, and its problems, README "DeepSpeed folders");
// a folder (its *.safetensors.index.json, else *.bin.index.json; without
// one every *.safetensors in it, else every *.bin, *.pt, *.pth); an index
// file; or a single checkpoint file. Shards are read in parallel, at
// most std::thread::hardware_concurrency() at once. A shard that cannot be
// read throws its Error; a missing or inconsistent shard is a problem in
// `index`, not an error. A folder's (or an index file's folder's)
// config.json is read into `config`; one that cannot be read is a line in
// `config_problem`, never an error.
Model load_model(const std::string& path);

// load_model(path) and scan_file(path, options) into `safety`, which is set
// even when reading throws. A single checkpoint file is opened once and its
// object pickle interpreted once for both (what `inspect` does); the
// results are those of the two calls.
Model load_model_scanned(const std::string& path, ScanResult& safety,
                         const ScanOptions& options = {});

}  // namespace ptscope
