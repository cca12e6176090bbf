// The device memory this process holds, as nvidia-smi shows it (CUDA
// context and every allocator included), read through NVML loaded at run
// time: libnvidia-ml.so.1 comes with the driver, not with the build.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ptscope {

struct ProcessGpuMemory {
  std::optional<uint64_t> bytes;  // summed over the GPUs this process uses
  std::string gpu_name;           // the first such GPU's
  std::string unavailable;        // why bytes is empty
};

// `library`: where to load NVML from; $PTSCOPE_NVML or libnvidia-ml.so.1
// when empty. Never throws: a machine without NVML is not an error.
ProcessGpuMemory process_gpu_memory(unsigned pid, const std::string& library = "");

}  // namespace ptscope
