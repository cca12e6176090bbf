// The seam between the core and LibTorch. LibTorch costs ~0.55 s and 157 MB
// just to load, so the core never links it: the commands that need it
// (running a model, reading tensor data) dlopen() a plugin,
// libptscope_torch.so, and call it through this C table. The plugin is found
// at $PTSCOPE_BACKEND when set, else next to the executable (a build tree),
// else in ../lib/ptscope/ beside it (an installed tree).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "protocol.h"

extern "C" {

#define PTSCOPE_BACKEND_ABI 1
#define PTSCOPE_BACKEND_SYMBOL "ptscope_backend_v1"

struct PtscopeBackendV1 {
  uint32_t abi_version;  // PTSCOPE_BACKEND_ABI
  // "1.13.1": the LibTorch the plugin was built against.
  const char* (*torch_version)(void);
  // Number of CUDA devices LibTorch sees; 0 on a CPU-only build.
  int (*cuda_device_count)(void);
  // Runs a tiny tensor computation (sum of arange(n)); proves LibTorch works.
  double (*selftest)(int64_t n);
  // Runs `command` ("profile", "verify") on a JSON request; returns
  // {"result": ...} or {"error": "one line"}, to be freed with release().
  char* (*call)(const char* command, const char* request_json);
  void (*release)(char* reply);
};

typedef const PtscopeBackendV1* (*PtscopeBackendEntry)(void);
}

namespace ptscope {

class Backend {
 public:
  // Loads the plugin or throws Error saying where it looked and why it failed.
  static std::unique_ptr<Backend> load();
  ~Backend();

  const std::string& path() const { return path_; }
  const PtscopeBackendV1& api() const { return *api_; }
  // Call the plugin; throw Error with its one-line message on failure,
  // leaving LibTorch's full text (tracebacks) in *detail if given.
  ProfileReply profile(const ProfileRequest& request, std::string* detail = nullptr) const;
  VerifyReply verify(const VerifyRequest& request, std::string* detail = nullptr) const;

 private:
  nlohmann::ordered_json call(const std::string& command, const nlohmann::ordered_json& request,
                              std::string* detail) const;
  Backend(void* handle, const PtscopeBackendV1* api, std::string path)
      : handle_(handle), api_(api), path_(std::move(path)) {}
  void* handle_;
  const PtscopeBackendV1* api_;
  std::string path_;
};

}  // namespace ptscope
