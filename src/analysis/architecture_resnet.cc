// torchvision's ResNet family, rebuilt layer by layer from the few sizes the
// checkpoint fixes: stem conv (7x7, stride 2) and 3x3 max-pool (stride 2),
// four stages of 64/128/256/512 planes whose first block strides by 2 (but
// the first stage's), bottleneck blocks 1x1 -> 3x3 (grouped, strided) -> 1x1
// with expansion 4, or basic blocks 3x3 -> 3x3; a 1x1 strided downsample
// where the shape changes, run after the main path; global average pool and
// one fully connected layer.
#include "ptscope/architecture.h"

#include <algorithm>

namespace ptscope {
namespace {

int64_t out_size(int64_t in, int64_t kernel, int64_t stride) {
  int64_t pad = kernel / 2;
  int64_t span = in + 2 * pad - kernel;
  return span < 0 ? 0 : span / stride + 1;
}

}  // namespace

std::vector<ConvLayer> resnet_layers(const Architecture& a, int64_t image) {
  std::vector<ConvLayer> layers;
  int64_t size = image;
  int64_t kept = 0;
  auto conv = [&](int64_t in, int64_t out, int64_t k, int64_t stride, int64_t groups) {
    layers.push_back({in, out, k, stride, groups, size, out_size(size, k, stride), kept});
    return layers.back().out_size;
  };
  size = conv(a.channels, a.width, a.stem_kernel, 2, 1);
  size = out_size(size, 3, 2);  // max-pool
  int64_t inplanes = a.width, expansion = a.bottleneck ? 4 : 1;
  for (size_t stage = 0; stage < a.stages.size(); ++stage) {
    int64_t planes = int64_t{64} << stage;
    for (int64_t block = 0; block < a.stages[stage]; ++block) {
      // In forward order: the block's convolutions keep its input x for the
      // residual; the downsample runs last, beside the main path's output.
      int64_t stride = stage > 0 && block == 0 ? 2 : 1, x_size = size, x = inplanes * size * size;
      kept = 0;
      if (a.bottleneck) {
        int64_t width = planes * a.width_per_group / 64 * a.groups;
        size = conv(inplanes, width, 1, 1, 1);
        kept = x;
        size = conv(width, width, 3, stride, a.groups);
        size = conv(width, planes * expansion, 1, 1, 1);
      } else {
        size = conv(inplanes, planes, 3, stride, 1);
        kept = x;
        size = conv(planes, planes, 3, 1, 1);
      }
      if (stride != 1 || inplanes != planes * expansion) {
        int64_t main_size = size;
        kept = planes * expansion * main_size * main_size;
        size = x_size;
        conv(inplanes, planes * expansion, 1, stride, 1);
        size = main_size;
      }
      kept = 0;
      inplanes = planes * expansion;
    }
  }
  // The classifier, as a 1x1 "convolution" over the pooled features.
  layers.push_back({inplanes, a.classes, 1, 1, 1, 1, 1, 0});
  return layers;
}

uint64_t resnet_parameters(const Architecture& a) {
  std::vector<ConvLayer> layers = resnet_layers(a, 224);
  uint64_t total = 0;
  for (size_t i = 0; i + 1 < layers.size(); ++i) {
    const ConvLayer& l = layers[i];
    total += static_cast<uint64_t>(l.kernel * l.kernel * (l.in_channels / std::max<int64_t>(l.groups, 1)) * l.out_channels) +
             2 * static_cast<uint64_t>(l.out_channels);  // BatchNorm weight and bias
  }
  const ConvLayer& fc = layers.back();
  return total + static_cast<uint64_t>(fc.in_channels * fc.out_channels + fc.out_channels);
}

}  // namespace ptscope
