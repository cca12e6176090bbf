// The LLaMA family (LLaMA, Mistral, Qwen2: grouped-query attention, gated
// MLP) as Hugging Face transformers' eager implementation computes it:
// src/transformers/models/llama/modeling_llama.py, v4.39 (commit 0022728):
// LlamaRMSNorm (in float32, then the weight), LlamaRotaryEmbedding and
// apply_rotary_pos_emb (rotate_half), repeat_kv, LlamaAttention.forward
// (matmul(q, k^T) / sqrt(head_dim) + the causal mask, softmax in float32,
// matmul with v, o_proj), LlamaMLP (down(silu(gate(x)) * up(x))), the final
// norm and lm_head (the embedding's matrix when the file has no lm_head).
// The rotary tables are computed once per forward, as v4.45 does
// (LlamaModel.rotary_emb), and as an outer product by broadcasting, so they
// add no MACs; Qwen2's q/k/v biases are used when the file has them.
// Mixtral's and Qwen2-MoE's mixtures of experts replace the MLP where a
// layer's names show experts (moe_block.cc).
// config.json's rope_scaling rescales the frequencies (rotary.cc), its
// sliding_window narrows the causal mask (Mistral, Qwen2), and a --train
// step applies attention_dropout to the attention weights, as HF does.
#include "model_parts.h"
#include "moe_block.h"
#include "op_counter.h"
#include "rotary.h"

namespace ptscope::torch_backend {
namespace {


struct RmsNorm {
  std::string name;
  at::Tensor weight;
  double eps = 1e-6;
  at::Tensor operator()(const at::Tensor& x) const {
    LayerScope s(name, "LlamaRMSNorm", {weight});
    at::Tensor h = x.to(at::kFloat);
    at::Tensor variance = h.pow(2).mean(-1, true);
    h = h * at::rsqrt(variance + eps);
    return s.out(weight * h.to(x.scalar_type()));
  }
};

struct Layer {
  std::string name;
  RmsNorm input_norm, post_norm;
  Linear q, k, v, o;
  llama::LayerMlp mlp;  // dense, or a mixture of experts
};

class Llama : public BuiltRunnable {
 public:
  Llama(const ModelBuild& b, std::unique_ptr<Weights> w) : BuiltRunnable(std::move(w)), rotary_(b) {
    if (b.heads <= 0 || b.kv_heads <= 0 || b.heads % b.kv_heads || b.head_dim <= 0)
      throw BackendError("llama: the head counts are unknown (" + std::to_string(b.heads) + " heads, " +
                         std::to_string(b.kv_heads) + " kv): give the folder's config.json");
    E_ = b.hidden;
    H_ = b.heads;
    KV_ = b.kv_heads;
    D_ = b.head_dim;
    double eps = b.norm_eps > 0 ? b.norm_eps : default_norm_eps(b.family);
    int64_t Q = H_ * D_;
    embed_ = w_->param("embed_tokens.weight", {b.vocab, E_});
    for (int64_t i = 0; i < b.layers; ++i) {
      std::string n = "layers." + std::to_string(i) + ".";
      Layer l;
      l.name = "layers." + std::to_string(i);
      l.input_norm = {n + "input_layernorm", w_->param(n + "input_layernorm.weight", {E_}), eps};
      l.post_norm = {n + "post_attention_layernorm", w_->param(n + "post_attention_layernorm.weight", {E_}), eps};
      int64_t KVD = KV_ * D_;
      l.q = linear(n + "self_attn.q_proj", Q, E_);
      l.k = linear(n + "self_attn.k_proj", KVD, E_);
      l.v = linear(n + "self_attn.v_proj", KVD, E_);
      l.o = linear(n + "self_attn.o_proj", E_, Q);
      l.mlp = llama::layer_mlp(b, *w_, n);
      w_->keep_buffer(n + "self_attn.rotary_emb.inv_freq");
      layers_.push_back(std::move(l));
    }
    norm_ = {"norm", w_->param("norm.weight", {E_}), eps};
    head_ = w_->has("lm_head.weight") ? w_->param("lm_head.weight", {b.vocab, E_}) : embed_;
    // LlamaRotaryEmbedding.__init__: 1 / theta^(arange(0, dim, 2) / dim), in
    // float32, rescaled as config.json's rope_scaling says (rotary.cc).
    freqs_ = rotary_(0);
    freqs_.inv_freq = freqs_.inv_freq.to(w_->device());
    sliding_window_ = b.sliding_window;
    attention_dropout_ = b.dropout_attention;
  }

  std::vector<Argument> arguments(size_t given) const override {
    return one_argument(given, "forward(input_ids: Tensor)", {"input_ids", embed_.size(0)});
  }

  c10::IValue run(const std::vector<c10::IValue>& inputs) override {
    const at::Tensor& ids = inputs.at(0).toTensor();
    if (ids.dim() != 2) throw BackendError("input_ids must be BATCHxSEQ, e.g. --input 1x128");
    int64_t S = ids.size(1);
    at::Tensor h;
    {
      LayerScope s("embed_tokens", "Embedding", {embed_});
      h = s.out(at::embedding(embed_, ids));
    }
    at::Tensor cos, sin, mask;
    {
      LayerScope s("rotary_emb", "LlamaRotaryEmbedding");
      RotaryFrequencies f = rotary_.per_forward(S) ? rotary_(S) : freqs_;
      at::Tensor inv_freq = f.inv_freq.to(h.device());
      at::Tensor pos = at::arange(S, inv_freq.options());
      at::Tensor freqs = pos.unsqueeze(1) * inv_freq.unsqueeze(0);  // outer(positions, inv_freq)
      at::Tensor emb = at::cat({freqs, freqs}, -1);
      cos = emb.cos();
      sin = emb.sin();
      if (f.attention_factor != 1) {  // yarn's attention_scaling, in float32 as HF multiplies it
        cos = cos * f.attention_factor;
        sin = sin * f.attention_factor;
      }
      cos = cos.to(h.scalar_type());
      sin = s.out(sin.to(h.scalar_type()));
      // LlamaModel._update_causal_mask: torch.finfo(dtype).min above the diagonal.
      mask = at::full({S, S}, lowest_value(h.scalar_type()), h.options()).triu(1);
      if (sliding_window_ > 0) mask = sliding_window_mask(mask);
    }
    for (const Layer& l : layers_) h = layer(l, h, cos, sin, mask);
    h = norm_(h);
    LayerScope s("lm_head", "Linear", {head_});
    return s.out(at::linear(h, head_));
  }

 private:
  Linear linear(const std::string& name, int64_t out, int64_t in) {
    return {name, w_->param(name + ".weight", {out, in}), w_->maybe_param(name + ".bias", {out})};
  }

  static at::Tensor rotate_half(const at::Tensor& x) {
    int64_t half = x.size(-1) / 2;
    return at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  }

  // (batch, kv_heads, seq, head_dim) -> (batch, heads, seq, head_dim)
  at::Tensor repeat_kv(const at::Tensor& x) const {
    if (H_ == KV_) return x;
    int64_t B = x.size(0), S = x.size(2);
    return x.unsqueeze(2).expand({B, KV_, H_ / KV_, S, D_}).reshape({B, H_, S, D_});
  }

  at::Tensor attention(const Layer& l, const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                       const at::Tensor& mask) const {
    LayerScope s(l.name + ".self_attn", "LlamaAttention");
    int64_t B = x.size(0), S = x.size(1);
    at::Tensor q = l.q(x).view({B, S, H_, D_}).transpose(1, 2);
    at::Tensor k = l.k(x).view({B, S, KV_, D_}).transpose(1, 2);
    at::Tensor v = l.v(x).view({B, S, KV_, D_}).transpose(1, 2);
    q = q * cos + rotate_half(q) * sin;
    k = k * cos + rotate_half(k) * sin;
    k = repeat_kv(k);
    v = repeat_kv(v);
    at::Tensor w = at::matmul(q, k.transpose(2, 3)) / std::sqrt(static_cast<double>(D_));
    w = w + mask;
    w = at::softmax(w, -1, at::kFloat).to(q.scalar_type());
    // LlamaAttention: dropout(attn_weights, p=attention_dropout, training), a --train step only.
    w = dropout(w, attention_dropout_);
    at::Tensor out = at::matmul(w, v).transpose(1, 2).contiguous().reshape({B, S, H_ * D_});
    return s.out(l.o(out));
  }

  at::Tensor layer(const Layer& l, at::Tensor h, const at::Tensor& cos, const at::Tensor& sin,
                   const at::Tensor& mask) const {
    LayerScope s(l.name, "LlamaDecoderLayer");
    at::Tensor residual = h;
    h = residual + attention(l, l.input_norm(h), cos, sin, mask);
    residual = h;
    at::Tensor x = l.post_norm(h);
    return s.out(residual + l.mlp(x));
  }

  // Mistral's / Qwen2's sliding window, as transformers'
  // AttentionMaskConverter._make_causal_mask (modeling_attn_mask_utils.py, 000b2cd)
  // adds it for eager attention: tril(diagonal = -sliding_window - 1) is
  // masked too, so query i sees keys i - sliding_window .. i.
  at::Tensor sliding_window_mask(const at::Tensor& causal) const {
    at::Tensor far = at::ones(causal.sizes(), causal.options().dtype(at::kBool)).tril(-sliding_window_ - 1);
    return causal.masked_fill(far, lowest_value(causal.scalar_type()));
  }

  int64_t E_ = 0, H_ = 0, KV_ = 0, D_ = 0, sliding_window_ = 0;
  double attention_dropout_ = 0;
  Rotary rotary_;
  RotaryFrequencies freqs_;
  at::Tensor embed_, head_;
  std::vector<Layer> layers_;
  RmsNorm norm_;
};

}  // namespace

std::unique_ptr<Runnable> build_llama(const ModelBuild& b, std::unique_ptr<Weights> w) {
  return std::make_unique<Llama>(b, std::move(w));
}

}  // namespace ptscope::torch_backend
