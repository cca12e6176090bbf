// libFuzzer harness: a checkpoint's bytes through the one-file readers
// (torch zip, TorchScript, safetensors, legacy), as load_checkpoint reads a
// file, from memory.
#include <string>

#include "byte_source.h"
#include "fuzz_target.h"
#include "ptscope/error.h"
#include "reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ptscope::MemorySource src(std::string(reinterpret_cast<const char*>(data), size));
  try {
    ptscope::read_checkpoint(src, "input");
  } catch (const ptscope::Error&) {
  }
  return 0;
}
