// What a forward pass of a recognised architecture keeps in memory and
// computes: activations (inference peak, training saved-for-backward), the
// KV cache, FLOPs per token and per sample. Pure arithmetic on the sizes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ptscope/architecture.h"

namespace ptscope {

struct WorkloadInput {
  const Architecture* arch = nullptr;
  uint64_t parameters = 0;     // counted in the file; a mixture of experts' active per token
  int64_t heads = 0;           // resolved; 0: unknown (no s^2 term)
  int64_t seq = 0, batch = 1, image = 224;
  uint64_t element_bytes = 4;  // activations and KV cache
  bool checkpointing = false;
  bool active_experts = false; // `parameters` are a token's: top-k routed experts, router, shared
};

struct Workload {
  uint64_t inference_activations = 0, training_activations = 0;
  std::optional<uint64_t> kv_cache;
  std::optional<uint64_t> forward_per_token;
  uint64_t forward_per_sample = 0;
  std::string inference_formula, training_formula, kv_formula, flops_formula;
};

Workload transformer_workload(const WorkloadInput& in);
Workload resnet_workload(const WorkloadInput& in);

}  // namespace ptscope
