// GPT-2 as Hugging Face transformers' eager implementation computes it:
// src/transformers/models/gpt2/modeling_gpt2.py, v4.39: Conv1D (addmm with
// the [in, out] weight as stored, the transpose of nn.Linear's), GPT2Attention
// (c_attn split into q, k, v; matmul(q, k^T) / sqrt(head_dim); where(causal
// mask, w, finfo.min); softmax; matmul with v; c_proj), GPT2MLP (c_fc,
// gelu_new, c_proj), pre-LayerNorm blocks, ln_f, and GPT2LMHeadModel's
// lm_head (wte's matrix) when the file has one. gelu_new is the tanh
// approximation, computed here as at::gelu(x, "tanh"): the same function,
// one op instead of HF's eight elementwise ones. Dropout (a --train step
// only): GPT2Model.drop on wte + wpe (embd_pdrop), GPT2Attention's
// attn_dropout on the softmax weights (attn_pdrop) and resid_dropout after
// c_proj, GPT2MLP's dropout after c_proj (resid_pdrop).
#include "model_parts.h"
#include "op_counter.h"

namespace ptscope::torch_backend {
namespace {

struct Conv1D {
  std::string name;
  at::Tensor weight, bias;  // weight [in, out]
  at::Tensor operator()(const at::Tensor& x) const {
    LayerScope s(name, "Conv1D", {weight, bias});
    std::vector<int64_t> size = x.sizes().vec();
    size.back() = weight.size(1);
    return s.out(at::addmm(bias, x.view({-1, x.size(-1)}), weight).view(size));
  }
};

struct Block {
  std::string name;
  LayerNorm ln_1, ln_2;
  Conv1D c_attn, attn_proj, c_fc, mlp_proj;
};

class Gpt2 : public BuiltRunnable {
 public:
  Gpt2(const ModelBuild& b, std::unique_ptr<Weights> w) : BuiltRunnable(std::move(w)) {
    if (b.heads <= 0 || b.hidden % b.heads)
      throw BackendError("gpt2: the head count is unknown: give the folder's config.json (n_head)");
    E_ = b.hidden;
    H_ = b.heads;
    p_embd_ = b.dropout_embedding;
    p_attn_ = b.dropout_attention;
    p_resid_ = b.dropout_hidden;
    double eps = b.norm_eps > 0 ? b.norm_eps : default_norm_eps(b.family);
    wte_ = w_->param("wte.weight", {b.vocab, E_});
    wpe_ = w_->param("wpe.weight", {b.positions, E_});
    for (int64_t i = 0; i < b.layers; ++i) {
      std::string n = "h." + std::to_string(i) + ".";
      Block blk;
      blk.name = "h." + std::to_string(i);
      blk.ln_1 = norm(n + "ln_1", eps);
      blk.ln_2 = norm(n + "ln_2", eps);
      blk.c_attn = conv1d(n + "attn.c_attn", E_, 3 * E_);
      blk.attn_proj = conv1d(n + "attn.c_proj", E_, E_);
      blk.c_fc = conv1d(n + "mlp.c_fc", E_, b.ffn);
      blk.mlp_proj = conv1d(n + "mlp.c_proj", b.ffn, E_);
      w_->keep_buffer(n + "attn.bias");
      w_->keep_buffer(n + "attn.masked_bias");
      blocks_.push_back(std::move(blk));
    }
    ln_f_ = norm("ln_f", eps);
    if (b.lm_head) head_ = w_->has("lm_head.weight") ? w_->param("lm_head.weight", {b.vocab, E_}) : wte_;
    // GPT2Attention's `bias` buffer: tril(ones(n_positions, n_positions)).
    causal_ = at::ones({b.positions, b.positions}, at::TensorOptions().dtype(at::kBool).device(w_->device())).tril();
  }

  std::vector<Argument> arguments(size_t given) const override {
    return one_argument(given, "forward(input_ids: Tensor)", {"input_ids", wte_.size(0)});
  }

  c10::IValue run(const std::vector<c10::IValue>& inputs) override {
    const at::Tensor& ids = inputs.at(0).toTensor();
    if (ids.dim() != 2) throw BackendError("input_ids must be BATCHxSEQ, e.g. --input 1x128");
    int64_t S = ids.size(1);
    if (S > wpe_.size(0))
      throw BackendError("gpt2 has " + std::to_string(wpe_.size(0)) + " positions: --input asks for " +
                         std::to_string(S));
    at::Tensor tokens, positions;
    {
      LayerScope s("wte", "Embedding", {wte_});
      tokens = s.out(at::embedding(wte_, ids));
    }
    {
      LayerScope s("wpe", "Embedding", {wpe_});
      positions = s.out(at::embedding(wpe_, at::arange(S, ids.options()).unsqueeze(0)));
    }
    at::Tensor h = dropout(tokens + positions, p_embd_);  // GPT2Model.forward's own ops, outside any module
    for (const Block& b : blocks_) h = block(b, h);
    h = ln_f_(h);
    if (!head_.defined()) return h;
    LayerScope s("lm_head", "Linear", {head_});
    return s.out(at::linear(h, head_));
  }

 private:
  Conv1D conv1d(const std::string& name, int64_t in, int64_t out) {
    return {name, w_->param(name + ".weight", {in, out}), w_->param(name + ".bias", {out})};
  }
  LayerNorm norm(const std::string& name, double eps) {
    return {name, w_->param(name + ".weight", {E_}), w_->param(name + ".bias", {E_}), eps};
  }

  at::Tensor attention(const Block& b, const at::Tensor& x) const {
    LayerScope s(b.name + ".attn", "GPT2Attention");
    int64_t B = x.size(0), S = x.size(1), D = E_ / H_;
    std::vector<at::Tensor> qkv = b.c_attn(x).split(E_, 2);
    auto heads = [&](const at::Tensor& t) { return t.view({B, S, H_, D}).permute({0, 2, 1, 3}); };
    at::Tensor q = heads(qkv[0]), k = heads(qkv[1]), v = heads(qkv[2]);
    at::Tensor w = at::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(D));
    at::Tensor mask = causal_.narrow(0, 0, S).narrow(1, 0, S);
    at::Tensor lowest = at::full({}, lowest_value(w.scalar_type()), w.options());
    w = at::where(mask, w, lowest);
    w = dropout(at::softmax(w, -1).to(v.scalar_type()), p_attn_);
    at::Tensor out = at::matmul(w, v).permute({0, 2, 1, 3}).contiguous().view({B, S, E_});
    return s.out(dropout(b.attn_proj(out), p_resid_));
  }

  at::Tensor block(const Block& b, at::Tensor h) const {
    LayerScope s(b.name, "GPT2Block");
    h = attention(b, b.ln_1(h)) + h;
    at::Tensor ff;
    {
      LayerScope m(b.name + ".mlp", "GPT2MLP");
      ff = m.out(dropout(b.mlp_proj(at::gelu(b.c_fc(b.ln_2(h)), "tanh")), p_resid_));
    }
    return s.out(h + ff);
  }

  int64_t E_ = 0, H_ = 0;
  double p_embd_ = 0, p_attn_ = 0, p_resid_ = 0;
  at::Tensor wte_, wpe_, head_, causal_;
  std::vector<Block> blocks_;
  LayerNorm ln_f_;
};

}  // namespace

std::unique_ptr<Runnable> build_gpt2(const ModelBuild& b, std::unique_ptr<Weights> w) {
  return std::make_unique<Gpt2>(b, std::move(w));
}

}  // namespace ptscope::torch_backend
