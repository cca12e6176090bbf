// FLOPs and MACs of one aten op from the shapes it saw. Pure arithmetic, so
// the LibTorch plugin's RecordFunction callback and the tests share it.
//
// Conventions (the README has the table):
//  - multiply-accumulate ops (convolutions, linear, mm/addmm/bmm/baddbmm,
//    matmul, einsum, attention) report MACs, and FLOPs = 2 x MACs;
//  - other ops report FLOPs only (MACs 0): elementwise ops and activations
//    1 per output element; batch_norm 2 per element in eval (the statistics
//    are given) and 5 when it computes them; layer/group/instance norm 5;
//    softmax and log_softmax 3; pooling one per window element read;
//  - ops with no arithmetic (views, copies, embedding lookups) count 0.
// Bias additions inside linear/conv are not counted, as torchvision's and
// fvcore's figures do not count them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ptscope {

// One argument or result of an op, as the callback saw it.
struct OpArg {
  enum class Kind { Tensor, Int, IntList, Bool, Double, Str, Other } kind = Kind::Other;
  std::vector<int64_t> shape;  // Tensor: sizes; IntList: the values
  int64_t i = 0;               // Int, Bool
  std::string s;               // Str
  uint64_t numel() const;
};

struct OpCost {
  uint64_t macs = 0, flops = 0;
  bool known = false;  // false: ptscope has no formula for this op
};

OpCost op_cost(const std::string& op, const std::vector<OpArg>& inputs,
               const std::vector<OpArg>& outputs);

}  // namespace ptscope
