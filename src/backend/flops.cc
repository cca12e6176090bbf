#include "flops.h"

#include <cctype>
#include <map>
#include <set>

namespace ptscope {
namespace {

using Args = std::vector<OpArg>;

const OpArg* tensor(const Args& a, size_t i) {
  return i < a.size() && a[i].kind == OpArg::Kind::Tensor ? &a[i] : nullptr;
}
bool flag(const Args& a, size_t i) {
  return i < a.size() && (a[i].kind == OpArg::Kind::Bool || a[i].kind == OpArg::Kind::Int) && a[i].i;
}
uint64_t prod(const std::vector<int64_t>& v, size_t from = 0) {
  uint64_t p = 1;
  for (size_t i = from; i < v.size(); ++i) p *= static_cast<uint64_t>(v[i] < 0 ? 0 : v[i]);
  return p;
}
uint64_t out_numel(const Args& out) {
  const OpArg* o = tensor(out, 0);
  return o ? o->numel() : 0;
}
OpCost macs(uint64_t m) { return {m, 2 * m, true}; }
OpCost flops(uint64_t f) { return {0, f, true}; }

// Weight (Cout, Cin/groups, k...): each output element takes Cin/groups x k
// MACs. Transposed weight (Cin, Cout/groups, k...): each input element
// feeds Cout/groups x k of them.
OpCost convolution(const std::string& op, const Args& in, const Args& out) {
  const OpArg* x = tensor(in, 0);
  const OpArg* w = tensor(in, 1);
  if (!x || !w || w->shape.size() < 2) return {};
  bool transposed = op.find("transpose") != std::string::npos ||
                    ((op == "aten::_convolution" || op == "aten::convolution") && flag(in, 6));
  return macs((transposed ? x->numel() : out_numel(out)) * prod(w->shape, 1));
}

OpCost matmul_like(const std::string& op, const Args& in, const Args& out) {
  if (op == "aten::linear") {  // (input, weight[out, in], bias)
    const OpArg* x = tensor(in, 0);
    const OpArg* w = tensor(in, 1);
    if (!x || !w || w->shape.size() != 2) return {};
    return macs(x->numel() * static_cast<uint64_t>(w->shape[0]));
  }
  // addmm/baddbmm/addmv take the addend first.
  size_t first = (op == "aten::addmm" || op == "aten::baddbmm" || op == "aten::addmv" ||
                  op == "aten::addbmm")
                     ? 1
                     : 0;
  const OpArg* a = tensor(in, first);
  if (!a || a->shape.empty()) return {};
  // Every output element is a dot product over a's last dimension; addbmm
  // also sums over the batch.
  uint64_t k = static_cast<uint64_t>(a->shape.back());
  if (op == "aten::addbmm" && a->shape.size() == 3) k *= static_cast<uint64_t>(a->shape[0]);
  uint64_t n = out_numel(out);
  if (op == "aten::dot" || op == "aten::vdot") n = 1;
  return macs(n * k);
}

// Loop count of the equation: the product of every index's size, with
// "..." standing for the broadcast dimensions it covers.
OpCost einsum(const Args& in) {
  if (in.empty() || in[0].kind != OpArg::Kind::Str) return {};
  std::string lhs = in[0].s.substr(0, in[0].s.find("->"));
  std::vector<const OpArg*> ops;
  for (size_t i = 1; i < in.size(); ++i)
    if (in[i].kind == OpArg::Kind::Tensor) ops.push_back(&in[i]);
  std::map<char, int64_t> size;
  uint64_t ellipsis = 1;
  size_t begin = 0;
  for (const OpArg* op : ops) {
    size_t end = lhs.find(',', begin);
    std::string term = lhs.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    size_t letters = 0;
    for (char c : term) letters += std::isalpha(static_cast<unsigned char>(c)) ? 1 : 0;
    size_t spread = op->shape.size() > letters ? op->shape.size() - letters : 0;
    size_t dim = 0;
    for (size_t i = 0; i < term.size() && dim <= op->shape.size(); ++i) {
      if (term.compare(i, 3, "...") == 0) {
        uint64_t e = 1;
        for (size_t j = 0; j < spread && dim + j < op->shape.size(); ++j)
          e *= static_cast<uint64_t>(op->shape[dim + j]);
        ellipsis = std::max(ellipsis, e);
        dim += spread;
        i += 2;
      } else if (std::isalpha(static_cast<unsigned char>(term[i])) && dim < op->shape.size()) {
        size[term[i]] = std::max(size[term[i]], op->shape[dim++]);
      }
    }
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  uint64_t loops = ellipsis;
  for (const auto& [c, n] : size) loops *= static_cast<uint64_t>(n);
  return ops.size() >= 2 ? macs(loops) : flops(loops);
}

// q [..., L, E], k [..., S, E], v [..., S, Ev]: Q K^T and A V. A causal mask
// lets the kernels skip the upper triangle: half the work.
OpCost attention(const Args& in) {
  const OpArg* q = tensor(in, 0);
  const OpArg* k = tensor(in, 1);
  const OpArg* v = tensor(in, 2);
  if (!q || !k || !v || q->shape.size() < 2 || k->shape.size() < 2 || v->shape.empty()) return {};
  uint64_t L = static_cast<uint64_t>(q->shape[q->shape.size() - 2]);
  uint64_t E = static_cast<uint64_t>(q->shape.back());
  uint64_t S = static_cast<uint64_t>(k->shape[k->shape.size() - 2]);
  uint64_t Ev = static_cast<uint64_t>(v->shape.back());
  uint64_t batch = L && E ? q->numel() / (L * E) : 0;
  uint64_t m = batch * L * S * (E + Ev);
  if (flag(in, 5)) m /= 2;  // is_causal
  return macs(m);
}

// _native_multi_head_attention(query [B, L, E], key [B, S, E], value, E,
// heads, qkv_weight, qkv_bias, proj_weight, ...): the input projections,
// the attention over all heads, the output projection.
OpCost native_mha(const Args& in) {
  const OpArg* q = tensor(in, 0);
  const OpArg* k = tensor(in, 1);
  if (!q || !k || q->shape.size() != 3 || k->shape.size() != 3) return {};
  uint64_t B = static_cast<uint64_t>(q->shape[0]), L = static_cast<uint64_t>(q->shape[1]),
           E = static_cast<uint64_t>(q->shape[2]), S = static_cast<uint64_t>(k->shape[1]);
  return macs(B * L * E * E + 2 * B * S * E * E + 2 * B * L * S * E + B * L * E * E);
}

OpCost pooling(const std::string& op, const Args& in, const Args& out) {
  if (op.find("adaptive") != std::string::npos) {
    const OpArg* x = tensor(in, 0);
    return x ? flops(x->numel()) : OpCost{};
  }
  if (in.size() < 2 || in[1].kind != OpArg::Kind::IntList) return {};
  return flops(out_numel(out) * prod(in[1].shape));
}

const std::set<std::string>& elementwise() {
  static const std::set<std::string> ops = {
      "add", "add_", "sub", "sub_", "mul", "mul_", "div", "div_", "rsub", "neg", "abs",
      "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "gelu", "silu", "silu_",
      "sigmoid", "sigmoid_", "tanh", "tanh_", "hardtanh", "hardtanh_", "hardswish",
      "hardswish_", "hardsigmoid", "hardsigmoid_", "elu", "selu", "mish", "softplus",
      "clamp", "clamp_", "clamp_min", "clamp_max", "exp", "log", "sqrt", "rsqrt", "pow",
      "square", "reciprocal", "sin", "cos", "erf", "where", "maximum", "minimum",
      "masked_fill", "masked_fill_", "addcmul", "addcdiv", "dropout", "feature_dropout",
  };
  return ops;
}

}  // namespace

uint64_t OpArg::numel() const { return kind == Kind::Tensor ? prod(shape) : 0; }

OpCost op_cost(const std::string& op, const Args& in, const Args& out) {
  static const std::set<std::string> conv = {
      "aten::conv1d", "aten::conv2d", "aten::conv3d", "aten::convolution",
      "aten::_convolution", "aten::conv_transpose1d", "aten::conv_transpose2d",
      "aten::conv_transpose3d", "aten::mkldnn_convolution", "aten::cudnn_convolution",
      "aten::cudnn_convolution_transpose", "aten::conv_tbc"};
  static const std::set<std::string> mm = {
      "aten::linear", "aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm",
      "aten::addbmm", "aten::matmul", "aten::mv", "aten::addmv", "aten::dot", "aten::vdot"};
  static const std::set<std::string> free = {
      "aten::embedding", "aten::view", "aten::reshape", "aten::flatten", "aten::permute",
      "aten::transpose", "aten::t", "aten::contiguous", "aten::to", "aten::copy_",
      "aten::select", "aten::slice", "aten::cat", "aten::stack", "aten::chunk",
      "aten::split", "aten::unsqueeze", "aten::squeeze", "aten::expand", "aten::size",
      "aten::detach", "aten::clone", "aten::zeros", "aten::ones", "aten::empty",
      "aten::arange", "aten::full", "aten::tril", "aten::triu", "aten::index", "aten::unbind", "aten::narrow", "aten::as_strided",
      "aten::__getitem__", "aten::layout", "aten::dim", "aten::numel", "aten::Int",
      // A mixture of experts' routing: choosing and gathering, no arithmetic.
      "aten::topk", "aten::one_hot", "aten::nonzero"};
  if (conv.count(op)) return convolution(op, in, out);
  if (mm.count(op)) return matmul_like(op, in, out);
  if (op == "aten::einsum") return einsum(in);
  if (op.find("scaled_dot_product") != std::string::npos) return attention(in);
  if (op == "aten::_native_multi_head_attention") return native_mha(in);
  if (op == "aten::batch_norm" || op == "aten::native_batch_norm" ||
      op == "aten::_batch_norm_impl_index") {
    bool training = flag(in, 5);
    const OpArg* x = tensor(in, 0);
    return x ? flops((training ? 5 : 2) * x->numel()) : OpCost{};
  }
  if (op == "aten::layer_norm" || op == "aten::group_norm" || op == "aten::instance_norm" ||
      op == "aten::native_layer_norm" || op == "aten::native_group_norm") {
    const OpArg* x = tensor(in, 0);
    return x ? flops(5 * x->numel()) : OpCost{};
  }
  if (op == "aten::softmax" || op == "aten::log_softmax" || op == "aten::_softmax" ||
      op == "aten::_log_softmax")
    return flops(3 * out_numel(out));
  if (op.find("pool") != std::string::npos) return pooling(op, in, out);
  if (op == "aten::mean" || op == "aten::sum") {
    const OpArg* x = tensor(in, 0);
    return x ? flops(x->numel()) : OpCost{};
  }
  if (op == "aten::index_add_" || op == "aten::index_add") {  // (self, dim, index, source): one add per source element
    const OpArg* source = tensor(in, 3);
    return source ? flops(source->numel()) : OpCost{};
  }
  if (op.rfind("aten::", 0) == 0 && elementwise().count(op.substr(6))) return flops(out_numel(out));
  if (free.count(op)) return {0, 0, true};
  return {};
}

}  // namespace ptscope
