// NVML read through dlopen: its header comes with the CUDA toolkit, which
// Debian's build machine does not have; the calls it makes are declared in
// nvml_abi.h.
#include "nvml.h"

#include "nvml_abi.h"

#include <dlfcn.h>

#include <cstdlib>
#include <vector>

namespace ptscope {
namespace {

constexpr int kInsufficientSize = 7;
constexpr unsigned long long kNotAvailable = ~0ull;
constexpr unsigned kMaxProcesses = 4096;  // what we ask NVML for, at most

class Library {
 public:
  explicit Library(const std::string& path) : handle_(dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {}
  ~Library() {
    if (handle_) dlclose(handle_);
  }
  explicit operator bool() const { return handle_ != nullptr; }
  template <typename F>
  F* get(const char* name) const {
    return reinterpret_cast<F*>(dlsym(handle_, name));
  }

 private:
  void* handle_;
};

}  // namespace

ProcessGpuMemory process_gpu_memory(unsigned pid, const std::string& library) {
  ProcessGpuMemory r;
  std::string path = library;
  if (path.empty()) path = std::getenv("PTSCOPE_NVML") ? std::getenv("PTSCOPE_NVML") : "libnvidia-ml.so.1";
  Library nvml(path);
  if (!nvml) {
    const char* e = dlerror();
    r.unavailable = "NVML not loaded: " + std::string(e ? e : path);
    return r;
  }
  auto init = nvml.get<NvmlInit>("nvmlInit_v2");
  auto shutdown = nvml.get<NvmlInit>("nvmlShutdown");
  auto error_string = nvml.get<NvmlErrorString>("nvmlErrorString");
  auto count = nvml.get<NvmlDeviceGetCount>("nvmlDeviceGetCount_v2");
  auto handle = nvml.get<NvmlDeviceGetHandleByIndex>("nvmlDeviceGetHandleByIndex_v2");
  auto name = nvml.get<NvmlDeviceGetName>("nvmlDeviceGetName");
  auto processes = nvml.get<NvmlDeviceGetComputeRunningProcesses>("nvmlDeviceGetComputeRunningProcesses_v2");
  if (!init || !shutdown || !error_string || !count || !handle || !name || !processes) {
    r.unavailable = "NVML in " + path + " lacks the functions ptscope uses (driver too old?)";
    return r;
  }
  auto fail = [&](const char* what, int rc) {
    const char* text = error_string(rc);
    r.unavailable = std::string("NVML ") + what + " failed: " + (text ? text : std::to_string(rc));
  };
  if (int rc = init()) {
    fail("nvmlInit", rc);
    return r;
  }
  unsigned devices = 0;
  if (int rc = count(&devices)) fail("nvmlDeviceGetCount", rc);
  for (unsigned d = 0; d < devices && r.unavailable.empty(); ++d) {
    NvmlDevice dev = nullptr;
    if (int rc = handle(d, &dev)) {
      fail("nvmlDeviceGetHandleByIndex", rc);
      break;
    }
    std::vector<NvmlProcessInfoV2> list(64);
    unsigned n = static_cast<unsigned>(list.size());
    int rc = processes(dev, &n, list.data());
    if (rc == kInsufficientSize && n <= kMaxProcesses) {
      list.resize(n);
      rc = processes(dev, &n, list.data());
    }
    if (rc) {
      fail("nvmlDeviceGetComputeRunningProcesses", rc);
      break;
    }
    for (unsigned i = 0; i < n && i < list.size(); ++i) {
      if (list[i].pid != pid) continue;
      if (list[i].used_gpu_memory == kNotAvailable) {
        r.unavailable = "NVML does not report per-process memory here (no permission, or a vGPU/MIG slice)";
        break;
      }
      r.bytes = r.bytes.value_or(0) + list[i].used_gpu_memory;
      if (r.gpu_name.empty()) {
        char buf[96] = {};
        if (name(dev, buf, sizeof buf - 1) == 0) r.gpu_name = buf;
      }
    }
  }
  shutdown();
  if (!r.unavailable.empty()) r.bytes.reset();
  else if (!r.bytes) r.unavailable = "this process is not in NVML's list of compute processes (another PID namespace?)";
  return r;
}

}  // namespace ptscope
