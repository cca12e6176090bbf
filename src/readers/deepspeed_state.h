// The values a DeepSpeed checkpoint pickles beside its tensors, picked out
// of a parsed pickle's root: the model-states dict's run facts and
// param_shapes, the ZeRO optimizer file's zero_stage, partition_count and
// group_paddings. Key names are deepspeed/checkpoint/constants.py's; the
// layout is in deepspeed_folder.cc.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "pickle.h"

namespace ptscope {

// name -> shape, in the file's order (param_shapes' OrderedDicts).
using Shapes = std::vector<std::pair<std::string, std::vector<int64_t>>>;

struct ModelFacts {
  bool model_states = false;  // buffer_names was there: a DeepSpeed model-states dict
  std::optional<int64_t> dp_world_size, mp_world_size, global_steps, config_stage;
  std::string ds_version;
  bool zero = false;                 // param_shapes given (a ZeRO run)
  std::vector<Shapes> param_shapes;  // per optimizer group
  Shapes frozen;                     // frozen_param_shapes
  std::set<std::string> buffer_names;
  std::map<std::string, std::string> shared;  // shared_params: alias -> the name that holds it
};

struct OptimFacts {
  std::optional<int64_t> zero_stage, partition_count;
  std::vector<int64_t> group_paddings;
};

// Throw Error at the offending value's offset when the file is not what
// DeepSpeed writes (a root that is not a dict, a shape that is not one).
void read_model_facts(const Value& root, ModelFacts& f);
void read_optim_facts(const Value& root, OptimFacts& f);

// Elements of a shape read_model_facts accepted (its product is bounded).
uint64_t numel_of(const std::vector<int64_t>& shape);

}  // namespace ptscope
