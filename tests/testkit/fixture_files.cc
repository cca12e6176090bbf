#include "fixture_files.h"

#include <fstream>
#include <sstream>

namespace ptscope::test {

std::string source_path(const std::string& rel) {
  return std::string(PTSCOPE_SOURCE_DIR) + "/" + rel;
}

std::string fixture(const std::string& name) { return source_path("fixtures/" + name); }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

nlohmann::json read_fixture_json(const std::string& rel) {
  std::ifstream in(source_path(rel));
  return nlohmann::json::parse(in);
}

}  // namespace ptscope::test
