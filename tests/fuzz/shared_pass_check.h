// inspect reads a single file with one pass over its object pickle for the
// scan and the read (load_model_scanned, pickle_tap.h). The pass must change
// nothing: this runs scan_file and read_checkpoint apart and together over
// one file and compares every field of what they give.
#pragma once

#include <string>

namespace ptscope::fuzz {

// "" when the shared pass gives what the two give apart; else what differs.
std::string shared_pass_difference(const std::string& path);

}  // namespace ptscope::fuzz
