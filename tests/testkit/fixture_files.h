// Paths into the source tree and whole-file reads, for tests that compare
// against the committed fixtures (fixtures/, beside tests/).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace ptscope::test {

// `rel` under the source tree (PTSCOPE_SOURCE_DIR), so tests run from any
// working directory.
std::string source_path(const std::string& rel);
// fixtures/<name>.
std::string fixture(const std::string& name);
// The whole file; "" where it cannot be read (tests assert the size).
std::string slurp(const std::string& path);
// A JSON file under the source tree, parsed.
nlohmann::json read_fixture_json(const std::string& rel);

}  // namespace ptscope::test
