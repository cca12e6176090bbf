// The file-alone estimate beside a profile measurement, for the same batch
// and input size: how far the formulas are from what LibTorch allocated.
#pragma once

#include <optional>
#include <string>

#include "protocol.h"
#include "ptscope/checkpoint.h"

namespace ptscope {

struct EstimateBeside {
  std::optional<std::string> architecture;       // the family recognised
  std::optional<uint64_t> activation_bytes;      // what the formulas give
  std::optional<double> measured_over_estimate;
  std::optional<uint64_t> optimizer_bytes, gradient_bytes;  // with --train
};

// Absent when the file holds no tensors, the model took no inputs, or the
// reply's dtype has no estimate weight type.
std::optional<EstimateBeside> estimate_beside(const Checkpoint& c, const ProfileReply& r);

}  // namespace ptscope
