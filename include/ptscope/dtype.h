// Element types torch writes, with their sizes, and the names the three
// on-disk vocabularies use for them (torch storage classes, torch dtype
// globals, safetensors' short codes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ptscope {

enum class DType : uint8_t {
  Bool, UInt8, Int8, Int16, Int32, Int64, UInt16, UInt32, UInt64,
  Float16, BFloat16, Float32, Float64,
  Complex32, Complex64, Complex128,
  QUInt8, QInt8, QInt32, QUInt4x2, QUInt2x4,
  Float8E4M3FN, Float8E5M2, Float8E4M3FNUZ, Float8E5M2FNUZ,
};

// torch's name, without "torch.": "float32", "bfloat16", "qint8", ...
const char* dtype_name(DType t);
// Bytes per element. Sub-byte quantized types pack several values into one
// byte; their storages are counted in bytes, as torch does.
uint32_t dtype_size(DType t);
bool dtype_is_floating(DType t);  // float, complex and float8 kinds

// "FloatStorage", "BFloat16Storage", ... (module "torch")
std::optional<DType> dtype_from_storage_class(const std::string& name);
// "float32", "float", "half", ... (module "torch")
std::optional<DType> dtype_from_torch_name(const std::string& name);
// "F32", "BF16", "I64", ... (safetensors)
std::optional<DType> dtype_from_safetensors(const std::string& code);

}  // namespace ptscope
