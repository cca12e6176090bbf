#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

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
  std::string path;
  if (const char* env = std::getenv("PTSCOPE_BACKEND"); env && *env) {
    // The only place looked: a plugin the user named that fails to load must
    // not be silently replaced by another one.
    path = env;
  } else {
    // The build tree keeps the plugin beside the executable, an installed
    // tree under lib/ptscope (PTSCOPE_PLUGIN_DIR_FROM_BIN: cmake/install.cmake).
    namespace fs = std::filesystem;
    const fs::path dir = executable_dir();
    const fs::path places[] = {dir / "libptscope_torch.so",
                               (dir / PTSCOPE_PLUGIN_DIR_FROM_BIN / "libptscope_torch.so").lexically_normal()};
    std::string looked;
    for (const auto& p : places) {
      std::error_code ec;
      if (fs::exists(p, ec)) {
        path = p.string();
        break;
      }
      looked += (looked.empty() ? "" : ", ") + p.string();
    }
    if (path.empty())
      throw Error("cannot load the LibTorch backend: no plugin at " + looked +
                  " (set PTSCOPE_BACKEND to its path)");
  }
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
