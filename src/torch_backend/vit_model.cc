// torchvision's VisionTransformer (vit_b_16 and its kin), as
// torchvision/models/vision_transformer.py computes it (torchvision 0.14,
// Debian's python3-torchvision): conv_proj patches, flattened and permuted
// to tokens; the class token prepended; + pos_embedding; EncoderBlocks
// (ln_1, self-attention, + input; ln_2, MLPBlock Linear-GELU-Linear, + x);
// encoder.ln; the class token's features through heads (head, or
// pre_logits-tanh-head). LayerNorm eps 1e-6 as torchvision's norm_layer.
// Self-attention is nn.MultiheadAttention's slow path as torch 1.13's
// F.multi_head_attention_forward computes it (packed in-projection, q /
// sqrt(head_dim), bmm, softmax, bmm, out_proj), the path training takes;
// the scripted model in eval takes _native_multi_head_attention, whose MACs
// are the same sum.
#include "model_parts.h"
#include "op_counter.h"

namespace ptscope::torch_backend {
namespace {

struct Block {
  std::string name;
  LayerNorm ln_1, ln_2;
  at::Tensor in_proj_weight, in_proj_bias;
  Linear out_proj, fc1, fc2;
  std::string mlp_name;
};

class Vit : public BuiltRunnable {
 public:
  Vit(const ModelBuild& b, std::unique_ptr<Weights> w) : BuiltRunnable(std::move(w)) {
    if (b.heads <= 0 || b.hidden % b.heads) throw BackendError("vit: the head count is unknown");
    E_ = b.hidden;
    H_ = b.heads;
    P_ = b.patch;
    T_ = b.positions;
    double eps = b.norm_eps > 0 ? b.norm_eps : default_norm_eps(b.family);
    conv_w_ = w_->param("conv_proj.weight", {E_, b.channels, P_, P_});
    conv_b_ = w_->param("conv_proj.bias", {E_});
    class_token_ = w_->param("class_token", {1, 1, E_});
    pos_ = w_->param("encoder.pos_embedding", {1, T_, E_});
    for (int64_t i = 0; i < b.layers; ++i) {
      std::string n = "encoder.layers.encoder_layer_" + std::to_string(i);
      Block blk;
      blk.name = n;
      blk.ln_1 = norm(n + ".ln_1", eps);
      blk.ln_2 = norm(n + ".ln_2", eps);
      blk.in_proj_weight = w_->param(n + ".self_attention.in_proj_weight", {3 * E_, E_});
      blk.in_proj_bias = w_->param(n + ".self_attention.in_proj_bias", {3 * E_});
      blk.out_proj = linear(n + ".self_attention.out_proj", E_, E_);
      // MLPBlock's linears are mlp.0 / mlp.3 (mlp.linear_1 / linear_2 before torchvision 0.13).
      bool old = w_->has(n + ".mlp.linear_1.weight");
      blk.fc1 = linear(n + (old ? ".mlp.linear_1" : ".mlp.0"), b.ffn, E_);
      blk.fc2 = linear(n + (old ? ".mlp.linear_2" : ".mlp.3"), E_, b.ffn);
      blk.mlp_name = n + ".mlp";
      blocks_.push_back(std::move(blk));
    }
    ln_ = norm("encoder.ln", eps);
    if (w_->has("heads.pre_logits.weight")) {
      int64_t r = b.tensors.empty() ? 0 : representation(b);
      pre_logits_ = linear("heads.pre_logits", r, E_);
      head_ = linear("heads.head", b.classes, r);
    } else {
      head_ = linear("heads.head", b.classes, E_);
    }
  }

  std::vector<Argument> arguments(size_t given) const override {
    return one_argument(given, "forward(x: Tensor)", {"x", 0});
  }

  c10::IValue run(const std::vector<c10::IValue>& inputs) override {
    at::Tensor x = inputs.at(0).toTensor();
    if (x.dim() != 4 || x.size(2) / P_ * (x.size(3) / P_) + 1 != T_)
      throw BackendError("vit: the image must be Nx" + std::to_string(conv_w_.size(1)) + "xHxW with " +
                         std::to_string(T_ - 1) + " patches of " + std::to_string(P_) + "x" + std::to_string(P_));
    int64_t n = x.size(0);
    {
      LayerScope s("conv_proj", "Conv2d", {conv_w_, conv_b_});
      x = s.out(at::conv2d(x, conv_w_, conv_b_, P_));
    }
    x = x.reshape({n, E_, -1}).permute({0, 2, 1});
    // class_token is VisionTransformer's own parameter: outside any module row.
    x = at::cat({class_token_.expand({n, -1, -1}), x}, 1);
    {
      LayerScope s("encoder", "Encoder", {pos_});
      x = x + pos_;
      {
        LayerScope l("encoder.layers", "Sequential");
        for (const Block& b : blocks_) x = block(b, x);
        l.out(x);
      }
      x = s.out(ln_(x));
    }
    x = x.select(1, 0);
    LayerScope s("heads", "Sequential");
    if (pre_logits_.weight.defined()) x = at::tanh(pre_logits_(x));
    return s.out(head_(x));
  }

 private:
  static int64_t representation(const ModelBuild& b) {
    for (const ModelTensor& t : b.tensors)
      if (t.name == "heads.pre_logits.weight" && !t.shape.empty()) return t.shape[0];
    return 0;
  }
  Linear linear(const std::string& name, int64_t out, int64_t in) {
    return {name, w_->param(name + ".weight", {out, in}), w_->param(name + ".bias", {out})};
  }
  LayerNorm norm(const std::string& name, double eps) {
    return {name, w_->param(name + ".weight", {E_}), w_->param(name + ".bias", {E_}), eps};
  }

  at::Tensor attention(const Block& b, const at::Tensor& x) const {
    LayerScope s(b.name + ".self_attention", "MultiheadAttention", {b.in_proj_weight, b.in_proj_bias});
    int64_t B = x.size(0), T = x.size(1), D = E_ / H_;
    std::vector<at::Tensor> qkv = at::linear(x, b.in_proj_weight, b.in_proj_bias).chunk(3, -1);
    auto heads = [&](const at::Tensor& t) {
      return t.contiguous().view({B, T, H_, D}).transpose(1, 2).reshape({B * H_, T, D});
    };
    at::Tensor q = heads(qkv[0]) / std::sqrt(static_cast<double>(D));
    at::Tensor w = at::softmax(at::bmm(q, heads(qkv[1]).transpose(-2, -1)), -1);
    at::Tensor out = at::bmm(w, heads(qkv[2])).view({B, H_, T, D}).transpose(1, 2).reshape({B, T, E_});
    return s.out(b.out_proj(out));
  }

  at::Tensor block(const Block& b, const at::Tensor& input) const {
    LayerScope s(b.name, "EncoderBlock");
    at::Tensor x = attention(b, b.ln_1(input)) + input;
    at::Tensor y;
    {
      LayerScope m(b.mlp_name, "MLPBlock");
      y = m.out(b.fc2(at::gelu(b.fc1(b.ln_2(x)))));
    }
    return s.out(x + y);
  }

  int64_t E_ = 0, H_ = 0, P_ = 0, T_ = 0;
  at::Tensor conv_w_, conv_b_, class_token_, pos_;
  std::vector<Block> blocks_;
  LayerNorm ln_;
  Linear pre_logits_, head_;
};

}  // namespace

std::unique_ptr<Runnable> build_vit(const ModelBuild& b, std::unique_ptr<Weights> w) {
  return std::make_unique<Vit>(b, std::move(w));
}

}  // namespace ptscope::torch_backend
