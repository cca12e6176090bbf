// The one entry point every harness in tests/fuzz/ defines: libFuzzer calls
// it under scripts/fuzz.sh, and replay_main.cc calls it for each corpus file
// in the ordinary test suite. An input is fine when the call returns; a
// finding is a crash, a sanitizer report, a hang or an exception that is not
// ptscope::Error (main() would print "internal error").
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
