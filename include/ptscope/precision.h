// What a model's weights take at each precision: the one table behind
// inspect's "params at" and the estimate's weights.
//
//   fp32  4 bytes per parameter
//   fp16, bf16  2 bytes
//   int8  weight-only, per output row: matrices 1 byte per weight plus one
//         fp16 scale per row (LLM.int8 / torch.ao per-channel); vectors
//         (biases, norms) stay fp16
//   int4  weight-only, grouped as GPTQ and AWQ store it: matrices 4 bits
//         per weight plus, per group of `group_size` weights, an fp16 scale
//         and a 4-bit zero point (2.5 bytes); vectors stay fp16
#pragma once

#include <cstdint>
#include <string>

#include "ptscope/model_sizes.h"

namespace ptscope {

enum class WeightType { FP32, FP16, BF16, INT8, INT4 };
inline constexpr WeightType kWeightTypes[] = {WeightType::FP32, WeightType::FP16, WeightType::BF16,
                                              WeightType::INT8, WeightType::INT4};
inline constexpr int64_t kDefaultGroupSize = 128;  // GPTQ's and AWQ's default

const char* weight_type_name(WeightType w);  // "fp32", "fp16", "bf16", "int8", "int4"

// Bytes of the model's weights at `w`; `formula`, if given, says how.
uint64_t weight_bytes(WeightType w, const ModelSizes& m, int64_t group_size = kDefaultGroupSize,
                      std::string* formula = nullptr);

// How many parameters `bytes` hold at `w` at most: every parameter in a
// matrix, and per-row int8 scales (which need the shapes) left out.
uint64_t parameters_in(uint64_t bytes, WeightType w, int64_t group_size = kDefaultGroupSize);

}  // namespace ptscope
