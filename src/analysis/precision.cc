#include "ptscope/precision.h"

#include "sizes.h"

namespace ptscope {
namespace {


}  // namespace

const char* weight_type_name(WeightType w) {
  switch (w) {
    case WeightType::FP32: return "fp32";
    case WeightType::FP16: return "fp16";
    case WeightType::BF16: return "bf16";
    case WeightType::INT8: return "int8";
    case WeightType::INT4: return "int4";
  }
  return "?";
}

uint64_t weight_bytes(WeightType w, const ModelSizes& m, int64_t group_size, std::string* formula) {
  uint64_t vectors = m.parameters - m.matrix_parameters;
  std::string f;
  uint64_t bytes = 0;
  switch (w) {
    case WeightType::FP32: f = "P*4"; bytes = 4 * m.parameters; break;
    case WeightType::FP16:
    case WeightType::BF16: f = "P*2"; bytes = 2 * m.parameters; break;
    case WeightType::INT8:
      f = "matrices 1 byte + one fp16 scale per output row; vectors fp16";
      bytes = m.matrix_parameters + 2 * m.matrix_rows + 2 * vectors;
      break;
    case WeightType::INT4: {
      uint64_t groups = ceil_div(m.matrix_parameters, u(group_size));
      f = "matrices 4 bits + per group of " + std::to_string(group_size) +
          ": fp16 scale and 4-bit zero (2.5 bytes); vectors fp16";
      bytes = ceil_div(m.matrix_parameters, 2) + ceil_div(5 * groups, 2) + 2 * vectors;
      break;
    }
  }
  if (formula) *formula = f;
  return bytes;
}

uint64_t parameters_in(uint64_t bytes, WeightType w, int64_t group_size) {
  switch (w) {
    case WeightType::FP32: return bytes / 4;
    case WeightType::FP16:
    case WeightType::BF16: return bytes / 2;
    case WeightType::INT8: return bytes;
    case WeightType::INT4: {
      // A group of g weights takes g/2 + 2.5 bytes = (g + 5) / 2 bytes.
      uint64_t g = u(group_size) ? u(group_size) : 1;
      unsigned __int128 p = static_cast<unsigned __int128>(bytes) * 2 * g / (g + 5);
      return static_cast<uint64_t>(p);
    }
  }
  return 0;
}

}  // namespace ptscope
