// Pure functions over a Checkpoint: counts, parameters versus buffers,
// shared storage, the per-module tree, the byte map and what-if sizes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "ptscope/checkpoint.h"

namespace ptscope {

// Two entries are one tensor when they view the same elements the same way.
using ViewKey = std::tuple<int, uint64_t, std::vector<int64_t>, std::vector<int64_t>, DType>;
ViewKey view_key(const Tensor& t);

// Index of the group whose tensors are "the model", -1 for none; only
// meaningful for nested checkpoints.
int primary_group(const Checkpoint& c);

struct Count {
  uint64_t tensors = 0, numel = 0, bytes = 0;
  void add(const Tensor& t) { ++tensors; numel += t.numel; bytes += t.nbytes(); }
};

// Tensors that share one storage. `tied` when they are the very same view
// (same offset, shape and stride): one tensor under several names.
struct SharedStorage {
  std::string storage;
  std::vector<std::string> names;
  bool tied = false;
};

struct GroupSummary {
  std::string name, kind;
  Count all;
  std::optional<Count> parameters, buffers;
};

struct Summary {
  Count all;                     // every entry, as sum(v.numel()) counts
  uint64_t unique_numel = 0;     // identical views counted once
  uint64_t storage_bytes = 0;    // storages the entries use, each once
  int64_t overhead_bytes = 0;    // file size minus storage bytes
  double overhead_percent = 0;
  std::optional<Count> parameters, buffers;  // unique, as model.parameters() counts
  std::map<std::string, Count> dtypes;
  std::vector<GroupSummary> groups;
  std::vector<SharedStorage> shared;
  Count constants;               // TorchScript constants.pkl
};

Summary summarize(const Checkpoint& c);

// A contiguous range of the file with its label; together they tile the
// file exactly. Storage records are split into the bytes tensors reach
// ("tensor data") and the rest ("unused storage").
struct ByteRange {
  uint64_t offset = 0, size = 0;
  std::string_view label;  // a string literal
};
std::vector<ByteRange> byte_ranges(const Checkpoint& c);

struct ByteMapRow {
  std::string label;
  uint64_t bytes = 0;
};
// byte_ranges summed per label; the rows add up to c.file_bytes.
std::vector<ByteMapRow> byte_map(const Checkpoint& c);

// numel and bytes per dotted prefix, prefixes of up to `depth` components,
// in first-seen order. Tensors at the root fall under "(root)".
struct TreeRow {
  std::string prefix;
  int depth = 0;
  Count all;
  uint64_t parameter_numel = 0;
};
std::vector<TreeRow> module_tree(const Checkpoint& c, int depth);

// The parameters at other precisions, and the other way round: how many
// parameters a file of this size holds at each precision.
struct Precision {
  const char* name;
  double bytes_per_param;
};
const std::vector<Precision>& precisions();  // fp32, fp16, bf16, int8, int4
uint64_t bytes_at(uint64_t params, const Precision& p);
uint64_t params_in(uint64_t bytes, const Precision& p);

}  // namespace ptscope
