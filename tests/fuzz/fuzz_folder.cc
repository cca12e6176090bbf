// libFuzzer harness: a whole folder as load_model reads it (shard index,
// config.json, DCP .metadata and data files, DeepSpeed `latest` and its
// global_step folder), then inspect's and estimate's pipelines on the model.
//
// An input is a packed folder, the format scripts/fuzz_seeds.py writes from
// the fixture folders: records of
//   name  '\0'  u32 little-endian length  bytes
// A name is a relative path of [A-Za-z0-9._-] components (at most one
// folder deep, none "." or ".."); parsing stops at the first record that is
// not well formed, so every mutation still makes a folder. At most 8 files.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>

#include "fuzz_target.h"
#include "fuzz_util.h"
#include "ptscope/error.h"
#include "ptscope/load.h"

namespace {

bool plain_component(const std::string& c) {
  if (c.empty() || c == "." || c == "..") return false;
  for (char ch : c)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && !std::strchr("._-", ch)) return false;
  return true;
}

bool plain_name(const std::string& name) {
  size_t slash = name.find('/');
  if (slash == std::string::npos) return plain_component(name);
  return plain_component(name.substr(0, slash)) && plain_component(name.substr(slash + 1));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fz = ptscope::fuzz;
  fz::empty_scratch_dir();
  size_t pos = 0;
  for (int files = 0; files < 8; ++files) {
    const void* nul = std::memchr(data + pos, 0, std::min<size_t>(size - pos, 65));
    if (!nul) break;
    std::string name(reinterpret_cast<const char*>(data + pos), static_cast<const uint8_t*>(nul) - (data + pos));
    pos += name.size() + 1;
    if (!plain_name(name) || size - pos < 4) break;
    uint32_t n = uint32_t(data[pos]) | uint32_t(data[pos + 1]) << 8 | uint32_t(data[pos + 2]) << 16 |
                 uint32_t(data[pos + 3]) << 24;
    pos += 4;
    if (n > size - pos) break;
    fz::write_file(fz::scratch_dir() + "/" + name, data + pos, n);
    pos += n;
  }
  try {
    fz::inspect_and_report(ptscope::load_model(fz::scratch_dir()));
  } catch (const ptscope::Error&) {
  }
  return 0;
}
