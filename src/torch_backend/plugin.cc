// libptscope_torch.so: the LibTorch side of ptscope, dlopen()ed by the
// commands that need it. Its C table is in include/ptscope/backend.h;
// requests and results cross it as JSON so the ABI stays one function wide.
#include <ATen/ATen.h>
#include <torch/version.h>

#include <cstdlib>
#include <cstring>

#include "commands.h"
#include "backend.h"
#include "torch_compat.h"

namespace {

using json = nlohmann::ordered_json;

const char* torch_version() { return TORCH_VERSION; }

int cuda_device_count() { return ptscope::torch_backend::compat::cuda_device_count(); }

double selftest(int64_t n) { return at::arange(n, at::kDouble).sum().item<double>(); }

char* copy(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}

// Everything LibTorch throws stops here and crosses back as {"error": ...}.
char* call(const char* command, const char* request) {
  json reply;
  try {
    json req = json::parse(request);
    std::string cmd = command;
    if (cmd == "profile")
      reply = {{"result", ptscope::torch_backend::profile(req.get<ptscope::ProfileRequest>())}};
    else if (cmd == "verify")
      reply = {{"result", ptscope::torch_backend::verify(req.get<ptscope::VerifyRequest>())}};
    else
      reply = {{"error", "the backend has no command '" + cmd + "'"}};
  } catch (const ptscope::torch_backend::BackendError& e) {
    reply = {{"error", e.what()}};
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    reply = {{"error", "LibTorch: " + ptscope::torch_backend::last_line(what)}, {"detail", what}};
  } catch (const std::exception& e) {
    reply = {{"error", "LibTorch: " + ptscope::torch_backend::last_line(e.what())}, {"detail", e.what()}};
  }
  return copy(reply.dump());
}

void release(char* s) { std::free(s); }

const PtscopeBackendV1 kApi = {PTSCOPE_BACKEND_ABI, torch_version, cuda_device_count,
                               selftest, call, release};

}  // namespace

extern "C" __attribute__((visibility("default"))) const PtscopeBackendV1* ptscope_backend_v1() {
  return &kApi;
}
