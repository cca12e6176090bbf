#include "torch_dtypes.h"

#include "commands.h"
#include "protocol.h"

namespace ptscope::torch_backend {
namespace {

struct Pair {
  DType dtype;
  at::ScalarType type;
  bool same;  // false: a view of the bytes only (quantized as integers)
};

constexpr Pair kPairs[] = {
    {DType::Bool, at::kBool, true},        {DType::UInt8, at::kByte, true},
    {DType::Int8, at::kChar, true},        {DType::Int16, at::kShort, true},
    {DType::Int32, at::kInt, true},        {DType::Int64, at::kLong, true},
    {DType::Float16, at::kHalf, true},     {DType::BFloat16, at::kBFloat16, true},
    {DType::Float32, at::kFloat, true},    {DType::Float64, at::kDouble, true},
    {DType::Complex32, at::kComplexHalf, true}, {DType::Complex64, at::kComplexFloat, true},
    {DType::Complex128, at::kComplexDouble, true},
    {DType::QInt8, at::kChar, false},      {DType::QUInt8, at::kByte, false},
    {DType::QInt32, at::kInt, false},      {DType::QUInt4x2, at::kByte, false},
    {DType::QUInt2x4, at::kByte, false},
};

}  // namespace

std::optional<at::ScalarType> view_type(DType t) {
  for (const Pair& p : kPairs)
    if (p.dtype == t) return p.type;
  return std::nullopt;
}

at::ScalarType parse_scalar_type(const std::string& name) {
  std::optional<DType> d = profile_dtype(name);
  for (const Pair& p : kPairs)
    if (d && p.same && p.dtype == *d) return p.type;
  throw BackendError("unknown dtype '" + name + "'");
}

std::string scalar_type_name(at::ScalarType t) {
  for (const Pair& p : kPairs)
    if (p.same && p.type == t) return dtype_name(p.dtype);
  return c10::toString(t);
}

}  // namespace ptscope::torch_backend
