// RoPE's inverse frequencies as Hugging Face transformers computes them,
// src/transformers/modeling_rope_utils.py (v4.44, commit 0044e3b: the
// functions ROPE_INIT_FUNCTIONS maps each rope_type to):
// _compute_default_rope_parameters (1 / base^(arange(0, dim, 2) / dim), in
// float32), _compute_linear_scaling_rope_parameters (inv_freq / factor: the
// positions divided by it), _compute_dynamic_ntk_parameters (base *
// (factor * seq / max_pos - (factor - 1))^(dim / (dim - 2)) once seq >
// max_position_embeddings; LlamaRotaryEmbedding._dynamic_frequency_update
// recomputes it per forward from max(position_ids) + 1),
// _compute_llama3_parameters (wavelengths above original / low_freq_factor
// divided by factor, below original / high_freq_factor kept, smoothly
// interpolated between) and _compute_yarn_parameters (interpolated and
// extrapolated frequencies blended by a linear ramp over the correction
// range of beta_fast / beta_slow rotations; cos and sin scaled by
// attention_factor, default 0.1 ln(factor) + 1). The same in v4.39's
// LlamaLinearScalingRotaryEmbedding / LlamaDynamicNTKScalingRotaryEmbedding.
#include "rotary.h"

#include <cmath>

#include "commands.h"

namespace ptscope::torch_backend {
namespace {

at::Tensor default_inv_freq(double base, int64_t dim) {
  return 1.0 / at::pow(base, at::arange(0, dim, 2, at::kLong).to(at::kFloat) / static_cast<double>(dim));
}

at::Tensor llama3(const at::Tensor& inv_freq, const RopeScaling& r) {
  double old_context = static_cast<double>(r.original_max_positions);
  double low_wavelen = old_context / r.low_freq_factor, high_wavelen = old_context / r.high_freq_factor;
  at::Tensor wavelen = 2 * M_PI / inv_freq;
  at::Tensor scaled = at::where(wavelen > low_wavelen, inv_freq / r.factor, inv_freq);
  at::Tensor smooth = (old_context / wavelen - r.low_freq_factor) / (r.high_freq_factor - r.low_freq_factor);
  at::Tensor smoothed = (1 - smooth) * scaled / r.factor + smooth * scaled;
  at::Tensor medium = wavelen.ge(high_wavelen).logical_and(wavelen.le(low_wavelen));
  return at::where(medium, smoothed, scaled);
}

}  // namespace

RotaryFrequencies Rotary::yarn() const {
  const RopeScaling& r = rope_;
  int64_t dim = dim_;
  double base = theta_;
  double max_pos = static_cast<double>(max_positions_);
  double beta_fast = r.beta_fast > 0 ? r.beta_fast : 32, beta_slow = r.beta_slow > 0 ? r.beta_slow : 1;
  // The dimension at which a wavelength makes `rotations` turns over max_pos.
  auto correction_dim = [&](double rotations) {
    return dim * std::log(max_pos / (rotations * 2 * M_PI)) / (2 * std::log(base));
  };
  double low = std::max(std::floor(correction_dim(beta_fast)), 0.0);
  double high = std::min(std::ceil(correction_dim(beta_slow)), static_cast<double>(dim - 1));
  if (low == high) high += 0.001;  // no zero-width ramp
  at::Tensor pos_freqs = at::pow(base, at::arange(0, dim, 2).to(at::kFloat) / static_cast<double>(dim));
  at::Tensor extrapolation = 1.0 / pos_freqs, interpolation = 1.0 / (r.factor * pos_freqs);
  at::Tensor ramp = at::clamp((at::arange(dim / 2, at::kFloat) - low) / (high - low), 0, 1);
  at::Tensor extrapolation_factor = 1 - ramp;
  RotaryFrequencies f;
  f.inv_freq = interpolation * (1 - extrapolation_factor) + extrapolation * extrapolation_factor;
  f.attention_factor = r.attention_factor > 0 ? r.attention_factor : 0.1 * std::log(r.factor) + 1.0;
  return f;
}

RotaryFrequencies Rotary::operator()(int64_t positions) const {
  int64_t dim = dim_;
  const RopeScaling& r = rope_;
  RotaryFrequencies f;
  if (r.type.empty()) {
    f.inv_freq = default_inv_freq(theta_, dim);
  } else if (r.type == "linear") {
    f.inv_freq = default_inv_freq(theta_, dim) / r.factor;
  } else if (r.type == "dynamic") {
    if (max_positions_ <= 0) throw BackendError("dynamic rope_scaling needs config.json's max_position_embeddings");
    int64_t seq = std::max(positions, max_positions_);
    double base = theta_ * std::pow(r.factor * static_cast<double>(seq) / static_cast<double>(max_positions_) -
                                              (r.factor - 1),
                                          static_cast<double>(dim) / static_cast<double>(dim - 2));
    f.inv_freq = default_inv_freq(base, dim);
  } else if (r.type == "llama3") {
    f.inv_freq = llama3(default_inv_freq(theta_, dim), r);
  } else if (r.type == "yarn") {
    if (max_positions_ <= 0) throw BackendError("yarn rope_scaling needs config.json's max_position_embeddings");
    f = yarn();
  } else {
    throw BackendError("rope_scaling type '" + r.type + "' is not built (linear, dynamic, llama3, yarn)");
  }
  return f;
}

}  // namespace ptscope::torch_backend
