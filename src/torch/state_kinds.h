// What the values of a torch pickle are, by their keys and shapes: the
// rules the state walk (state_walk.h) names entries and groups with.
#pragma once

#include <string>

#include "pickle.h"

namespace ptscope {

// A dict key as part of an entry's name: a string's text, an int's digits.
std::string key_text(const Value* k);
bool has_key(const Value* dict, const char* key);
// A non-empty dict whose values are all tensors.
bool all_tensors(const Value* dict);

// What the whole file is, when it is one piece of trainer state saved alone:
// an optimizer.state_dict() (HF Trainer's optimizer.pt) or HF Trainer's
// rng_state.pth ({"python", "numpy", "cpu", "cuda"}).
enum class Whole { Checkpoint, Optimizer, Rng };
Whole whole_kind(const Value* root);

// The kind of a top-level group ("model", "ema", "optimizer", "scheduler",
// "rng", "other"), by its key as trainers spell it and by the shape of its
// value. `module` says its tensors came from a pickled module.
std::string group_kind(const std::string& name, const Value* v, bool module);

}  // namespace ptscope
