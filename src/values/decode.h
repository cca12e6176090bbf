// Element bytes to numbers, for comparing values without LibTorch: every
// floating dtype torch writes (fp16, bf16 and the four float8 kinds decoded
// here), integers and bool. Little-endian, as torch writes on every machine
// ptscope reads values from (big-endian legacy files are not compared).
#pragma once

#include <cstdint>
#include <optional>

#include "ptscope/dtype.h"

namespace ptscope {

// Whether decode_element knows `t`: not complex, quantized or packed types,
// whose bytes are compared as bytes.
bool decodable(DType t);
// The element at `p` (dtype_size(t) bytes) as a double. `t` must be decodable.
double decode_element(DType t, const uint8_t* p);

double half_to_double(uint16_t bits);
double bfloat16_to_double(uint16_t bits);
// A float32 rounded to nearest-even at float16 / bfloat16, as torch's
// .half() and .bfloat16() round; nullopt where `to` is neither.
std::optional<double> round_to(DType to, float value);

}  // namespace ptscope
