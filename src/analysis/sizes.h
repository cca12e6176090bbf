// Sizes read from a file are signed (torch shapes are int64); the formulas
// work in unsigned 64-bit arithmetic, where a negative size counts as 0.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "ptscope/error.h"

namespace ptscope {

inline uint64_t u(int64_t v) { return v > 0 ? static_cast<uint64_t>(v) : 0; }
inline uint64_t ceil_div(uint64_t a, uint64_t b) { return b ? (a + b - 1) / b : 0; }

// The product of `factors`, or Error naming `what` when it does not fit in
// 64 bits: an estimate that wrapped would print a small wrong number.
inline uint64_t checked_product(std::initializer_list<uint64_t> factors, const std::string& what) {
  uint64_t p = 1;
  for (uint64_t f : factors)
    if (__builtin_mul_overflow(p, f, &p))
      throw Error("estimate: " + what + " overflows 64-bit arithmetic");
  return p;
}

}  // namespace ptscope
