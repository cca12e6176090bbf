#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>

#include "backend.h"
#include "ptscope/error.h"

namespace ptscope {
namespace {

std::string executable_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

}  // namespace

std::unique_ptr<Backend> Backend::load() {
  const char* env = std::getenv("PTSCOPE_BACKEND");
  std::string path = env && *env ? env : executable_dir() + "/libptscope_torch.so";
  // RTLD_LOCAL keeps LibTorch's symbols away from ours.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    throw Error("cannot load the LibTorch backend " + path + ": " + ::dlerror());
  auto entry = reinterpret_cast<PtscopeBackendEntry>(::dlsym(handle, PTSCOPE_BACKEND_SYMBOL));
  const PtscopeBackendV1* api = entry ? entry() : nullptr;
  if (!api || api->abi_version != PTSCOPE_BACKEND_ABI) {
    ::dlclose(handle);
    throw Error("the LibTorch backend " + path + " has a different ABI version");
  }
  return std::unique_ptr<Backend>(new Backend(handle, api, path));
}

nlohmann::ordered_json Backend::call(const std::string& command,
                                     const nlohmann::ordered_json& request,
                                     std::string* detail) const {
  char* raw = api_->call(command.c_str(), request.dump().c_str());
  auto reply = nlohmann::ordered_json::parse(raw);
  api_->release(raw);
  if (detail && reply.contains("detail")) *detail = reply["detail"].get<std::string>();
  if (reply.contains("error")) throw Error(reply["error"].get<std::string>());
  return reply["result"];
}

ProfileReply Backend::profile(const ProfileRequest& request, std::string* detail) const {
  return call("profile", request, detail).get<ProfileReply>();
}

VerifyReply Backend::verify(const VerifyRequest& request, std::string* detail) const {
  return call("verify", request, detail).get<VerifyReply>();
}

// LibTorch cannot be unloaded safely (static destructors, thread pools), so
// the handle is left open for the life of the process.
Backend::~Backend() = default;

}  // namespace ptscope
