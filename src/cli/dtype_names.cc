#include "dtype_names.h"

#include <algorithm>
#include <cctype>

namespace ptscope::cli {
namespace {

struct Spelling {
  const char* name;
  DType type;
};

// The first spelling of each type is the one help shows.
constexpr Spelling kSpellings[] = {
    {"fp32", DType::Float32}, {"float32", DType::Float32}, {"float", DType::Float32},
    {"fp16", DType::Float16}, {"float16", DType::Float16}, {"half", DType::Float16},
    {"bf16", DType::BFloat16}, {"bfloat16", DType::BFloat16},
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

std::optional<DType> float_dtype_from_name(const std::string& name) {
  std::string n = lower(name);
  for (const Spelling& s : kSpellings)
    if (n == s.name) return s.type;
  return std::nullopt;
}

std::optional<WeightType> weight_type_from_name(const std::string& name) {
  std::string n = lower(name);
  if (n == "int8") return WeightType::INT8;
  if (n == "int4") return WeightType::INT4;
  std::optional<DType> d = float_dtype_from_name(n);
  if (!d) return std::nullopt;
  return *d == DType::Float16 ? WeightType::FP16 : *d == DType::BFloat16 ? WeightType::BF16 : WeightType::FP32;
}

std::optional<std::string> torch_dtype_name(const std::string& name) {
  std::optional<DType> d = float_dtype_from_name(name);
  if (!d) d = dtype_from_torch_name(lower(name));
  if (!d) return std::nullopt;
  return std::string(dtype_name(*d));
}

std::vector<std::string> float_dtype_names() {
  std::vector<std::string> names;
  std::optional<DType> last;
  for (const Spelling& s : kSpellings) {
    if (last != s.type) names.push_back(s.name);
    last = s.type;
  }
  return names;
}

std::string dtype_aliases() {
  std::string out;
  std::optional<DType> last;
  for (const Spelling& s : kSpellings) {
    out += last == s.type ? " = " : out.empty() ? "" : ", ";
    out += s.name;
    last = s.type;
  }
  return out;
}

}  // namespace ptscope::cli
