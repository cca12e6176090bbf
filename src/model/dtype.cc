#include "ptscope/dtype.h"

#include <cstring>

namespace ptscope {
namespace {

struct DTypeInfo {
  DType type;
  const char* name;
  uint32_t size;
  bool floating;
  const char* storage_class;  // torch.<X>Storage, nullptr where torch has none
  const char* safetensors;    // safetensors code, nullptr where it has none
};

constexpr DTypeInfo kTable[] = {
    {DType::Bool, "bool", 1, false, "BoolStorage", "BOOL"},
    {DType::UInt8, "uint8", 1, false, "ByteStorage", "U8"},
    {DType::Int8, "int8", 1, false, "CharStorage", "I8"},
    {DType::Int16, "int16", 2, false, "ShortStorage", "I16"},
    {DType::Int32, "int32", 4, false, "IntStorage", "I32"},
    {DType::Int64, "int64", 8, false, "LongStorage", "I64"},
    {DType::UInt16, "uint16", 2, false, "UInt16Storage", "U16"},
    {DType::UInt32, "uint32", 4, false, "UInt32Storage", "U32"},
    {DType::UInt64, "uint64", 8, false, "UInt64Storage", "U64"},
    {DType::Float16, "float16", 2, true, "HalfStorage", "F16"},
    {DType::BFloat16, "bfloat16", 2, true, "BFloat16Storage", "BF16"},
    {DType::Float32, "float32", 4, true, "FloatStorage", "F32"},
    {DType::Float64, "float64", 8, true, "DoubleStorage", "F64"},
    {DType::Complex32, "complex32", 4, true, "ComplexHalfStorage", nullptr},
    {DType::Complex64, "complex64", 8, true, "ComplexFloatStorage", "C64"},
    {DType::Complex128, "complex128", 16, true, "ComplexDoubleStorage", "C128"},
    {DType::QUInt8, "quint8", 1, false, "QUInt8Storage", nullptr},
    {DType::QInt8, "qint8", 1, false, "QInt8Storage", nullptr},
    {DType::QInt32, "qint32", 4, false, "QInt32Storage", nullptr},
    {DType::QUInt4x2, "quint4x2", 1, false, "QUInt4x2Storage", nullptr},
    {DType::QUInt2x4, "quint2x4", 1, false, "QUInt2x4Storage", nullptr},
    {DType::Float8E4M3FN, "float8_e4m3fn", 1, true, "Float8_e4m3fnStorage", "F8_E4M3"},
    {DType::Float8E5M2, "float8_e5m2", 1, true, "Float8_e5m2Storage", "F8_E5M2"},
    {DType::Float8E4M3FNUZ, "float8_e4m3fnuz", 1, true, "Float8_e4m3fnuzStorage", nullptr},
    {DType::Float8E5M2FNUZ, "float8_e5m2fnuz", 1, true, "Float8_e5m2fnuzStorage", nullptr},
};

const DTypeInfo& info(DType t) { return kTable[static_cast<size_t>(t)]; }

// Aliases torch accepts as attribute names of the torch module.
struct Alias {
  const char* name;
  DType type;
};
constexpr Alias kAliases[] = {
    {"float", DType::Float32}, {"double", DType::Float64}, {"half", DType::Float16},
    {"long", DType::Int64},    {"int", DType::Int32},      {"short", DType::Int16},
    {"cfloat", DType::Complex64}, {"cdouble", DType::Complex128},
    {"chalf", DType::Complex32},
};

}  // namespace

const char* dtype_name(DType t) { return info(t).name; }
uint32_t dtype_size(DType t) { return info(t).size; }
bool dtype_is_floating(DType t) { return info(t).floating; }

std::optional<DType> dtype_from_storage_class(const std::string& name) {
  for (const auto& i : kTable)
    if (name == i.storage_class) return i.type;
  return std::nullopt;
}

std::optional<DType> dtype_from_torch_name(const std::string& name) {
  for (const auto& i : kTable)
    if (name == i.name) return i.type;
  for (const auto& a : kAliases)
    if (name == a.name) return a.type;
  return std::nullopt;
}

std::optional<DType> dtype_from_safetensors(const std::string& code) {
  // The first letter first: a header asks once per tensor, 100,000 times.
  for (const auto& i : kTable)
    if (i.safetensors && code[0] == i.safetensors[0] && code == i.safetensors) return i.type;
  return std::nullopt;
}

}  // namespace ptscope
