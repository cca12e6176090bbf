// Turns a parsed torch pickle into the named tensor entries a user would see:
// dict keys, list indices and object attributes joined with dots, as
// state_dict() names them. Whole nn.Modules and TorchScript modules give
// exact parameter/buffer roles; everything else is left for the rules.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "ptscope/checkpoint.h"
#include "ptscope/limits.h"
#include "pickle.h"

namespace ptscope {

// What a TorchScript class declares about its attributes.
struct ClassDecl {
  std::set<std::string> parameters, buffers;
};
using ClassDecls = std::map<std::string, ClassDecl>;  // "__torch__.a.b.Cls" -> decl

// Defaults from ptscope/limits.h; the caller narrows max_entries to the
// pickle's size (limits::kEntriesPerPickleByte).
struct WalkLimits {
  int max_depth = limits::kMaxWalkDepth;
  // Every step is a visit: a container item, a module member, an attribute
  // looked up. Shared containers bring the same steps back once per path.
  uint64_t max_visits = limits::kMaxWalkVisits;
  // A few hundred bytes of shared or long-keyed containers can name
  // exponentially many entries, or very long ones: bound both, and the
  // bytes of every path built on the way.
  uint64_t max_entries = limits::kMaxEntries;         // tensor entries named
  uint64_t max_name_bytes = limits::kMaxNameBytes;    // bytes of the entries' names
  uint64_t max_path_bytes = limits::kMaxPathBytes;    // bytes of all the paths built
};

// The group of loose top-level tensors with state_dict names beside
// containers that hold other state (torchtitan's flattened model).
inline constexpr const char* kTopLevelGroup = "(top level)";

struct WalkResult {
  std::vector<Tensor> tensors;
  std::vector<Group> groups;
  bool exact_roles = false;   // some module told us its parameters and buffers
  bool state_dict = false;    // the root (or a model group) is a dict of tensors
};

// `pool` is the tensor table the torch hooks filled while parsing.
WalkResult walk_state(const Value* root, std::vector<Tensor> pool,
                      const ClassDecls* decls = nullptr, WalkLimits limits = {});

}  // namespace ptscope
