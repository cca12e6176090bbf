#include "profile_estimate.h"

#include "numbers.h"

#include "ptscope/estimate.h"

namespace ptscope {

std::optional<EstimateBeside> estimate_beside(const Checkpoint& c, const ProfileReply& r) {
  std::optional<WeightType> dtype = profile_weight_type(r.dtype);
  if (c.tensors.empty() || r.inputs.empty() || !dtype) return std::nullopt;
  EstimateOptions o;
  o.dtype = *dtype;
  o.batch = r.batch;
  if (r.train) {
    std::optional<Optimizer> opt = profile_optimizer(r.train->optimizer);
    if (!opt) return std::nullopt;
    o.optimizer = *opt;
  }
  const InputInfo& first = r.inputs[0];
  if (first.shape.size() == 2 && first.dtype == "int64") o.seq = first.shape[1];  // token ids
  if (first.shape.size() == 4) o.image = first.shape[2];
  Estimate e = estimate(c, o);

  EstimateBeside b;
  if (e.architecture) b.architecture = e.architecture->family;
  b.activation_bytes = r.train ? e.training.activations : e.inference.activations;
  int64_t measured = r.train ? r.train->activations_bytes : r.forward ? r.forward->activation_peak_bytes : 0;
  if (b.activation_bytes && *b.activation_bytes)
    b.measured_over_estimate = static_cast<double>(measured) / static_cast<double>(*b.activation_bytes);
  if (r.train) {
    b.optimizer_bytes = e.training.optimizer;
    b.gradient_bytes = e.training.gradients;
  }
  return b;
}

}  // namespace ptscope
