// NVML's C interface, declared here rather than included (its header comes
// with the CUDA toolkit, which Debian's build machine does not have):
// nvmlInit_v2, nvmlDeviceGetCount_v2, nvmlDeviceGetHandleByIndex_v2,
// nvmlDeviceGetName, nvmlDeviceGetComputeRunningProcesses_v2 (an array of
// {pid, usedGpuMemory, gpuInstanceId, computeInstanceId}), nvmlShutdown,
// nvmlErrorString. Every call returns 0 on success.
#include "nvml.h"

#include <dlfcn.h>

#include <cstdlib>
#include <vector>

namespace ptscope {
namespace {

struct ProcessInfoV2 {
  unsigned int pid;
  unsigned long long used_gpu_memory;
  unsigned int gpu_instance_id, compute_instance_id;
};
using Device = void*;
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
  auto init = nvml.get<int()>("nvmlInit_v2");
  auto shutdown = nvml.get<int()>("nvmlShutdown");
  auto error_string = nvml.get<const char*(int)>("nvmlErrorString");
  auto count = nvml.get<int(unsigned*)>("nvmlDeviceGetCount_v2");
  auto handle = nvml.get<int(unsigned, Device*)>("nvmlDeviceGetHandleByIndex_v2");
  auto name = nvml.get<int(Device, char*, unsigned)>("nvmlDeviceGetName");
  auto processes = nvml.get<int(Device, unsigned*, ProcessInfoV2*)>("nvmlDeviceGetComputeRunningProcesses_v2");
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
    Device dev = nullptr;
    if (int rc = handle(d, &dev)) {
      fail("nvmlDeviceGetHandleByIndex", rc);
      break;
    }
    std::vector<ProcessInfoV2> list(64);
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
