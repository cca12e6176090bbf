// profile --train: one forward + backward + optimizer step from a clean
// state, its memory split into parameters, gradients, optimizer state and
// saved activations, and its latency. The only translation unit that
// includes the optimizers.
#pragma once

#include <ATen/core/ivalue.h>

#include <string>
#include <vector>

#include "measure.h"
#include "protocol.h"
#include "runnable.h"

namespace ptscope::torch_backend {

// `weights`: the parameters' and buffers' bytes, each once.
Train train_step(Runnable& m, const std::vector<c10::IValue>& inputs, const std::string& optimizer,
                 uint64_t weights, int warmup, int iters, int64_t batch, const Target& target);

}  // namespace ptscope::torch_backend
