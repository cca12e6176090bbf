#include "decode.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace ptscope {
namespace {

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// A minifloat with `ebits` exponent and `mbits` mantissa bits. `fn`: no
// infinities, all-ones exponent and mantissa is NaN (e4m3fn); `uz`: one NaN,
// the negative zero pattern 0x80, and no -0 (the *fnuz kinds).
double minifloat(uint32_t bits, int ebits, int mbits, int bias, bool fn, bool uz) {
  const uint32_t sign = bits >> (ebits + mbits) & 1u;
  const uint32_t exp = bits >> mbits & ((1u << ebits) - 1);
  const uint32_t man = bits & ((1u << mbits) - 1);
  const uint32_t exp_max = (1u << ebits) - 1;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (uz && sign && exp == 0 && man == 0) return nan;
  if (!fn && !uz && exp == exp_max) return man ? nan : (sign ? -INFINITY : INFINITY);
  if (fn && exp == exp_max && man == (1u << mbits) - 1) return nan;
  double v = exp == 0 ? std::ldexp(static_cast<double>(man), 1 - bias - mbits)
                      : std::ldexp(static_cast<double>(man | 1u << mbits), static_cast<int>(exp) - bias - mbits);
  return sign ? -v : v;
}

}  // namespace

double half_to_double(uint16_t bits) { return minifloat(bits, 5, 10, 15, false, false); }

double bfloat16_to_double(uint16_t bits) {
  uint32_t f = static_cast<uint32_t>(bits) << 16;
  float v;
  std::memcpy(&v, &f, sizeof v);
  return v;
}

bool decodable(DType t) {
  switch (t) {
    case DType::Complex32: case DType::Complex64: case DType::Complex128:
    case DType::QUInt8: case DType::QInt8: case DType::QInt32: case DType::QUInt4x2: case DType::QUInt2x4:
      return false;
    default:
      return true;
  }
}

double decode_element(DType t, const uint8_t* p) {
  switch (t) {
    case DType::Bool: return p[0] != 0;
    case DType::UInt8: return p[0];
    case DType::Int8: return static_cast<int8_t>(p[0]);
    case DType::Int16: return load<int16_t>(p);
    case DType::Int32: return load<int32_t>(p);
    case DType::Int64: return static_cast<double>(load<int64_t>(p));
    case DType::UInt16: return load<uint16_t>(p);
    case DType::UInt32: return load<uint32_t>(p);
    case DType::UInt64: return static_cast<double>(load<uint64_t>(p));
    case DType::Float16: return half_to_double(load<uint16_t>(p));
    case DType::BFloat16: return bfloat16_to_double(load<uint16_t>(p));
    case DType::Float32: return load<float>(p);
    case DType::Float64: return load<double>(p);
    case DType::Float8E4M3FN: return minifloat(p[0], 4, 3, 7, true, false);
    case DType::Float8E5M2: return minifloat(p[0], 5, 2, 15, false, false);
    case DType::Float8E4M3FNUZ: return minifloat(p[0], 4, 3, 8, false, true);
    case DType::Float8E5M2FNUZ: return minifloat(p[0], 5, 2, 16, false, true);
    default: return std::numeric_limits<double>::quiet_NaN();
  }
}

std::optional<double> round_to(DType to, float value) {
  uint32_t f;
  std::memcpy(&f, &value, sizeof f);
  if (to == DType::BFloat16) {
    if (std::isnan(value)) return value;
    f += 0x7fffu + (f >> 16 & 1u);  // nearest, ties to even, on the dropped 16 bits
    return bfloat16_to_double(static_cast<uint16_t>(f >> 16));
  }
  if (to != DType::Float16) return std::nullopt;
  if (std::isnan(value) || std::isinf(value)) return value;
  // Round the magnitude to float16's precision at its exponent: 11
  // significant bits for normals, a fixed 2^-24 step for subnormals.
  double a = std::fabs(static_cast<double>(value));
  int e;
  std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  int step_exp = std::max(e - 11, -24);
  double r = std::nearbyint(std::ldexp(a, -step_exp));  // ties to even under the default rounding mode
  double rounded = std::ldexp(r, step_exp);
  if (rounded > 65504.0) rounded = INFINITY;
  return value < 0 ? -rounded : rounded;
}

}  // namespace ptscope
