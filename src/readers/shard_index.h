// A sharded model's index (model.safetensors.index.json,
// pytorch_model.bin.index.json): which shard file holds each tensor, and the
// bytes they add up to. Apart from the one-file readers, as safetensors'
// index.rs is: it describes files, it is not one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ptscope/checkpoint.h"

namespace ptscope {

struct ShardIndex {
  std::optional<uint64_t> total_size;  // metadata.total_size, if given
  // weight_map in file order: tensor name, shard file name (relative to the index).
  std::vector<std::pair<std::string, std::string>> weight_map;
  std::vector<std::string> shards;  // each shard file once, sorted by name
};

// Parses `text`, the index file's bytes. Bounded: at most kMaxIndexBytes,
// nesting at most 8 deep, a key repeated in one object is an error (JSON
// parsers disagree on which one wins), shard names are plain file names
// (no '/', not "." or ".."). Throws Error without the file name.
constexpr uint64_t kMaxIndexBytes = 64u << 20;
ShardIndex parse_shard_index(const std::string& text);

// The index checked against the shards it names (`shards[i]` read from
// `shard_files[i]`, nullopt where the file is missing) and the other files in
// the folder with a shard's extension (`unlisted`). One line per problem:
// an entry its shard does not hold, a tensor in two files, a tensor no
// entry names, a shard missing or unreferenced, total_size not the sum of
// the tensors' data bytes (safetensors' definition; a tensor in two
// files counted once).
std::vector<std::string> check_shard_index(const ShardIndex& index,
                                           const std::vector<std::string>& shard_files,
                                           const std::vector<const Checkpoint*>& shards,
                                           const std::vector<std::string>& unlisted);

}  // namespace ptscope
