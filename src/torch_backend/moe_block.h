// The LLaMA family's MLPs: the dense gated MLP (LlamaMLP) and the sparse
// mixture-of-experts blocks of Mixtral and Qwen2-MoE, as Hugging Face
// transformers' eager implementation computes them in eval (moe_block.cc
// cites the files). llama_model.cc builds one per decoder layer.
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

#include "model_parts.h"  // Linear, Weights
#include "protocol.h"

namespace ptscope::torch_backend {

namespace llama {

// down(silu(gate(x)) * up(x)): LlamaMLP, Qwen2MoeMLP (an expert, the shared
// expert), MixtralBlockSparseTop2MLP (w2(silu(w1(x)) * w3(x))).
struct GatedMlp {
  std::string name;
  const char* type = "LlamaMLP";
  Linear gate, up, down;
  at::Tensor operator()(const at::Tensor& x) const;
};

// A router over routed experts, each token sent to the top k; Qwen2-MoE's
// shared expert, scaled by sigmoid(shared_expert_gate(x)), beside them.
// Each expert runs on the tokens routed to it only: its MACs are those
// tokens', so a forward's count depends on the routing (dense counts
// assume every token in every expert).
struct SparseMoe {
  std::string name;
  const char* type = "MixtralSparseMoeBlock";
  Linear router;
  std::vector<GatedMlp> experts;
  std::unique_ptr<GatedMlp> shared;  // null: none (Mixtral)
  Linear shared_gate;
  int64_t top_k = 2;
  bool norm_topk_prob = true;
  at::Tensor operator()(const at::Tensor& x) const;
};

// Layer `prefix` ("layers.3.")'s MLP as the file's names show it: Mixtral's
// block_sparse_moe, Qwen2-MoE's mlp with experts, else a dense mlp (as
// Qwen2-MoE's mlp_only_layers and decoder_sparse_step leave some). Shapes
// come from the build's sizes, a dense layer's width from its own tensors.
struct LayerMlp {
  std::unique_ptr<GatedMlp> dense;
  std::unique_ptr<SparseMoe> moe;
  at::Tensor operator()(const at::Tensor& x) const { return moe ? (*moe)(x) : (*dense)(x); }
};
LayerMlp layer_mlp(const ModelBuild& b, Weights& w, const std::string& prefix);

}  // namespace llama
}  // namespace ptscope::torch_backend
