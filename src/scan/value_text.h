// Text for a value in a finding: short, one line, every byte printable.
// A value a call made reads as the call (scan_hooks.h, made_by_call).
#pragma once

#include <string>

#include "pickle.h"

namespace ptscope {

std::string value_text(const Value* v);

}  // namespace ptscope
