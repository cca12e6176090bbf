// What a checkpoint holds, counted: entries as sum(v.numel()) sees them,
// the model's parameters and buffers as model.parameters() and buffers()
// would (tied weights once), per dtype and per group, shared storages, the
// storage bytes against the file size, and the weights at other precisions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ptscope/checkpoint.h"
#include "ptscope/experts.h"
#include "ptscope/model_sizes.h"
#include "ptscope/precision.h"

namespace ptscope {

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

// The model's weights at one precision (ptscope/precision.h), and how many
// parameters the file's size would hold at it.
struct PrecisionSize {
  WeightType type = WeightType::FP32;
  uint64_t bytes = 0;
  std::string formula;
  uint64_t file_holds = 0;
};

// The quantized weights (Checkpoint::logical): counted among the parameters
// at their logical shapes, and stored in `stored_bytes` (packed values and
// their metadata). bits_per_weight: of the packed values alone, averaged over
// the logical elements.
struct QuantizedSummary {
  uint64_t tensors = 0, numel = 0, stored_bytes = 0;
  double bits_per_weight = 0;
  std::vector<std::string> schemes;  // each once, in file order
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
  std::optional<QuantizedSummary> quantized;  // set when the file has quantized weights
  std::optional<Experts> experts;  // set when the model has routed experts
  ModelSizes model;              // what the precision figures are computed from
  std::vector<PrecisionSize> precisions;  // fp32, fp16, bf16, int8, int4
};

Summary summarize(const Checkpoint& c);
// Sets storage_bytes and the overhead that follows from it: a folder's
// storages are the sum of its files'.
void set_storage_bytes(Summary& s, uint64_t file_bytes, uint64_t storage_bytes);

}  // namespace ptscope
