// The one model every reader produces and every analysis consumes: the
// storages a file holds, the named tensors that view them, and a label for
// every byte of the file.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ptscope/dtype.h"

namespace ptscope {

enum class Format { TorchZip, TorchLegacy, TorchScript, Safetensors, DistributedCheckpoint };
const char* format_name(Format f);  // "torch-zip", "torch-legacy", ..., "torch-dcp"

// A block of element data in the file: a zip record, a legacy storage, or
// one safetensors tensor.
struct Storage {
  std::string key;        // record key ("0", "data/0", a tensor name)
  DType dtype = DType::UInt8;
  uint64_t nbytes = 0;
  std::optional<uint64_t> file_offset;  // where its bytes start, if stored here
  std::string location;   // "cpu", "cuda:0", ... as written
};

enum class Role {
  Unknown,     // not yet classified
  Parameter,   // learnable weight: what model.parameters() yields
  Buffer,      // state_dict entry that is not a parameter
  Optimizer,   // optimizer state (moments, step counts)
  Other,       // a tensor outside any model state (metrics, attributes)
  Quantized,   // packed values of a quantized weight: counted through its LogicalTensor
  QuantMeta,   // a quantized weight's scales, zero points, group indices, quant state
};
const char* role_name(Role r);

// torch.layout of a tensor. Sparse layouts are what torch.save writes
// through torch._utils._rebuild_sparse_tensor / _rebuild_sparse_csr_tensor.
enum class Layout { Strided, SparseCoo, SparseCsr, SparseCsc, SparseBsr, SparseBsc };
const char* layout_name(Layout l);  // torch's spelling: "strided", "sparse_coo", ...

struct Tensor {
  std::string name;       // dotted path from the root object
  std::string group;      // top-level group of a nested checkpoint, or ""
  DType dtype = DType::Float32;
  std::vector<int64_t> shape, stride;
  uint64_t storage_offset = 0;  // in elements
  int storage = -1;       // index into Checkpoint::storages; -1: no data
  uint64_t numel = 0;
  bool requires_grad = false;
  bool parameter_object = false;  // rebuilt as nn.Parameter
  // A TorchScript class declares it (__parameters__/__buffers__), so
  // torch::jit::load's named_parameters()/named_buffers() hold it; packed
  // quantized params and __getstate__ state are not declared.
  bool declared = false;
  Role role = Role::Unknown;
  std::string rule;       // why it got its role
  uint64_t pickle_offset = 0;  // where it is described in the file
  // A sparse tensor has no storage of its own (storage -1): shape and numel
  // are the dense ones, as t.numel() gives, dtype that of its values. What
  // the file holds are its parts, in torch's pickled order (COO: indices,
  // values; compressed: compressed indices, plain indices, values), so its
  // bytes are theirs.
  Layout layout = Layout::Strided;
  uint64_t nnz = 0;          // sparse: specified elements, as t._nnz()
  std::vector<Tensor> parts;

  uint64_t nbytes() const {
    if (layout == Layout::Strided) return numel * dtype_size(dtype);
    uint64_t n = 0;
    for (const Tensor& p : parts) n += p.nbytes();
    return n;
  }
};

// Calls f on each tensor whose elements the file stores for `t`: `t`
// itself, or the parts of a sparse tensor. What reaches storages, for the
// byte map; a visitor, as every tensor of a file passes through it.
template <class F>
void for_each_stored(const Tensor& t, F&& f) {
  if (t.layout == Layout::Strided) {
    f(t);
    return;
  }
  for (const Tensor& p : t.parts) f(p);
}

// A range of the file with what it holds. Storage regions name their storage
// so analyses can split them into bytes tensors use and bytes none does.
struct Region {
  uint64_t offset = 0, size = 0;
  std::string_view label;  // always a string literal
  int storage = -1;
};

// The unquantized weight that a group of stored tensors encodes (a GPTQ
// qweight with its scales and zeros, a torch.ao qint8 tensor, a bitsandbytes
// 4-bit weight with its quant state): what the model counts as one
// parameter tensor. `tensor` carries its name, group, logical shape, numel
// and compute dtype, with role Parameter and no storage; analyses see it
// in place of the stored tensors (analysis/model_tensors.h).
struct LogicalTensor {
  Tensor tensor;
  std::string scheme;       // "gptq", "awq", "bitsandbytes nf4", "torch.ao qint8 per-channel", ...
  double bits = 0;          // bits per weight of the packed values alone
  std::vector<int> stored;  // indices into Checkpoint::tensors: the tensors that encode it
  uint64_t stored_bytes = 0;  // their bytes, metadata included
};

struct Group {
  std::string name;
  std::string kind;  // "model", "ema", "optimizer", "scheduler", "rng", "other"
};

struct Checkpoint {
  std::string path;
  Format format = Format::TorchZip;
  uint64_t file_bytes = 0;
  std::vector<Storage> storages;
  std::vector<Tensor> tensors;     // the state: what numel/tensors count
  std::vector<Tensor> constants;   // TorchScript constants.pkl
  std::vector<Region> regions;     // need not be sorted nor cover the file
  std::vector<LogicalTensor> logical;  // quantized weights, each once
  std::vector<Group> groups;       // empty unless the checkpoint is nested
  bool roles_known = false;        // whether parameters/buffers mean anything
  std::vector<std::string> globals;  // every name the pickles reference
  std::map<std::string, std::string> metadata;  // safetensors __metadata__, archive info
};

// The shards of one model as one Checkpoint for the analyses: tensors,
// storages, logical tensors and constants of every part, storage indices
// renumbered and storage keys prefixed with the part's file name ("FILE:key",
// so that keys repeated across .bin shards stay apart); `path` is `path`,
// `file_bytes` the sum, groups and globals each once. Regions are dropped:
// their offsets are per file, so byte maps are made per part and summed.
Checkpoint merge_checkpoints(std::vector<Checkpoint> parts, const std::string& path);

}  // namespace ptscope
