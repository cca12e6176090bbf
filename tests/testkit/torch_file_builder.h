// torch.save and torch.jit.save files in memory, for hostile-input tables
// that need a file that is right except in one place. Three layouts:
//
//   zip (torch.save, PyTorch >= 1.6): records archive/data.pkl (the object
//     pickle), archive/data/<key> (one per storage), archive/version; data
//     on 64-byte boundaries, data descriptors, as PyTorch writes them.
//   legacy (torch.save, _use_new_zipfile_serialization=False): five pickles
//     and raw data back to back: magic number, protocol version, sys_info,
//     the object, the storage key list; then per storage an int64 element
//     count and the elements.
//   TorchScript-like zip: <name>/data.pkl, <name>/code/..., constants.pkl.
//
// The object is a state_dict {'w': tensor} whose tensor is described by a
// TensorSpec; offsets into it (state_pickle's rebuild_at, pid_at) let tests
// expect the exact "at byte N" an error points at.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "zip_builder.h"

namespace ptscope::test {

// The one tensor 'w' and its storage: a 2x3 float32 view of 6 elements.
struct TensorSpec {
  std::string storage_class = "FloatStorage";
  std::string key = "0";
  int64_t storage_numel = 6;
  int64_t offset = 0;
  std::vector<int64_t> shape = {2, 3}, stride = {3, 1};
};

struct StatePickle {
  std::string bytes;
  uint64_t rebuild_at = 0;  // the GLOBAL torch._utils._rebuild_tensor_v2
  uint64_t pid_at = 0;      // the TUPLE that closes the persistent id
};

// What torch.save puts in data.pkl for OrderedDict({'w': tensor}): a
// protocol-2 pickle with one _rebuild_tensor_v2 call over a persistent
// storage id ('storage', torch.<class>, key, 'cpu', numel). `legacy` adds
// the fifth element (view metadata, None) the legacy layout has.
StatePickle state_pickle(const TensorSpec& t, bool legacy = false);

// The legacy magic-number pickle: a LONG1 of these little-endian bytes
// (default: 0x1950a86a20f9469cfc6c, the number torch writes).
std::string magic_pickle(const std::string& le_bytes = "\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19");

// A torch.save zip around `pkl`, with one storage record data/<key>.
struct TorchZip {
  std::string bytes;
  ZipBuilder::Layout layout;  // records: data.pkl, data/<key>, version
};
TorchZip torch_zip(const std::string& pkl, const std::string& key = "0",
                   const std::string& storage = std::string(24, '\0'));

// A legacy torch.save file around `object`, with storage '0' declaring
// `count` elements followed by `data_bytes` bytes of data.
struct Legacy {
  std::string bytes;
  uint64_t object_at = 0, keys_at = 0, data_at = 0;  // where the object, key list, data start
};
Legacy legacy(const StatePickle& object, int64_t count = 6, size_t data_bytes = 24,
              int protocol_version = 1001);

// A TorchScript-like archive m/: an empty data.pkl, the code file
// m/code/__torch__/a.py holding `code`, and an empty constants.pkl.
std::string torchscript_zip(const std::string& code);

}  // namespace ptscope::test
