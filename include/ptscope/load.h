// Reading a checkpoint file into the one model every analysis consumes.
// Nothing in the file is executed: pickles are interpreted, never unpickled.
#pragma once

#include <string>

#include "ptscope/checkpoint.h"

namespace ptscope {

// Reads a .pt/.pth (zip or legacy), a TorchScript archive or a safetensors
// file, chosen by content, and classifies parameters and buffers. Throws
// ptscope::Error naming `path`, what failed and the byte offset.
Checkpoint load_checkpoint(const std::string& path);

}  // namespace ptscope
