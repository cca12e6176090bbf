// torchvision's ResNet (ResNet, ResNeXt, Wide ResNet), as
// torchvision/models/resnet.py computes it (torchvision 0.14, Debian's
// python3-torchvision): BasicBlock and Bottleneck (stride on the 3x3
// convolution, "ResNet v1.5"), downsample = 1x1 convolution + BatchNorm,
// `out += identity` then ReLU; stem conv 7x7/2 + BN + ReLU + maxpool 3x3/2;
// adaptive average pool, flatten, fc. Module names and the ops each calls
// are the scripted model's, so MACs and FLOPs count alike.
#include "model_parts.h"
#include "op_counter.h"

namespace ptscope::torch_backend {
namespace {

struct Conv {
  std::string name;
  at::Tensor weight;
  int64_t stride = 1, padding = 0, groups = 1;
  at::Tensor operator()(const at::Tensor& x) const {
    LayerScope s(name, "Conv2d", {weight});
    return s.out(at::conv2d(x, weight, {}, stride, padding, 1, groups));
  }
};

struct BatchNorm {
  std::string name;
  at::Tensor weight, bias, mean, var;
  double eps = 1e-5;
  at::Tensor operator()(const at::Tensor& x, bool training) const {
    LayerScope s(name, "BatchNorm2d", {weight, bias});
    // nn.BatchNorm2d's defaults: momentum 0.1, running statistics tracked.
    return s.out(at::batch_norm(x, weight, bias, mean, var, training, 0.1, eps, true));
  }
};

struct Block {
  std::string name;
  std::vector<Conv> convs;  // conv1, conv2[, conv3]
  std::vector<BatchNorm> bns;
  std::optional<Conv> down_conv;
  std::optional<BatchNorm> down_bn;
};

class ResNet : public BuiltRunnable {
 public:
  ResNet(const ModelBuild& b, std::unique_ptr<Weights> w) : BuiltRunnable(std::move(w)) {
    eps_ = b.norm_eps > 0 ? b.norm_eps : default_norm_eps(b.family);
    int64_t k = b.stem_kernel, inplanes = b.hidden;
    stem_ = conv("conv1", b.hidden, b.channels, k, 2, k / 2, 1);
    stem_bn_ = bn("bn1", b.hidden);
    int64_t expansion = b.bottleneck ? 4 : 1;
    for (size_t s = 0; s < b.stages.size(); ++s) {
      int64_t planes = int64_t{64} << s;
      for (int64_t i = 0; i < b.stages[s]; ++i) {
        Block blk;
        blk.name = "layer" + std::to_string(s + 1) + "." + std::to_string(i);
        int64_t stride = s > 0 && i == 0 ? 2 : 1;
        const std::string n = blk.name + ".";
        if (b.bottleneck) {
          int64_t width = planes * b.width_per_group / 64 * b.groups;
          blk.convs = {conv(n + "conv1", width, inplanes, 1, 1, 0, 1),
                       conv(n + "conv2", width, width / b.groups, 3, stride, 1, b.groups),
                       conv(n + "conv3", planes * expansion, width, 1, 1, 0, 1)};
          blk.bns = {bn(n + "bn1", width), bn(n + "bn2", width), bn(n + "bn3", planes * expansion)};
        } else {
          blk.convs = {conv(n + "conv1", planes, inplanes, 3, stride, 1, 1), conv(n + "conv2", planes, planes, 3, 1, 1, 1)};
          blk.bns = {bn(n + "bn1", planes), bn(n + "bn2", planes)};
        }
        if (w_->has(n + "downsample.0.weight")) {
          blk.down_conv = conv(n + "downsample.0", planes * expansion, inplanes, 1, stride, 0, 1);
          blk.down_bn = bn(n + "downsample.1", planes * expansion);
        }
        inplanes = planes * expansion;
        stages_.resize(s + 1);
        stages_[s].push_back(std::move(blk));
      }
    }
    fc_weight_ = w_->param("fc.weight", {b.classes, inplanes});
    fc_bias_ = w_->param("fc.bias", {b.classes});
    type_ = b.bottleneck ? "Bottleneck" : "BasicBlock";
  }

  std::vector<Argument> arguments(size_t given) const override {
    return one_argument(given, "forward(x: Tensor)", {"x", 0});
  }

  c10::IValue run(const std::vector<c10::IValue>& inputs) override {
    at::Tensor x = inputs.at(0).toTensor();
    x = stem_(x);
    x = stem_bn_(x, training_);
    {
      LayerScope s("relu", "ReLU");
      x = s.out(at::relu_(x));
    }
    {
      LayerScope s("maxpool", "MaxPool2d");
      x = s.out(at::max_pool2d(x, {3, 3}, {2, 2}, {1, 1}));
    }
    for (size_t i = 0; i < stages_.size(); ++i) {
      LayerScope s("layer" + std::to_string(i + 1), "Sequential");
      for (const Block& blk : stages_[i]) x = block(blk, x);
      s.out(x);
    }
    {
      LayerScope s("avgpool", "AdaptiveAvgPool2d");
      x = s.out(at::adaptive_avg_pool2d(x, {1, 1}));
    }
    x = at::flatten(x, 1);
    LayerScope s("fc", "Linear", {fc_weight_, fc_bias_});
    return s.out(at::linear(x, fc_weight_, fc_bias_));
  }

 private:
  Conv conv(const std::string& name, int64_t out, int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t groups) {
    return {name, w_->param(name + ".weight", {out, in, k, k}), stride, pad, groups};
  }
  BatchNorm bn(const std::string& name, int64_t c) {
    w_->keep_buffer(name + ".num_batches_tracked");
    return {name, w_->param(name + ".weight", {c}), w_->param(name + ".bias", {c}),
            w_->buffer(name + ".running_mean", {c}), w_->buffer(name + ".running_var", {c}), eps_};
  }

  at::Tensor block(const Block& b, const at::Tensor& x) {
    LayerScope s(b.name, type_);
    at::Tensor out = x;
    for (size_t i = 0; i < b.convs.size(); ++i) {
      out = b.bns[i](b.convs[i](out), training_);
      if (i + 1 < b.convs.size()) out = at::relu_(out);
    }
    at::Tensor identity = x;
    if (b.down_conv) {
      LayerScope d(b.name + ".downsample", "Sequential");
      identity = d.out((*b.down_bn)((*b.down_conv)(x), training_));
    }
    out.add_(identity);
    return s.out(at::relu_(out));
  }

  double eps_ = 1e-5;
  Conv stem_;
  BatchNorm stem_bn_;
  std::vector<std::vector<Block>> stages_;
  at::Tensor fc_weight_, fc_bias_;
  const char* type_ = "";
};

}  // namespace

std::unique_ptr<Runnable> build_resnet(const ModelBuild& b, std::unique_ptr<Weights> w) {
  return std::make_unique<ResNet>(b, std::move(w));
}

}  // namespace ptscope::torch_backend
