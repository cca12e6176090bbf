// Checkpoint values without a file behind them: data-less tensors with
// contiguous strides, for tests of what comes after reading (summaries,
// byte maps, roles, architecture recognition, estimates). Also the real
// models' names and shapes from fixtures/arch/shapes/<model>.json
// ({"tensors": [[name, shape, "parameter"|"buffer", tied-to|null], ...]}).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ptscope/checkpoint.h"

namespace ptscope::test {

// A contiguous tensor of this shape and dtype: row-major strides, numel,
// no storage (storage -1).
Tensor contiguous_tensor(const std::string& name, const std::vector<int64_t>& shape,
                         DType dtype = DType::Float32);

// Adds a contiguous tensor to `c`: a storage of its own (key = name,
// nbytes = the tensor's) unless it views `storage`, another tensor's.
Tensor& add_tensor(Checkpoint& c, const std::string& name, const std::vector<int64_t>& shape,
                   Role role, int storage = -1);

// The tensors of a shapes JSON as a checkpoint, roles known, ties shared.
Checkpoint checkpoint_from_shapes(const nlohmann::json& model);
// fixtures/arch/shapes/<model>.json as a checkpoint.
Checkpoint model_from_shapes(const std::string& model);

}  // namespace ptscope::test
