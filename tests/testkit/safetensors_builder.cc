#include "safetensors_builder.h"

#include "little_endian.h"

namespace ptscope::test {

std::string safetensors_bytes(const std::string& header, const std::string& data) {
  std::string out;
  put_le(out, header.size(), 8);
  return out + header + data;
}

}  // namespace ptscope::test
