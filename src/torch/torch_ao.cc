#include "torch_ao.h"

#include <map>

namespace ptscope {
namespace {

bool is_qint(DType d) {
  return d == DType::QInt8 || d == DType::QUInt8 || d == DType::QInt32 ||
         d == DType::QUInt4x2 || d == DType::QUInt2x4;
}

bool model_side(const Tensor& t) { return t.role != Role::Optimizer && t.role != Role::Other; }

bool ends_with(const std::string& s, const std::string& t) {
  return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

std::string leaf(const std::string& name) {
  size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

const char* kPacked = "._packed_params._packed_params.";

LogicalTensor logical_of(const Tensor& stored, const std::string& name, std::string scheme,
                         double bits) {
  LogicalTensor l;
  l.tensor.name = name;
  l.tensor.group = stored.group;
  l.tensor.dtype = DType::Float32;  // what torch.ao dequantizes to
  l.tensor.shape = stored.shape;
  l.tensor.stride = stored.stride;
  l.tensor.numel = stored.numel;
  l.tensor.role = Role::Parameter;
  l.tensor.rule = "torch.ao quantized weight";
  l.tensor.pickle_offset = stored.pickle_offset;
  l.scheme = std::move(scheme);
  l.bits = bits;
  return l;
}

}  // namespace

void group_torch_ao(Checkpoint& c) {
  std::map<std::string, int> by_name;
  bool any = false;
  for (size_t i = 0; i < c.tensors.size(); ++i) {
    const Tensor& t = c.tensors[i];
    by_name.emplace(t.group + '\n' + t.name, static_cast<int>(i));
    any = any || (is_qint(t.dtype) && model_side(t));
  }
  if (!any) return;
  auto find = [&](const Tensor& like, const std::string& name) {
    auto it = by_name.find(like.group + '\n' + name);
    return it == by_name.end() ? -1 : it->second;
  };

  size_t n = c.tensors.size();
  for (size_t i = 0; i < n; ++i) {
    Tensor& q = c.tensors[i];
    if (!is_qint(q.dtype) || !model_side(q) || q.role == Role::QuantMeta) continue;
    std::string name = q.name;
    std::string prefix;
    std::string packed0 = std::string(kPacked) + "0";
    if (ends_with(name, packed0)) {
      prefix = name.substr(0, name.size() - packed0.size());
      name = prefix + ".weight";
    }
    std::vector<int> stored{static_cast<int>(i)};
    bool per_channel = false;
    for (const char* meta : {"q_per_channel_scales", "q_per_channel_zero_points"}) {
      int m = find(q, q.name + "." + meta);
      if (m < 0) continue;
      per_channel = true;
      stored.push_back(m);
    }
    LogicalTensor l = logical_of(q, name,
                                 std::string("torch.ao ") + dtype_name(q.dtype) +
                                     (per_channel ? " per-channel" : " per-tensor"),
                                 8.0 * static_cast<double>(dtype_size(q.dtype)));
    for (int s : stored) l.stored_bytes += c.tensors[static_cast<size_t>(s)].nbytes();
    l.stored = stored;
    q.role = Role::Quantized;
    q.rule = "torch.ao qtensor: counted as its logical weight";
    c.logical.push_back(std::move(l));

    if (prefix.empty()) continue;
    int b = find(c.tensors[i], prefix + kPacked + "1");
    if (b < 0) continue;
    Tensor& bias = c.tensors[static_cast<size_t>(b)];
    if (!dtype_is_floating(bias.dtype)) continue;
    LogicalTensor lb = logical_of(bias, prefix + ".bias", "torch.ao packed bias",
                                  8.0 * static_cast<double>(dtype_size(bias.dtype)));
    lb.tensor.dtype = bias.dtype;
    lb.tensor.rule = "torch.ao packed bias";
    lb.stored = {b};
    lb.stored_bytes = bias.nbytes();
    bias.role = Role::Quantized;
    bias.rule = "torch.ao packed params: counted as its logical bias";
    c.logical.push_back(std::move(lb));
  }

  for (Tensor& t : c.tensors) {
    if (!model_side(t) || t.numel != 1 || is_qint(t.dtype)) continue;
    // A Parameter here is one the file declared (a learnable scale): kept.
    if (t.role == Role::Quantized || t.role == Role::QuantMeta || t.role == Role::Parameter)
      continue;
    std::string l = leaf(t.name);
    if (l != "scale" && l != "zero_point") continue;
    t.role = Role::QuantMeta;
    t.rule = "torch.ao output scale/zero_point";
  }
}

}  // namespace ptscope
