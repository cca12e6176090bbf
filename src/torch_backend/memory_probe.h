// Two independent views of how many bytes LibTorch allocates during a run:
//
//  - MemoryHook: c10's memory reporting hook (c10::MemoryReportingInfoBase,
//    pushed with c10::DebugInfoGuard). The CPU allocator and the CUDA caching
//    allocator both report every block to it; this is what ptscope reports.
//  - CountingAllocator: a wrapper installed as the CPU allocator that counts
//    what passes through it. Tests compare the two.
#pragma once

#include <c10/core/Allocator.h>
#include <c10/util/ThreadLocalDebugInfo.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "torch_compat.h"

namespace ptscope::torch_backend {

// Counts the blocks of one device; the CUDA caching allocator also passes
// its reserved total, whose peak is what nvidia-smi attributes to tensors.
class MemoryHook : public c10::MemoryReportingInfoBase {
 public:
  explicit MemoryHook(c10::Device device = c10::Device(c10::DeviceType::CPU)) : device_(device) {}
  // The totals are int64_t in 1.13 and size_t in 2.x (torch_compat.h).
  void reportMemoryUsage(void* ptr, int64_t alloc_size, compat::MemoryTotal total_allocated,
                         compat::MemoryTotal total_reserved, c10::Device device) override;
  bool memoryProfilingEnabled() const override { return true; }
  int64_t current() const { return current_; }
  int64_t peak() const { return peak_; }
  int64_t peak_reserved() const { return peak_reserved_; }
  // The allocator's own total at its peak: everything it holds for tensors,
  // weights included, as torch.cuda.max_memory_allocated counts.
  int64_t peak_total_allocated() const { return peak_total_; }

 private:
  c10::Device device_;
  int64_t current_ = 0, peak_ = 0, peak_reserved_ = 0, peak_total_ = 0;
};

// While alive, every allocation on this thread is reported to `hook`.
class HookScope {
 public:
  explicit HookScope(std::shared_ptr<MemoryHook> hook)
      : guard_(c10::DebugInfoKind::PROFILER_STATE, std::move(hook)) {}

 private:
  c10::DebugInfoGuard guard_;
};

// allocate()'s signature differs between 1.13 and 2.x: the base class
// (torch_compat.h) declares it and calls allocate_block().
class CountingAllocator final : public compat::CpuAllocatorBase {
 public:
  // Installs the counter as LibTorch's CPU allocator for the scope's life.
  class Scope {
   public:
    Scope();
    ~Scope();
  };
  static CountingAllocator& instance();
  c10::DataPtr allocate_block(size_t n) const override;
  // Blocks are keyed by their data pointer, so raw_allocate() works too.
  c10::DeleterFnPtr raw_deleter() const override { return &release; }
  void reset() { current_ = peak_ = 0; }
  int64_t peak() const { return peak_; }

 private:
  struct Block {
    c10::DataPtr inner;
    size_t bytes;
  };
  static void release(void* data);
  c10::Allocator* inner_ = nullptr;
  mutable std::mutex mu_;
  mutable std::unordered_map<void*, Block> blocks_;
  mutable std::atomic<int64_t> current_{0}, peak_{0};
};

}  // namespace ptscope::torch_backend
