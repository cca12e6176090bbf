// torch.distributed.checkpoint (DCP) folders as one model, read from the
// files alone. See dcp_reader.cc for the layout and the torch sources it
// follows.
#pragma once

#include <string>

#include "ptscope/load.h"

namespace ptscope {

// A folder holding a `.metadata` file is a DCP checkpoint.
bool is_dcp_folder(const std::string& path);

// Model.files[0] is `.metadata` with every tensor entry (full size, no
// storage) and the Bytes entries in its metadata map ("dcp.bytes.FQN");
// then one Checkpoint per data file with its byte map and no tensors.
// Throws Error (one line, naming the file) on anything inconsistent.
Model load_dcp_folder(const std::string& dir);

}  // namespace ptscope
