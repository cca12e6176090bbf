#include "memory_probe.h"

#include <c10/core/CPUAllocator.h>

namespace ptscope::torch_backend {

void MemoryHook::reportMemoryUsage(void*, int64_t alloc_size, compat::MemoryTotal total_allocated,
                                   compat::MemoryTotal total_reserved, c10::Device device) {
  if (device.type() != device_.type() || (device_.has_index() && device.index() != device_.index()))
    return;
  current_ += alloc_size;  // frees arrive as negative sizes
  peak_ = std::max(peak_, current_);
  peak_reserved_ = std::max(peak_reserved_, static_cast<int64_t>(total_reserved));
  peak_total_ = std::max(peak_total_, static_cast<int64_t>(total_allocated));
}

CountingAllocator& CountingAllocator::instance() {
  // Leaked on purpose: blocks it handed out may be freed after main returns.
  static auto* a = new CountingAllocator();
  return *a;
}

c10::DataPtr CountingAllocator::allocate_block(size_t n) const {
  c10::DataPtr inner = inner_->allocate(n);
  void* data = inner.get();
  if (!data) return inner;  // zero-byte allocations
  {
    std::lock_guard<std::mutex> lock(mu_);
    blocks_[data] = Block{std::move(inner), n};
  }
  int64_t now = current_ += static_cast<int64_t>(n);
  int64_t peak = peak_.load();
  while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
  }
  return {data, data, &CountingAllocator::release, c10::Device(c10::DeviceType::CPU)};
}

void CountingAllocator::release(void* data) {
  CountingAllocator& a = instance();
  Block block;
  {
    std::lock_guard<std::mutex> lock(a.mu_);
    auto it = a.blocks_.find(data);
    if (it == a.blocks_.end()) return;
    block = std::move(it->second);
    a.blocks_.erase(it);
  }
  a.current_ -= static_cast<int64_t>(block.bytes);
}  // block.inner frees through the inner allocator's own deleter

// SetCPUAllocator keeps the allocator of the highest priority seen, so each
// swap must outbid the last.
namespace {
uint8_t next_priority = 100;
}

CountingAllocator::Scope::Scope() {
  CountingAllocator& a = instance();
  if (!a.inner_) a.inner_ = c10::GetCPUAllocator();
  c10::SetCPUAllocator(&a, next_priority++);
}

CountingAllocator::Scope::~Scope() {
  c10::SetCPUAllocator(instance().inner_, next_priority++);
}

}  // namespace ptscope::torch_backend
