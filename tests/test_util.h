// Helpers shared by the tests: fixture paths, whole-file reads, little-endian
// byte builders.
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace ptscope::test {

inline std::string source_path(const std::string& rel) {
  return std::string(PTSCOPE_SOURCE_DIR) + "/" + rel;
}
inline std::string fixture(const std::string& name) { return source_path("fixtures/" + name); }

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace ptscope::test
