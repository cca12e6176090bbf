// FLOP and MAC formulas, one row per op, numbers worked out by hand.
#include <gtest/gtest.h>

#include "flops.h"

namespace ptscope {
namespace {

OpArg T(std::vector<int64_t> shape) {
  OpArg a;
  a.kind = OpArg::Kind::Tensor;
  a.shape = std::move(shape);
  return a;
}
OpArg B(bool b) {
  OpArg a;
  a.kind = OpArg::Kind::Bool;
  a.i = b;
  return a;
}
OpArg L(std::vector<int64_t> v) {
  OpArg a;
  a.kind = OpArg::Kind::IntList;
  a.shape = std::move(v);
  return a;
}
OpArg S(std::string s) {
  OpArg a;
  a.kind = OpArg::Kind::Str;
  a.s = std::move(s);
  return a;
}
OpArg N() { return OpArg{}; }

struct Case {
  const char* what;
  const char* op;
  std::vector<OpArg> in, out;
  uint64_t macs, flops;
};

TEST(Flops, Formulas) {
  const Case cases[] = {
      // 1x3x224x224 -> 1x64x112x112, 7x7: 64*112*112 outputs x 3*7*7 MACs each.
      {"conv2d", "aten::conv2d", {T({1, 3, 224, 224}), T({64, 3, 7, 7})}, {T({1, 64, 112, 112})},
       118013952, 236027904},
      {"traced conv", "aten::_convolution",
       {T({1, 3, 224, 224}), T({64, 3, 7, 7}), N(), L({2, 2}), L({3, 3}), L({1, 1}), B(false)},
       {T({1, 64, 112, 112})}, 118013952, 236027904},
      // groups=4: weight [8, 2, 3, 3]; each output reads 2*9 inputs.
      {"grouped", "aten::conv2d", {T({1, 8, 10, 10}), T({8, 2, 3, 3})}, {T({1, 8, 8, 8})},
       8 * 64 * 18, 2 * 8 * 64 * 18},
      {"depthwise", "aten::conv2d", {T({1, 8, 10, 10}), T({8, 1, 3, 3})}, {T({1, 8, 8, 8})},
       8 * 64 * 9, 2 * 8 * 64 * 9},
      {"conv1d", "aten::conv1d", {T({2, 4, 20}), T({6, 4, 5})}, {T({2, 6, 16})}, 2 * 6 * 16 * 20,
       2 * 2 * 6 * 16 * 20},
      {"conv3d", "aten::conv3d", {T({1, 2, 5, 5, 5}), T({3, 2, 3, 3, 3})}, {T({1, 3, 3, 3, 3})},
       81 * 54, 2 * 81 * 54},
      // Transposed: weight [Cin=4, Cout=6, 3, 3]; each input element feeds 6*9 outputs.
      {"transposed", "aten::conv_transpose2d", {T({1, 4, 5, 5}), T({4, 6, 3, 3})}, {T({1, 6, 7, 7})},
       100 * 54, 2 * 100 * 54},
      {"traced transposed", "aten::_convolution",
       {T({1, 4, 5, 5}), T({4, 6, 3, 3}), N(), L({1, 1}), L({0, 0}), L({1, 1}), B(true)},
       {T({1, 6, 7, 7})}, 100 * 54, 2 * 100 * 54},
      {"linear", "aten::linear", {T({8, 16, 512}), T({2048, 512}), T({2048})}, {T({8, 16, 2048})},
       8ull * 16 * 512 * 2048, 2ull * 8 * 16 * 512 * 2048},
      {"addmm", "aten::addmm", {T({10}), T({4, 8}), T({8, 10})}, {T({4, 10})}, 320, 640},
      {"mm", "aten::mm", {T({4, 8}), T({8, 10})}, {T({4, 10})}, 320, 640},
      {"bmm", "aten::bmm", {T({3, 4, 8}), T({3, 8, 10})}, {T({3, 4, 10})}, 960, 1920},
      {"baddbmm", "aten::baddbmm", {T({3, 4, 10}), T({3, 4, 8}), T({3, 8, 10})}, {T({3, 4, 10})},
       960, 1920},
      // Attention scores: [1, 12, 128, 64] @ [1, 12, 64, 128].
      {"matmul 4d", "aten::matmul", {T({1, 12, 128, 64}), T({1, 12, 64, 128})},
       {T({1, 12, 128, 128})}, 12ull * 128 * 128 * 64, 2ull * 12 * 128 * 128 * 64},
      {"matmul vector", "aten::matmul", {T({5}), T({5})}, {T({})}, 5, 10},
      {"einsum", "aten::einsum", {S("bij,bjk->bik"), T({3, 4, 8}), T({3, 8, 10})}, {T({3, 4, 10})},
       960, 1920},
      {"einsum ellipsis", "aten::einsum", {S("...ij,...jk->...ik"), T({2, 3, 4, 8}), T({2, 3, 8, 10})},
       {T({2, 3, 4, 10})}, 1920, 3840},
      // SDPA: B*H*L*S*(E+Ev), halved when causal.
      {"sdpa", "aten::scaled_dot_product_attention",
       {T({2, 4, 16, 8}), T({2, 4, 16, 8}), T({2, 4, 16, 8}), N(), N(), B(false)}, {T({2, 4, 16, 8})},
       8 * 16 * 16 * 16, 2 * 8 * 16 * 16 * 16},
      {"sdpa causal", "aten::scaled_dot_product_attention",
       {T({2, 4, 16, 8}), T({2, 4, 16, 8}), T({2, 4, 16, 8}), N(), N(), B(true)}, {T({2, 4, 16, 8})},
       8 * 16 * 16 * 16 / 2, 8 * 16 * 16 * 16},
      // Native MHA, B=1 L=S=10 E=8: in-proj 3*80*8, scores+values 2*100*8, out-proj 80*8.
      {"native mha", "aten::_native_multi_head_attention", {T({1, 10, 8}), T({1, 10, 8}), T({1, 10, 8})},
       {T({1, 10, 8})}, 3 * 640 + 1600 + 640, 2 * (3 * 640 + 1600 + 640)},
      {"batch_norm eval", "aten::batch_norm",
       {T({1, 8, 4, 4}), T({8}), T({8}), T({8}), T({8}), B(false)}, {T({1, 8, 4, 4})}, 0, 256},
      {"batch_norm train", "aten::batch_norm",
       {T({1, 8, 4, 4}), T({8}), T({8}), T({8}), T({8}), B(true)}, {T({1, 8, 4, 4})}, 0, 640},
      {"layer_norm", "aten::layer_norm", {T({2, 16, 64}), L({64})}, {T({2, 16, 64})}, 0, 10240},
      {"softmax", "aten::softmax", {T({2, 10})}, {T({2, 10})}, 0, 60},
      {"relu", "aten::relu", {T({1, 64, 8, 8})}, {T({1, 64, 8, 8})}, 0, 4096},
      {"add", "aten::add", {T({4, 4}), T({4, 4})}, {T({4, 4})}, 0, 16},
      {"max_pool2d", "aten::max_pool2d", {T({1, 4, 8, 8}), L({2, 2})}, {T({1, 4, 4, 4})}, 0, 256},
      {"adaptive avg", "aten::adaptive_avg_pool2d", {T({1, 4, 8, 8}), L({1, 1})}, {T({1, 4, 1, 1})},
       0, 256},
      {"view is free", "aten::view", {T({4, 4}), L({16})}, {T({16})}, 0, 0},
      // A mixture of experts: routing chooses (free); index_add_ adds the 3 routed rows of 8 into 16.
      {"topk is free", "aten::topk", {T({16, 4})}, {T({16, 2}), T({16, 2})}, 0, 0},
      {"index_add_", "aten::index_add_", {T({16, 8}), N(), T({3}), T({3, 8})}, {T({16, 8})}, 0, 24},
  };
  for (const Case& c : cases) {
    OpCost cost = op_cost(c.op, c.in, c.out);
    EXPECT_TRUE(cost.known) << c.what;
    EXPECT_EQ(cost.macs, c.macs) << c.what;
    EXPECT_EQ(cost.flops, c.flops) << c.what;
  }
}

TEST(Flops, UnknownOpsSaySo) {
  OpCost cost = op_cost("aten::some_new_op", {T({4})}, {T({4})});
  EXPECT_FALSE(cost.known);
  EXPECT_EQ(cost.flops, 0u);
}

TEST(Flops, MissingShapesCostNothing) {
  OpCost cost = op_cost("aten::conv2d", {}, {});
  EXPECT_FALSE(cost.known);
  EXPECT_EQ(cost.macs, 0u);
}

}  // namespace
}  // namespace ptscope
