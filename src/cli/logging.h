// The "ptscope: error: ..." lines on stderr, through spdlog.
#pragma once

namespace ptscope::cli {

// Colour only when stderr is a terminal and NO_COLOR is unset or empty
// (no-color.org); each line first wipes any progress line.
void setup_logging();

// True when NO_COLOR asks for no colour.
bool no_color_requested();

}  // namespace ptscope::cli
