// The LLaMA family's rotary frequencies, rope_scaling included (ModelBuild's
// rope, from config.json): what LlamaRotaryEmbedding holds as inv_freq and
// attention_scaling for a forward over a given number of positions.
#pragma once

#include <ATen/ATen.h>

#include "protocol.h"

namespace ptscope::torch_backend {

struct RotaryFrequencies {
  at::Tensor inv_freq;          // float32, head_dim / 2 of them
  double attention_factor = 1;  // cos and sin are multiplied by it (yarn's; 1 otherwise)
};

// What of ModelBuild the frequencies depend on, kept by the model.
class Rotary {
 public:
  explicit Rotary(const ModelBuild& b)
      : rope_(b.rope), theta_(b.rope_theta), dim_(b.head_dim), max_positions_(b.max_positions) {}
  // `positions`: the forward's sequence length (dynamic NTK rescales the
  // base once it exceeds max_position_embeddings).
  RotaryFrequencies operator()(int64_t positions) const;
  // Whether a forward over `positions` needs other frequencies than
  // operator()(0) gave (dynamic NTK past max_position_embeddings).
  bool per_forward(int64_t positions) const { return rope_.type == "dynamic" && positions > max_positions_; }

 private:
  RotaryFrequencies yarn() const;
  RopeScaling rope_;
  double theta_ = 10000;
  int64_t dim_ = 0, max_positions_ = 0;
};

}  // namespace ptscope::torch_backend
