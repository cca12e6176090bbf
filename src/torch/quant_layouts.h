// Packed quantized weights recognised by their names, dtypes and shapes, in
// any format and under any prefix, and turned into the LogicalTensors they
// encode (Checkpoint::logical): GPTQ, AWQ, bitsandbytes 4-bit and int8,
// compressed-tensors pack-quantized, MXFP4. The packed values get
// Role::Quantized, their scales, zeros, group indices and quant state
// Role::QuantMeta. The layouts and their sources are in quant_layouts.cc.
//
// A group of tensors that looks like a layout but does not add up (a qweight
// whose shape does not divide, a quant state that is not JSON) is left as it
// was: its stored tensors are counted as they are, never guessed at.
#pragma once

#include "byte_source.h"
#include "ptscope/checkpoint.h"

namespace ptscope {

// Called once by read_checkpoint, after classify_roles. Reads tensor data
// only for the small tensors that hold a shape (bitsandbytes' quant state,
// compressed-tensors' weight_shape), bounded.
void recognise_quant_layouts(Checkpoint& c, const ByteSource& src);

}  // namespace ptscope
