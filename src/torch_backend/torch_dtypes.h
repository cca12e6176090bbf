// The core's element types as LibTorch 1.13 knows them: one table for
// parsing --dtype/--input names, naming tensors, and viewing file bytes.
#pragma once

#include <c10/core/ScalarType.h>

#include <optional>
#include <string>

#include "ptscope/dtype.h"

namespace ptscope::torch_backend {

// How to view bytes of `t`: quantized data as its integer representation.
// Absent where LibTorch 1.13 has no such type (float8, uint16/32/64).
std::optional<at::ScalarType> view_type(DType t);
// The names profile takes (protocol.h's profile_dtype); throws
// BackendError for anything else.
at::ScalarType parse_scalar_type(const std::string& name);
// torch's name, as inspect prints it: "float32", "bfloat16", ...
std::string scalar_type_name(at::ScalarType t);

}  // namespace ptscope::torch_backend
