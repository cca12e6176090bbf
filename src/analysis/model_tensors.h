// The one definition of "the model's tensors", used by the counts, the
// architecture recognisers and the estimate:
//
//   - of a nested checkpoint, the tensors of its model group (the first
//     group of kind "model", else the first of kind "ema": ultralytics keeps
//     the model only as its EMA), none where it has neither (an optimizer
//     or rng file); of a flat one, all of them;
//   - optimizer state and tensors outside any model state left out;
//   - a quantized weight as its logical tensor (Checkpoint::logical), in
//     place of the packed values and quantization metadata that store it;
//   - each view once where asked (tied weights are one parameter, as
//     model.parameters() yields them).
#pragma once

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "ptscope/checkpoint.h"

namespace ptscope {

// Two entries are one tensor when they view the same elements the same way.
bool same_view(const Tensor& a, const Tensor& b);
// A strict weak order in which same views are equivalent.
bool view_less(const Tensor& a, const Tensor& b);

// Index of the group whose tensors are "the model", -1 for none; only
// meaningful for nested checkpoints.
int primary_group(const Checkpoint& c);

// The model's entries, every name (tied names each), in file order.
std::vector<const Tensor*> model_entries(const Checkpoint& c);
// The entries of one group of a nested checkpoint that are model state.
std::vector<const Tensor*> group_entries(const Checkpoint& c, const std::string& group);
// Each view once, first name kept. Entries without data stay, each counted.
std::vector<const Tensor*> unique_views(const std::vector<const Tensor*>& entries);
// Per storage index, how many of the entries view it, counted up to 2 (so:
// unused, one view, or shared); as long as the largest index they use.
std::vector<uint32_t> views_per_storage(const std::vector<const Tensor*>& entries);
// Per entry, whether it is the first of its view (unique_views' choice):
// what a caller that walks the entries itself needs.
std::vector<bool> first_views(const std::vector<const Tensor*>& entries);

// Whether an entry of the model counts as a parameter: the role the file or
// the rules gave, or, where the file does not tell, being floating point.
bool counts_as_parameter(const Checkpoint& c, const Tensor& t);

}  // namespace ptscope
