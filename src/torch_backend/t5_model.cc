// T5 (T5, T5 v1.1 / Flan-T5, and T5EncoderModel) as Hugging Face
// transformers' eager implementation computes it in eval:
// src/transformers/models/t5/modeling_t5.py, v4.39 (commit 0022728):
// T5LayerNorm (root mean square in float32, no mean, no bias, then the
// weight, cast back to it when it is half); T5Attention (q, k, v, o without
// bias; matmul(q, k^T) with NO 1/sqrt(d) scaling, plus the position bias;
// softmax in float32; matmul with v); compute_bias and
// _relative_position_bucket (bidirectional in the encoder, unidirectional in
// the decoder), from block 0's relative_attention_bias, reused by the later
// blocks of its stack; the decoder's causal mask added to that bias
// (finfo.min above the diagonal); T5LayerFF with T5DenseActDense (wi, act,
// wo) or T5DenseGatedActDense (act(wi_0) * wi_1, wo); T5Block (pre-norm
// residuals, the float16 clamp); T5Stack (embed_tokens = shared,
// final_layer_norm); T5ForConditionalGeneration (the decoder's output times
// d_model^-0.5 when the head is tied to `shared`, then lm_head).
// profile gives no attention_mask: HF's default is all ones, whose extended
// mask is zeros, so the encoder's and the cross-attention's zero additions
// are left out (cross-attention has no relative bias: HF adds zeros).
// Dropout (dropout_rate, a --train step only): T5Stack's on the embeddings
// and after final_layer_norm, T5Attention's on the softmax weights,
// T5LayerSelfAttention's / T5LayerCrossAttention's / T5LayerFF's on the
// residual branch, T5DenseActDense's / T5DenseGatedActDense's before wo.
//
// Inputs: input_ids, and decoder_input_ids when a second --input is given;
// with one, the decoder reads the encoder's ids (the same shape for both).
#include <cmath>
#include <limits>
#include <optional>

#include "model_parts.h"
#include "op_counter.h"

namespace ptscope::torch_backend {
namespace {

// ACT2FN[config.dense_act_fn]; gelu_new (NewGELUActivation) is the tanh
// form, one op here for HF's eight elementwise ones. Null: not one of these.
using Activation = at::Tensor (*)(const at::Tensor&);
Activation activation_named(const std::string& name) {
  if (name == "relu") return [](const at::Tensor& x) { return at::relu(x); };
  if (name == "gelu") return [](const at::Tensor& x) { return at::gelu(x); };
  if (name == "gelu_new") return [](const at::Tensor& x) { return at::gelu(x, "tanh"); };
  if (name == "silu") return [](const at::Tensor& x) { return at::silu(x); };
  return nullptr;
}

struct T5LayerNorm {
  std::string name;
  at::Tensor weight;
  double eps = 1e-6;
  at::Tensor operator()(const at::Tensor& x) const {
    LayerScope s(name, "T5LayerNorm", {weight});
    at::Tensor variance = x.to(at::kFloat).pow(2).mean(-1, true);
    at::Tensor h = x * at::rsqrt(variance + eps);
    if (weight.scalar_type() == at::kHalf || weight.scalar_type() == at::kBFloat16) h = h.to(weight.scalar_type());
    return s.out(weight * h);
  }
};

struct Attention {
  std::string name;
  Linear q, k, v, o;
  at::Tensor relative_bias;  // [buckets, heads]: block 0's self-attention only
};

struct Block {
  std::string name;
  T5LayerNorm self_norm, cross_norm, ff_norm;
  Attention self, cross;  // cross: the decoder's EncDecAttention
  Linear wi, wi_0, wi_1, wo;  // wi (T5DenseActDense) or wi_0, wi_1 (gated)
};

struct Stack {
  std::string name;  // "encoder", "decoder"
  bool decoder = false;
  std::vector<Block> blocks;
  T5LayerNorm final_norm;
};

// _relative_position_bucket: exact buckets for small distances, then
// logarithmic ones up to max_distance; the encoder's split in half by sign.
at::Tensor relative_position_bucket(at::Tensor relative, bool bidirectional, int64_t buckets, int64_t max_distance) {
  at::Tensor out = at::zeros_like(relative);
  if (bidirectional) {
    buckets /= 2;
    out = out + (relative > 0).to(at::kLong) * buckets;
    relative = relative.abs();
  } else {
    relative = -at::min(relative, at::zeros_like(relative));
  }
  int64_t max_exact = buckets / 2;
  at::Tensor small = relative < max_exact;
  at::Tensor large =
      max_exact + (at::log(relative.to(at::kFloat) / static_cast<double>(max_exact)) /
                   std::log(static_cast<double>(max_distance) / static_cast<double>(max_exact)) *
                   static_cast<double>(buckets - max_exact))
                      .to(at::kLong);
  large = at::min(large, at::full_like(large, buckets - 1));
  return out + at::where(small, relative, large);
}

// Whether two names of the build are views of the same bytes (torch.save's
// tied weights): then fetching the second adds no parameter.
bool same_bytes(const ModelBuild& b, const std::string& a, const std::string& c) {
  const ModelTensor *x = nullptr, *y = nullptr;
  for (const ModelTensor& t : b.tensors) {
    if (t.name == a) x = &t;
    if (t.name == c) y = &t;
  }
  return x && y && x->file == y->file && x->file_offset == y->file_offset &&
         x->storage_offset == y->storage_offset && x->shape == y->shape && x->stride == y->stride &&
         x->dtype == y->dtype;
}

class T5 : public BuiltRunnable {
 public:
  T5(const ModelBuild& b, std::unique_ptr<Weights> w) : BuiltRunnable(std::move(w)) {
    if (b.heads <= 0 || b.head_dim <= 0 || b.relative_buckets <= 0)
      throw BackendError("t5: the head count is unknown: the file has no encoder.block.0.layer.0.SelfAttention."
                         "relative_attention_bias.weight");
    act_ = activation_named(b.activation);
    if (!act_)
      throw BackendError("t5: feed_forward_proj's activation '" + b.activation +
                         "' is not one the plugin builds (relu, gelu, gelu_new, silu)");
    E_ = b.hidden;
    H_ = b.heads;
    D_ = b.head_dim;
    buckets_ = b.relative_buckets;
    max_distance_ = b.relative_max_distance;
    p_ = b.dropout_hidden;
    gated_ = b.gated_mlp;
    eps_ = b.norm_eps > 0 ? b.norm_eps : default_norm_eps(b.family);
    shared_ = w_->param("shared.weight", {b.vocab, E_});
    // T5 ties the stacks' embed_tokens (and a tied lm_head) to `shared`: the
    // file's names for it are taken when they are its bytes; a copy of other
    // bytes is left unused (and said so), as HF's tie_weights replaces it.
    for (const char* name : {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight"})
      if ((b.head_tied || std::string(name) != "lm_head.weight") && same_bytes(b, "shared.weight", name))
        w_->param(name, {b.vocab, E_});
    encoder_ = stack("encoder", b.layers, b.ffn, false);
    if (b.decoder_layers > 0) {
      decoder_ = stack("decoder", b.decoder_layers, b.ffn, true);
      tied_ = b.head_tied;
      head_ = tied_ ? shared_ : w_->param("lm_head.weight", {b.vocab, E_});
    }
  }

  std::vector<Argument> arguments(size_t given) const override {
    Argument ids{"input_ids", shared_.size(0)};
    if (!decoder_) return one_argument(given, "forward(input_ids: Tensor)", ids);
    if (given != 1 && given != 2)
      throw BackendError("the model's forward(input_ids: Tensor, decoder_input_ids: Tensor) takes 1 or 2 inputs, but " +
                         std::to_string(given) + " --input given");
    if (given == 1) return {ids};
    return {ids, {"decoder_input_ids", shared_.size(0)}};
  }

  c10::IValue run(const std::vector<c10::IValue>& inputs) override {
    const at::Tensor& ids = inputs.at(0).toTensor();
    const at::Tensor& dec = inputs.size() > 1 ? inputs[1].toTensor() : ids;
    if (ids.dim() != 2 || dec.dim() != 2) throw BackendError("t5's token ids must be BATCHxSEQ, e.g. --input 1x128");
    if (dec.size(0) != ids.size(0))
      throw BackendError("t5's input_ids and decoder_input_ids differ in batch size (" + std::to_string(ids.size(0)) +
                         ", " + std::to_string(dec.size(0)) + ")");
    at::Tensor h = run_stack(encoder_, ids, at::Tensor());
    if (!decoder_) return h;
    h = run_stack(*decoder_, dec, h);
    if (tied_) h = h * std::pow(static_cast<double>(E_), -0.5);  // T5ForConditionalGeneration's own op
    LayerScope s("lm_head", "Linear", {head_});
    return s.out(at::linear(h, head_));
  }

 private:
  Linear linear(const std::string& name, int64_t out, int64_t in) {
    return {name, w_->param(name + ".weight", {out, in})};
  }
  T5LayerNorm norm(const std::string& name) { return {name, w_->param(name + ".weight", {E_}), eps_}; }
  Attention attention(const std::string& name, bool relative) {
    int64_t I = H_ * D_;
    Attention a{name, linear(name + ".q", I, E_), linear(name + ".k", I, E_), linear(name + ".v", I, E_),
                linear(name + ".o", E_, I), at::Tensor()};
    if (relative) a.relative_bias = w_->param(name + ".relative_attention_bias.weight", {buckets_, H_});
    return a;
  }

  Stack stack(const std::string& name, int64_t layers, int64_t ffn, bool decoder) {
    Stack st;
    st.name = name;
    st.decoder = decoder;
    for (int64_t i = 0; i < layers; ++i) {
      std::string n = name + ".block." + std::to_string(i) + ".";
      // UMT5 gives every block a table of its own: another forward.
      if (i > 0 && w_->has(n + "layer.0.SelfAttention.relative_attention_bias.weight"))
        throw BackendError("t5: " + n + "layer.0.SelfAttention has a relative_attention_bias of its own (UMT5), "
                           "which the plugin does not build yet");
      Block blk;
      blk.name = name + ".block." + std::to_string(i);
      blk.self_norm = norm(n + "layer.0.layer_norm");
      blk.self = attention(n + "layer.0.SelfAttention", i == 0);
      std::string ff = n + (decoder ? "layer.2." : "layer.1.");
      if (decoder) {
        blk.cross_norm = norm(n + "layer.1.layer_norm");
        blk.cross = attention(n + "layer.1.EncDecAttention", false);
      }
      blk.ff_norm = norm(ff + "layer_norm");
      if (gated_) {
        blk.wi_0 = linear(ff + "DenseReluDense.wi_0", ffn, E_);
        blk.wi_1 = linear(ff + "DenseReluDense.wi_1", ffn, E_);
      } else {
        blk.wi = linear(ff + "DenseReluDense.wi", ffn, E_);
      }
      blk.wo = linear(ff + "DenseReluDense.wo", E_, ffn);
      st.blocks.push_back(std::move(blk));
    }
    st.final_norm = norm(name + ".final_layer_norm");
    return st;
  }

  // T5Attention.compute_bias: [1, heads, query, key].
  at::Tensor compute_bias(const Attention& a, int64_t query, int64_t key, bool bidirectional) const {
    LayerScope s(a.name + ".relative_attention_bias", "Embedding", {a.relative_bias});
    auto options = at::TensorOptions().dtype(at::kLong).device(a.relative_bias.device());
    at::Tensor relative = at::arange(key, options).unsqueeze(0) - at::arange(query, options).unsqueeze(1);
    at::Tensor bucket = relative_position_bucket(relative, bidirectional, buckets_, max_distance_);
    return s.out(at::embedding(a.relative_bias, bucket).permute({2, 0, 1}).unsqueeze(0));
  }

  // T5Attention.forward. `bias`: the stack's position bias (with the causal
  // mask in the decoder), computed here by the block that owns the table.
  at::Tensor attend(const Attention& a, const at::Tensor& x, const at::Tensor& kv, at::Tensor& bias,
                    bool decoder) const {
    LayerScope s(a.name, "T5Attention");
    int64_t B = x.size(0), Sq = x.size(1), Sk = kv.size(1);
    auto shape = [&](const at::Tensor& t) { return t.view({B, -1, H_, D_}).transpose(1, 2); };
    at::Tensor q = shape(a.q(x)), k = shape(a.k(kv)), v = shape(a.v(kv));
    at::Tensor scores = at::matmul(q, k.transpose(3, 2));
    if (a.relative_bias.defined() && !bias.defined()) {
      bias = compute_bias(a, Sq, Sk, !decoder);
      // T5Stack's extended causal mask, (1 - tril) * finfo.min, added to the bias.
      if (decoder) bias = bias + at::full({Sq, Sk}, lowest_value(bias.scalar_type()), bias.options()).triu(1);
    }
    if (bias.defined()) scores = scores + bias;
    at::Tensor weights = dropout(at::softmax(scores.to(at::kFloat), -1).to(scores.scalar_type()), p_);
    at::Tensor out = at::matmul(weights, v).transpose(1, 2).contiguous().view({B, -1, H_ * D_});
    return s.out(a.o(out));
  }

  // T5Block: float16 activations are clamped short of infinity after each layer.
  static at::Tensor clamp_half(const at::Tensor& h) {
    if (h.scalar_type() != at::kHalf) return h;
    double max = static_cast<double>(std::numeric_limits<c10::Half>::max());
    at::Tensor limit = at::where(at::isinf(h).any(), at::scalar_tensor(max - 1000, h.options()),
                                 at::scalar_tensor(max, h.options()));
    return at::clamp(h, -limit, limit);
  }

  at::Tensor feed_forward(const Block& b, const std::string& name, const at::Tensor& h) const {
    LayerScope s(name, "T5LayerFF");
    at::Tensor x = b.ff_norm(h), y;
    {
      LayerScope d(name + ".DenseReluDense", gated_ ? "T5DenseGatedActDense" : "T5DenseActDense");
      y = dropout(gated_ ? act_(b.wi_0(x)) * b.wi_1(x) : act_(b.wi(x)), p_);
      if (y.scalar_type() != b.wo.weight.scalar_type()) y = y.to(b.wo.weight.scalar_type());
      y = d.out(b.wo(y));
    }
    return s.out(h + dropout(y, p_));
  }

  at::Tensor block(const Stack& st, const Block& b, at::Tensor h, const at::Tensor& encoded, at::Tensor& bias,
                   at::Tensor& cross_bias) const {
    LayerScope s(b.name, "T5Block");
    {
      LayerScope l(b.name + ".layer.0", "T5LayerSelfAttention");
      at::Tensor x = b.self_norm(h);
      h = clamp_half(l.out(h + dropout(attend(b.self, x, x, bias, st.decoder), p_)));
    }
    if (st.decoder) {
      LayerScope l(b.name + ".layer.1", "T5LayerCrossAttention");
      h = clamp_half(l.out(h + dropout(attend(b.cross, b.cross_norm(h), encoded, cross_bias, true), p_)));
    }
    h = clamp_half(feed_forward(b, b.name + (st.decoder ? ".layer.2" : ".layer.1"), h));
    return s.out(h);
  }

  at::Tensor run_stack(const Stack& st, const at::Tensor& ids, const at::Tensor& encoded) const {
    LayerScope s(st.name, "T5Stack");
    at::Tensor h;
    {
      LayerScope e(st.name + ".embed_tokens", "Embedding", {shared_});
      h = e.out(at::embedding(shared_, ids));
    }
    h = dropout(h, p_);
    at::Tensor bias, cross_bias;  // block 0's, reused by the later blocks
    for (const Block& b : st.blocks) h = block(st, b, h, encoded, bias, cross_bias);
    return s.out(dropout(st.final_norm(h), p_));
  }

  int64_t E_ = 0, H_ = 0, D_ = 0, buckets_ = 0, max_distance_ = 128;
  bool gated_ = false, tied_ = false;
  Activation act_ = nullptr;
  double eps_ = 1e-6, p_ = 0;
  at::Tensor shared_, head_;
  Stack encoder_;
  std::optional<Stack> decoder_;
};

}  // namespace

std::unique_ptr<Runnable> build_t5(const ModelBuild& b, std::unique_ptr<Weights> w) {
  return std::make_unique<T5>(b, std::move(w));
}

}  // namespace ptscope::torch_backend
