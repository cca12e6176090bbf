#include "little_endian.h"

namespace ptscope::test {

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void poke_le(std::string& out, uint64_t at, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out[static_cast<size_t>(at) + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

}  // namespace ptscope::test
