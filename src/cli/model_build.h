// profile on a state_dict (a file or a model folder): the model the plugin
// is to build, from what the core recognised. Nothing here loads LibTorch.
#pragma once

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
ModelBuild model_build(const Model& model, const Checkpoint& merged);

}  // namespace ptscope::cli
