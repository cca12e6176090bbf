// The only translation unit that includes LibTorch headers. Built as
// libptscope_torch.so and dlopen()ed by commands that need LibTorch.
#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <torch/version.h>

#include "ptscope/backend.h"

namespace {

const char* torch_version() { return TORCH_VERSION; }

int cuda_device_count() {
  return at::hasCUDA() ? static_cast<int>(at::detail::getCUDAHooks().getNumGPUs()) : 0;
}

double selftest(int64_t n) { return at::arange(n, at::kDouble).sum().item<double>(); }

const PtscopeBackendV1 kApi = {PTSCOPE_BACKEND_ABI, torch_version, cuda_device_count,
                               selftest};

}  // namespace

extern "C" __attribute__((visibility("default"))) const PtscopeBackendV1* ptscope_backend_v1() {
  return &kApi;
}
