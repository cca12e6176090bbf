// The part of NVML's C interface ptscope calls, declared once for both sides
// of each call: the reader (nvml.cc), which calls through pointers from
// dlsym, and the test fake (tests/fake_nvml.cc), which defines the
// functions. UBSan (-fsanitize=function) checks that a function called
// through a pointer has the pointer's type; with a struct declared in each
// file's own anonymous namespace the two types differed, and every call to
// nvmlDeviceGetComputeRunningProcesses_v2 was a report.
#pragma once

// nvmlProcessInfo_v2_t: one compute process on a device.
struct NvmlProcessInfoV2 {
  unsigned int pid;
  unsigned long long used_gpu_memory;
  unsigned int gpu_instance_id, compute_instance_id;
};
using NvmlDevice = void*;  // nvmlDevice_t, an opaque handle

// Every call returns 0 on success.
using NvmlInit = int();                // nvmlInit_v2, nvmlShutdown
using NvmlErrorString = const char*(int);
using NvmlDeviceGetCount = int(unsigned*);
using NvmlDeviceGetHandleByIndex = int(unsigned, NvmlDevice*);
using NvmlDeviceGetName = int(NvmlDevice, char*, unsigned);
using NvmlDeviceGetComputeRunningProcesses = int(NvmlDevice, unsigned*, NvmlProcessInfoV2*);
