// safetensors files in memory. Layout: an 8-byte little-endian header
// length, the JSON header, then the data the header's data_offsets index.
#pragma once

#include <string>

namespace ptscope::test {

// `header` is written as given, so a test can hand in malformed JSON.
std::string safetensors_bytes(const std::string& header, const std::string& data);

}  // namespace ptscope::test
