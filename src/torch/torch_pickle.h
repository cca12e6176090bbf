// Shared by the zip and legacy readers: parse one torch pickle with the
// torch hooks and name its tensors.
#pragma once

#include <memory>
#include <string>

#include "byte_source.h"
#include "state_walk.h"
#include "torch_hooks.h"

namespace ptscope {

struct TorchPickle {
  std::unique_ptr<Pickle> pickle;  // may be freed once walked: nothing below points into it
  TorchHooks hooks;
  WalkResult walk;
  std::vector<std::string> globals;  // the pickle's, as Pickle::globals()
  explicit TorchPickle(TorchHooks::Flavor f) : hooks(f) {}
};

// Parses [begin, end) of src; `what` names the record in errors.
// `expected_tensors`: how many the container suggests (TorchHooks::expect).
std::unique_ptr<TorchPickle> parse_torch_pickle(const ByteSource& src, uint64_t begin,
                                                uint64_t end, const std::string& what,
                                                TorchHooks::Flavor flavor,
                                                const ClassDecls* decls = nullptr,
                                                size_t expected_tensors = 0);
// The second half of parse_torch_pickle, for a pickle parsed elsewhere with
// tp.hooks (pickle_tap.h): names its tensors. `begin` is where the pickle
// starts in the source it was parsed from.
void walk_torch_pickle(TorchPickle& tp, uint64_t begin, const ClassDecls* decls = nullptr);

// Moves the walk's tensors into `out`, mapping hook storage indices through
// `storage_index` (hook index -> Checkpoint::storages index, -1 for none).
void adopt_tensors(TorchPickle& tp, const std::vector<int>& storage_index,
                   std::vector<Tensor>& out);
// adopt_tensors into c.tensors, plus groups, roles and globals.
void adopt_state(TorchPickle& tp, const std::vector<int>& storage_index,
                 Checkpoint& c);

}  // namespace ptscope
