// Parameters versus buffers for files that do not say: a state_dict holds
// both with nothing to tell them apart. The rules, first match wins:
//
//   1. nn.Parameter object     the pickle rebuilt it with _rebuild_parameter
//   2. batchnorm running stat  name ends in running_mean / running_var
//   3. num_batches_tracked     BatchNorm's step counter
//   4. non-float dtype         parameters must be floating point or complex
//   5. known buffer name       position_ids, inv_freq, masks, anchors, ...
//   6. floating tensor         everything else
//
// Tensors whose role the file gave (TorchScript declarations, a pickled
// nn.Module) and optimizer or other non-model groups are left alone.
#pragma once

#include "ptscope/checkpoint.h"

namespace ptscope {

void classify_roles(Checkpoint& c);

}  // namespace ptscope
