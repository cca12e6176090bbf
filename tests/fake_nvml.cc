// A stand-in for libnvidia-ml.so.1 so the NVML reader's paths run on a
// machine without a GPU. Behaviour is set through the environment:
//   FAKE_NVML_INIT   nvmlInit_v2's return code (default 0)
//   FAKE_NVML_PROCS  device 0's processes, "pid:bytes,pid:bytes"
//   FAKE_NVML_PAD    this many other processes listed first
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "nvml_abi.h"  // the reader's declarations: one function type per call

namespace {
int env_int(const char* name) { return std::getenv(name) ? std::atoi(std::getenv(name)) : 0; }
}  // namespace

extern "C" {
int nvmlInit_v2() { return env_int("FAKE_NVML_INIT"); }
int nvmlShutdown() { return 0; }
const char* nvmlErrorString(int rc) { return rc == 9 ? "Driver Not Loaded" : "Unknown Error"; }
int nvmlDeviceGetCount_v2(unsigned* n) {
  *n = 2;
  return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned i, NvmlDevice* dev) {
  *dev = reinterpret_cast<void*>(static_cast<uintptr_t>(i + 1));
  return 0;
}
int nvmlDeviceGetName(NvmlDevice dev, char* buf, unsigned n) {
  std::snprintf(buf, n, "Fake H100 #%u", static_cast<unsigned>(reinterpret_cast<uintptr_t>(dev) - 1));
  return 0;
}
int nvmlDeviceGetComputeRunningProcesses_v2(NvmlDevice dev, unsigned* n, NvmlProcessInfoV2* out) {
  std::vector<NvmlProcessInfoV2> list;
  if (reinterpret_cast<uintptr_t>(dev) == 1) {
    for (int i = 0; i < env_int("FAKE_NVML_PAD"); ++i) list.push_back({100000u + i, 1ull << 20, 0, 0});
    std::string procs = std::getenv("FAKE_NVML_PROCS") ? std::getenv("FAKE_NVML_PROCS") : "";
    for (size_t pos = 0; pos < procs.size();) {
      size_t comma = procs.find(',', pos);
      std::string item = procs.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      size_t colon = item.find(':');
      list.push_back({static_cast<unsigned>(std::stoul(item.substr(0, colon))),
                      std::stoull(item.substr(colon + 1)), 0, 0});
      pos = comma == std::string::npos ? procs.size() : comma + 1;
    }
  }
  if (list.size() > *n) {
    *n = static_cast<unsigned>(list.size());
    return 7;  // NVML_ERROR_INSUFFICIENT_SIZE
  }
  *n = static_cast<unsigned>(list.size());
  std::copy(list.begin(), list.end(), out);  // memcpy from an empty vector's null data() is undefined
  return 0;
}
}
