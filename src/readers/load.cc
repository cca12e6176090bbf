#include "ptscope/load.h"

#include "ptscope/error.h"
#include "reader.h"

namespace ptscope {

Checkpoint load_checkpoint(const std::string& path) { return load_checkpoint(path, RootVisitor{}); }

Checkpoint load_checkpoint(const std::string& path, const RootVisitor& visit) {
  std::unique_ptr<ByteSource> src;
  try {
    src = open_file(path);
  } catch (const Error& e) {
    throw e.in_file(path);
  }
  return read_checkpoint(*src, path, visit);
}

}  // namespace ptscope
