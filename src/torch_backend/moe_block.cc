// The sparse mixture-of-experts blocks as Hugging Face transformers v4.39
// (commit 0022728) computes them in eval:
// src/transformers/models/mixtral/modeling_mixtral.py,
// MixtralSparseMoeBlock.forward: router_logits = gate(x) over the flattened
// tokens; routing_weights = softmax(logits, dim=1, dtype=float); topk(k);
// renormalised by their sum; cast back to x's dtype; for each expert, the
// tokens one_hot(selected).permute(2, 1, 0) routes to it (torch.where),
// expert(x[top_x]) * routing_weights[top_x, idx, None], index_add_'ed into
// zeros. MixtralBlockSparseTop2MLP: w2(silu(w1(x)) * w3(x)).
// src/transformers/models/qwen2_moe/modeling_qwen2_moe.py (new in v4.40:
// v4.39 has no Qwen2-MoE), Qwen2MoeSparseMoeBlock.forward: the same routing, renormalised only when
// config.norm_topk_prob, plus shared_expert(x) (a Qwen2MoeMLP) *
// sigmoid(shared_expert_gate(x)); Qwen2MoeDecoderLayer gives a layer a
// dense Qwen2MoeMLP (intermediate_size) in mlp_only_layers or off
// decoder_sparse_step; the file's names say which.
#include "moe_block.h"

#include "model_parts.h"
#include "op_counter.h"

namespace ptscope::torch_backend::llama {

at::Tensor GatedMlp::operator()(const at::Tensor& x) const {
  LayerScope s(name, type);
  return s.out(down(at::silu(gate(x)) * up(x)));
}

at::Tensor SparseMoe::operator()(const at::Tensor& x) const {
  LayerScope s(name, type);
  int64_t E = x.size(-1);
  at::Tensor h = x.reshape({-1, E});
  at::Tensor logits = router(h);
  at::Tensor weights = at::softmax(logits, 1, at::kFloat);
  auto [top_weights, selected] = at::topk(weights, top_k, -1);
  if (norm_topk_prob) top_weights = top_weights / top_weights.sum(-1, true);
  top_weights = top_weights.to(h.scalar_type());
  at::Tensor out = at::zeros({h.size(0), E}, h.options());
  // [experts, k, tokens]: which of its k choices sent each token to an expert.
  at::Tensor mask = at::one_hot(selected, static_cast<int64_t>(experts.size())).permute({2, 1, 0});
  // Every expert runs, one no token chose on zero rows (no MACs, the same
  // sum as the versions that skip it), so each has its row and parameters.
  for (size_t e = 0; e < experts.size(); ++e) {
    at::Tensor routed = mask[static_cast<int64_t>(e)].nonzero();  // rows (idx, top_x), as torch.where orders them
    at::Tensor idx = routed.select(1, 0), top_x = routed.select(1, 1);
    at::Tensor y = experts[e](h.index({top_x})) * top_weights.index({top_x, idx}).unsqueeze(-1);
    out.index_add_(0, top_x, y.to(h.scalar_type()));
  }
  if (shared) out = out + at::sigmoid(shared_gate(h)) * (*shared)(h);
  return s.out(out.reshape(x.sizes()));
}

namespace {

// The shape the file gives `name`, empty when it has none.
std::vector<int64_t> shape_of(const ModelBuild& b, const std::string& name) {
  for (const ModelTensor& t : b.tensors)
    if (t.name == name) return t.shape;
  return {};
}

Linear linear(Weights& w, const std::string& name, int64_t out, int64_t in) {
  return {name, w.param(name + ".weight", {out, in}), w.maybe_param(name + ".bias", {out})};
}

GatedMlp gated(Weights& w, const std::string& name, const char* type, const char* gate, const char* up,
               const char* down, int64_t E, int64_t F) {
  return {name, type, linear(w, name + "." + gate, F, E), linear(w, name + "." + up, F, E),
          linear(w, name + "." + down, E, F)};
}

}  // namespace

LayerMlp layer_mlp(const ModelBuild& b, Weights& w, const std::string& prefix) {
  const int64_t E = b.hidden, X = b.experts;
  LayerMlp m;
  bool mixtral = w.has(prefix + "block_sparse_moe.gate.weight");
  bool qwen = !mixtral && w.has(prefix + "mlp.experts.0.gate_proj.weight");
  if (!X || (!mixtral && !qwen)) {
    int64_t F = b.ffn;
    if (X) {  // a dense layer among experts: its own width
      std::vector<int64_t> shape = shape_of(b, prefix + "mlp.gate_proj.weight");
      if (shape.size() == 2) F = shape[0];
    }
    m.dense = std::make_unique<GatedMlp>(gated(w, prefix + "mlp", "LlamaMLP", "gate_proj", "up_proj", "down_proj", E, F));
    return m;
  }
  auto moe = std::make_unique<SparseMoe>();
  std::string block = prefix + (mixtral ? "block_sparse_moe" : "mlp");
  moe->name = block;
  moe->type = mixtral ? "MixtralSparseMoeBlock" : "Qwen2MoeSparseMoeBlock";
  moe->top_k = b.experts_per_token;
  moe->norm_topk_prob = mixtral || b.norm_topk_prob;
  moe->router = linear(w, block + ".gate", X, E);
  for (int64_t e = 0; e < X; ++e) {
    std::string n = block + ".experts." + std::to_string(e);
    moe->experts.push_back(mixtral ? gated(w, n, "MixtralBlockSparseTop2MLP", "w1", "w3", "w2", E, b.expert_ffn)
                                   : gated(w, n, "Qwen2MoeMLP", "gate_proj", "up_proj", "down_proj", E, b.expert_ffn));
  }
  std::vector<int64_t> shared = shape_of(b, block + ".shared_expert.gate_proj.weight");
  if (!mixtral && shared.size() == 2) {
    moe->shared = std::make_unique<GatedMlp>(
        gated(w, block + ".shared_expert", "Qwen2MoeMLP", "gate_proj", "up_proj", "down_proj", E, shared[0]));
    moe->shared_gate = linear(w, block + ".shared_expert_gate", 1, E);
  }
  m.moe = std::move(moe);
  return m;
}

}  // namespace ptscope::torch_backend::llama
