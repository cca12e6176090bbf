// Little-endian integers written into byte strings: every binary format
// ptscope reads (zip, pickle arguments, the safetensors length, legacy
// storage counts) stores its integers this way.
#pragma once

#include <cstdint>
#include <string>

namespace ptscope::test {

// Appends the low `bytes` bytes of v, least significant first.
void put_le(std::string& out, uint64_t v, int bytes);
// Overwrites `bytes` bytes of `out` at `at`: how tests tamper with a field
// of a file a builder made.
void poke_le(std::string& out, uint64_t at, uint64_t v, int bytes);

}  // namespace ptscope::test
