// The dtype spellings users type, the same on every command: fp16, float16
// and half; bf16 and bfloat16; fp32, float32 and float.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ptscope/dtype.h"
#include "ptscope/estimate.h"

namespace ptscope::cli {

// The floating types a model can be converted to (profile --dtype).
std::optional<DType> float_dtype_from_name(const std::string& name);
// estimate --dtype: those, and the quantized int8 and int4.
std::optional<WeightType> weight_type_from_name(const std::string& name);
// profile --input's :DTYPE: the user spellings and every torch name and
// alias (int64, long, bool, ...), as torch's canonical name ("float16",
// "int64"), the only spelling that leaves the CLI.
std::optional<std::string> torch_dtype_name(const std::string& name);

// For help: one spelling per type, "fp32", "fp16", "bf16".
std::vector<std::string> float_dtype_names();
// The aliases, for help: "fp16 = float16 = half, ...".
std::string dtype_aliases();

}  // namespace ptscope::cli
