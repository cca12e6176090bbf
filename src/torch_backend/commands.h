// What the plugin can be asked to do: a typed request in, a typed reply out
// (protocol.h); plugin.cc turns them from and into the JSON that crosses.
#pragma once

#include <stdexcept>
#include <string>

#include "protocol.h"

namespace ptscope::torch_backend {

// A failure the user caused or can act on; its text reaches them as is.
struct BackendError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// LibTorch's messages carry TorchScript tracebacks over many lines; the
// cause is the last line ("RuntimeError: ..."). Users get that line.
inline std::string last_line(const std::string& text) {
  size_t end = text.find_last_not_of(" \n");
  if (end == std::string::npos) return text;
  size_t begin = text.rfind('\n', end);
  std::string line = text.substr(begin == std::string::npos ? 0 : begin + 1, end + 1 - (begin == std::string::npos ? 0 : begin + 1));
  const std::string prefix = "RuntimeError: ";
  return line.rfind(prefix, 0) == 0 ? line.substr(prefix.size()) : line;
}

ProfileReply profile(const ProfileRequest& request);
VerifyReply verify(const VerifyRequest& request);

}  // namespace ptscope::torch_backend
