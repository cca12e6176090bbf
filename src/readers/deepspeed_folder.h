// DeepSpeed checkpoint folders as one model, read from the files alone. See
// deepspeed_folder.cc for the layout and the DeepSpeed sources it follows.
#pragma once

#include <string>

#include "ptscope/load.h"

namespace ptscope {

// A folder holding DeepSpeed's file names (mp_rank_NN_model_states.pt,
// [bf16_|fp16_]zero_pp_rank_N_mp_rank_NN_optim_states.pt, ZeRO-3's
// zero_pp_rank_N_mp_rank_NN_model_states.pt), or a run folder with a
// `latest` file and no model files of its own.
bool is_deepspeed_folder(const std::string& path);

// Reads the folder's DeepSpeed files (the one `latest` names, for a run
// folder) with the one-file path, in parallel, and checks them against each
// other: Model::deepspeed, with problems for missing ranks and disagreeing
// sizes. Throws Error (one line, naming the file) for a file that cannot be
// read and for a `latest` that does not name a plain folder beside it.
Model load_deepspeed_folder(const std::string& path);

// The tag a `latest` file's text names, stripped as Python's str.strip()
// strips it and checked to be a plain folder name (no slash, not "." or
// "..", no control character). Throws Error at the offending byte.
std::string parse_latest_tag(const std::string& text);

}  // namespace ptscope
