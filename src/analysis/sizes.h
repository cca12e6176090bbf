// Sizes read from a file are signed (torch shapes are int64); the formulas
// work in unsigned 64-bit arithmetic, where a negative size counts as 0.
#pragma once

#include <cstdint>

namespace ptscope {

inline uint64_t u(int64_t v) { return v > 0 ? static_cast<uint64_t>(v) : 0; }
inline uint64_t ceil_div(uint64_t a, uint64_t b) { return b ? (a + b - 1) / b : 0; }

}  // namespace ptscope
