// estimate's mixture-of-experts figures: which top-k applies, the
// parameters a token uses and the experts' memory, with config.json
// checked against the experts the shapes hold.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ptscope/estimate.h"

namespace ptscope {

// Nothing for a model without routed experts. Top-k from
// --experts-per-token, else config.json's num_experts_per_tok; without
// either the active figures stay unknown. Each config.json value that
// disagrees with the shapes is a note. Throws Error when
// --experts-per-token exceeds the experts a layer holds.
std::optional<Estimate::Moe> estimate_experts(const Checkpoint& c, const EstimateOptions& o, uint64_t parameters,
                                              std::vector<std::string>& notes);

// What the estimate lists for it (section "experts").
void experts_lines(const Estimate::Moe& x, uint64_t parameters, std::vector<Line>& lines);

// The reason every per-token figure of a mixture of experts without top-k gives.
extern const char* const kNeedsTopK;

}  // namespace ptscope
