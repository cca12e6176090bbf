// torch.ao quantized models counted as the float model they encode. A
// qtensor (qint8, quint8, ...) is stored values plus scale and zero point;
// the model counts it as one float parameter of the same shape. After the
// state walk names the entries, this pass:
//
//   1. makes each qtensor a LogicalTensor (role Parameter, float32, its own
//      shape; scheme "torch.ao qint8 per-channel" or "... per-tensor") and
//      the qtensor itself Role::Quantized. Its per-channel scales and zero
//      points, named NAME.q_per_channel_scales / NAME.q_per_channel_zero_points
//      by the walk, are stored with it (Role::QuantMeta);
//   2. names packed Linear params by the module they belong to: a qtensor at
//      PREFIX._packed_params._packed_params.0 is the logical PREFIX.weight,
//      the float tensor at ....1 the logical PREFIX.bias (it is stored inside
//      the packed params, so the stored tensor is Role::Quantized too);
//   3. names quantize_dynamic LSTM/GRU cell params (state_walk.cc's
//      PREFIX._all_weight_values.N.param.*) as the float module does:
//      PREFIX.weight_ih_l0, PREFIX.bias_hh_l1_reverse, with layer and
//      direction read from the shapes. Each bias is stored twice (the cell's
//      tensor and the packed Linear params' copy): one logical tensor over
//      both, both stored tensors Role::Quantized;
//   4. makes single-element `scale` / `zero_point` entries QuantMeta
//      (rule "torch.ao output scale/zero_point"), in a checkpoint that holds
//      a qtensor: they are the output quantization of quantized modules and
//      QuantStubs, state the float model never had, so never its parameters.
#pragma once

#include "ptscope/checkpoint.h"

namespace ptscope {

void group_torch_ao(Checkpoint& c);

}  // namespace ptscope
