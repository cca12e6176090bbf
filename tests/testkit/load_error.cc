#include "load_error.h"

#include "ptscope/error.h"
#include "reader.h"

namespace ptscope::test {

std::string load_error(const std::string& bytes, const std::string& name) {
  try {
    read_checkpoint(MemorySource(bytes), name);
  } catch (const Error& e) {
    return e.describe();
  }
  return "no error";
}

}  // namespace ptscope::test
