// The sizes of a checkpoint's model that memory and precision figures are
// computed from: its unique parameters, split by the shapes that matter to
// quantisation and optimizers.
#pragma once

#include <cstdint>
#include <string>

#include "ptscope/checkpoint.h"

namespace ptscope {

struct ModelSizes {
  uint64_t parameters = 0;         // numel, unique, as model.parameters() counts
  uint64_t parameter_tensors = 0, parameter_bytes = 0;
  uint64_t buffer_bytes = 0;
  uint64_t matrix_parameters = 0;  // in tensors of two or more dimensions
  uint64_t matrix_rows = 0;        // their first dimensions, summed: int8 scales
  uint64_t adafactor_state = 0;    // Adafactor's factored second moment, elements
  uint64_t small_parameters = 0;   // in tensors under 4096 elements: 8-bit Adam keeps fp32 state
  bool from_file_roles = false;    // parameters told apart from buffers
};

// Where the file does not tell parameters from buffers, every floating
// tensor of the model counts as a parameter. With `only`, the sizes of
// the tensors whose names it accepts (the routed experts, for their memory).
ModelSizes model_sizes(const Checkpoint& c, bool (*only)(const std::string&) = nullptr);

}  // namespace ptscope
