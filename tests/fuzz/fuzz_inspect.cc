// libFuzzer harness: a checkpoint read from memory, then everything inspect
// and estimate do with it: every analysis, both estimates, every report in
// every format.
#include <string>

#include "byte_source.h"
#include "fuzz_target.h"
#include "fuzz_util.h"
#include "ptscope/error.h"
#include "reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ptscope::MemorySource src(std::string(reinterpret_cast<const char*>(data), size));
  ptscope::Model m;
  m.path = "input";
  try {
    m.files.push_back(ptscope::read_checkpoint(src, m.path));
  } catch (const ptscope::Error&) {
    return 0;
  }
  ptscope::fuzz::inspect_and_report(std::move(m));
  return 0;
}
