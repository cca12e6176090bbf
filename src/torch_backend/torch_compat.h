// Where the LibTorch API the plugin uses differs between Debian's 1.13 (the
// one built here) and the 2.x bundled with pip wheels (2.1 ... 2.9, built on
// the GPU machine), and one name for each such thing. Everything else the
// plugin calls has the same declaration in both; the table is in the commit
// that added this file. Each difference names the 2.x file that shows it and
// the version that changed it; a static_assert checks each version guard
// against the declaration, so a wrong guess fails here, by name, not as an
// "does not override" deep in a class.
#pragma once

#include <ATen/Context.h>
#include <c10/core/Allocator.h>
#include <torch/cuda.h>
#include <torch/version.h>

#ifdef PTSCOPE_HAVE_CUDA  // set by CMake when LibTorch was built with CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#define PTSCOPE_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) ||          \
   (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace ptscope::torch_backend::compat {

// c10::MemoryReportingInfoBase::reportMemoryUsage(void*, int64_t alloc_size,
// T total_allocated, T total_reserved, Device): T is int64_t in 1.13
// (/usr/include/c10/core/Allocator.h) and size_t from 2.0 on (pytorch's
// c10/core/Allocator.h; reportOutOfMemory and reportMemoryUsageToProfiler
// changed with it). Neither version made more of the class pure virtual.
#if TORCH_VERSION_MAJOR >= 2
using MemoryTotal = size_t;
#else
using MemoryTotal = int64_t;
#endif
static_assert(std::is_same_v<decltype(&c10::MemoryReportingInfoBase::reportMemoryUsage),
                             void (c10::MemoryReportingInfoBase::*)(void*, int64_t, MemoryTotal,
                                                                    MemoryTotal, c10::Device)>,
              "torch_compat.h: fix MemoryTotal's version guard for this LibTorch");

// c10::Allocator, the CPU allocator's interface (pytorch's
// c10/core/Allocator.h). 2.3 made `DataPtr allocate(size_t n)` non-const
// (1.13 ... 2.2: `const`) and added the pure virtual
// `void copy_data(void* dest, const void* src, std::size_t count) const`,
// which Allocator::clone() uses (copy-on-write tensors). raw_deleter() kept
// its signature (`virtual DeleterFnPtr raw_deleter() const`); 2.x also added
// is_simple_data_ptr(), virtual with a default. A CPU allocator derives from
// this base and implements allocate_block() in every version.
#if PTSCOPE_TORCH_AT_LEAST(2, 3)
#define PTSCOPE_ALLOCATE_CONST
#else
#define PTSCOPE_ALLOCATE_CONST const
#endif
static_assert(std::is_same_v<decltype(&c10::Allocator::allocate),
                             c10::DataPtr (c10::Allocator::*)(size_t) PTSCOPE_ALLOCATE_CONST>,
              "torch_compat.h: fix PTSCOPE_ALLOCATE_CONST's version guard for this LibTorch");

class CpuAllocatorBase : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) PTSCOPE_ALLOCATE_CONST override { return allocate_block(n); }
#if PTSCOPE_TORCH_AT_LEAST(2, 3)
  // Host memory: plain bytes.
  void copy_data(void* dest, const void* src, std::size_t count) const override {
    std::memcpy(dest, src, count);
  }
#endif

 protected:
  virtual c10::DataPtr allocate_block(size_t n) const = 0;
};

#undef PTSCOPE_ALLOCATE_CONST

// How many GPUs LibTorch sees. 1.13 asked at::detail::getCUDAHooks()
// .getNumGPUs() (ATen/detail/CUDAHooksInterface.h); 2.x moved device counts
// to AcceleratorHooksInterface::deviceCount() (returns DeviceIndex), and
// which 2.x releases still keep getNumGPUs() was not pinned down. The public
// torch::cuda::device_count() (torch/csrc/api/include/torch/cuda.h,
// `size_t device_count()`) is declared alike in 1.13 and 2.x, so it is the
// one used; at::hasCUDA() (ATen/Context.h) is in both.
inline int cuda_device_count() {
  return at::hasCUDA() ? static_cast<int>(torch::cuda::device_count()) : 0;
}

// The CUDA caching allocator (c10/cuda/CUDACachingAllocator.h), namespace
// c10::cuda::CUDACachingAllocator in every version:
//  - 1.13 (Debian): `void emptyCache()`, `DeviceStats getDeviceStats(int)`,
//    `void resetPeakStats(int)`, with DeviceStats/Stat/StatType declared in
//    that namespace.
//  - 2.0 era: the same names, now inline functions forwarding to
//    get()->..., still taking `int device`; the types still there.
//  - current 2.x: `getDeviceStats(c10::DeviceIndex)` returns
//    c10::CachingDeviceAllocator::DeviceStats (c10/core/
//    CachingDeviceAllocator.h, whose Stat/StatType come from
//    c10::CachingAllocator), `resetPeakStats(c10::DeviceIndex)`, and
//    `emptyCache(MempoolId_t mempool_id = {0, 0})`.
//  The release of each of these moves was not pinned down, so nothing here
//  depends on it: the device goes in as a c10::DeviceIndex (converts to
//  int where int is taken), the stats stay in `auto`, and the arrays are
//  indexed with AGGREGATE's value, 0 in every version, rather than naming a
//  type whose namespace moved.
#ifdef PTSCOPE_HAVE_CUDA
namespace detail {
constexpr size_t kAggregate = 0;  // StatType::AGGREGATE
}
inline int64_t cuda_peak_allocated(c10::DeviceIndex device) {
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device);
  return stats.allocated_bytes[detail::kAggregate].peak;
}
inline int64_t cuda_peak_reserved(c10::DeviceIndex device) {
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device);
  return stats.reserved_bytes[detail::kAggregate].peak;
}
inline void cuda_reset_peaks(c10::DeviceIndex device) {
  c10::cuda::CUDACachingAllocator::resetPeakStats(device);
}
inline void cuda_empty_cache() { c10::cuda::CUDACachingAllocator::emptyCache(); }
#else
// Built without CUDA: nothing is ever allocated on a GPU.
inline int64_t cuda_peak_allocated(c10::DeviceIndex) { return 0; }
inline int64_t cuda_peak_reserved(c10::DeviceIndex) { return 0; }
inline void cuda_reset_peaks(c10::DeviceIndex) {}
inline void cuda_empty_cache() {}
#endif

}  // namespace ptscope::torch_backend::compat
