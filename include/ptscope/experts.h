// Mixture-of-experts layers, found by the names transformers gives their
// tensors, and the parameters each token actually uses.
//
// A block holds routed experts when its tensors sit under BLOCK.experts.N.
// (a ModuleList: Mixtral's block_sparse_moe.experts.N.w1/w2/w3, Qwen2-MoE's
// and DeepSeek's mlp.experts.N.gate_proj/up_proj/down_proj) or directly
// under BLOCK.experts. with the expert axis first (fused: gpt-oss's and newer
// transformers' experts.gate_up_proj [experts, ...]). Beside them:
// BLOCK.gate.* or BLOCK.router.* is the router (DeepSeek-V3's
// gate.e_score_correction_bias included), BLOCK.shared_expert.*,
// BLOCK.shared_experts.* and BLOCK.shared_expert_gate.* the shared experts
// every token passes through.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ptscope/checkpoint.h"

namespace ptscope {

struct Experts {
  std::string naming;          // "mixtral", "qwen2_moe", "deepseek", "gpt_oss", "experts" (ModuleList), "fused"
  int64_t moe_layers = 0;      // blocks with routed experts
  int64_t experts = 0;         // routed experts per block (the most any block has)
  int64_t expert_ffn = 0;      // one expert's FFN width; 0 where the layout leaves it open (fused)
  uint64_t expert_parameters = 0;    // every routed expert of every block
  uint64_t one_expert_per_layer = 0;  // one routed expert of each block, summed
  uint64_t router_parameters = 0;
  uint64_t shared_parameters = 0;     // shared experts and their gates
};

// The checkpoint's experts, counted among its parameters as ModelSizes
// counts them (each view once, quantized weights at their logical shapes);
// nullopt when no tensor is a routed expert's.
std::optional<Experts> find_experts(const Checkpoint& c);

// Whether a tensor name belongs to a routed expert (BLOCK.experts.*).
bool routed_expert_name(const std::string& name);

// Parameters one token uses: all but the routed experts, plus top_k of
// them in every MoE block (the router and shared experts are always used).
uint64_t active_parameters(const Experts& x, uint64_t parameters, int64_t top_k);

}  // namespace ptscope
