// profile on a state_dict (a file or a model folder): the model the plugin
// is to build, from what the core recognised. Nothing here loads LibTorch.
#pragma once

#include <optional>

#include "protocol.h"
#include "ptscope/checkpoint.h"
#include "ptscope/load.h"

namespace ptscope::cli {

// `merged` is the model's files as one Checkpoint. The family and its sizes
// come from recognize_architecture, the head counts from the estimate's
// resolution (shapes, then config.json, then the usual head widths), the
// norm epsilon, rope theta and RoBERTa's padding index from config.json
// where it says. Throws Error, one line, for a state_dict of no
// architecture profile can build: what it looked for and what it found.
// A mixture of experts routes each token to `experts_per_token` experts
// (--experts-per-token), else config.json's num_experts_per_tok; neither:
// Error.
ModelBuild model_build(const Model& model, const Checkpoint& merged,
                       std::optional<int64_t> experts_per_token = std::nullopt);

}  // namespace ptscope::cli
