// A set of non-null pointers in one flat array: open addressing, linear
// probing, deletion by backward shift (so no tombstones pile up). The
// scanner inserts and erases once per value a pickle makes; a node-based
// std::unordered_set would allocate and free a node each time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ptscope {

class PointerSet {
 public:
  // False when `p` was already in the set. `p` must not be null.
  bool insert(const void* p) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    size_t i = home(p);
    while (slots_[i]) {
      if (slots_[i] == p) return false;
      i = (i + 1) & mask();
    }
    slots_[i] = p;
    ++size_;
    return true;
  }
  bool contains(const void* p) const { return find(p) != kAbsent; }
  // False when `p` was not in the set.
  bool erase(const void* p) {
    size_t i = find(p);
    if (i == kAbsent) return false;
    // Pull back each later entry of the run that may sit at or before the
    // hole, so that every entry stays reachable from its home slot.
    for (size_t j = (i + 1) & mask(); slots_[j]; j = (j + 1) & mask()) {
      size_t h = home(slots_[j]);
      bool stays = i < j ? (i < h && h <= j) : (i < h || h <= j);
      if (!stays) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = nullptr;
    --size_;
    return true;
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  static constexpr size_t kAbsent = SIZE_MAX;
  size_t mask() const { return slots_.size() - 1; }
  // Fibonacci hashing: the multiply spreads the pointer's bits, the shift
  // keeps the top ones, as many as the table's size needs.
  size_t home(const void* p) const {
    return static_cast<size_t>((reinterpret_cast<uintptr_t>(p) * 0x9e3779b97f4a7c15ull) >> shift_);
  }
  size_t find(const void* p) const {
    if (slots_.empty()) return kAbsent;
    for (size_t i = home(p); slots_[i]; i = (i + 1) & mask())
      if (slots_[i] == p) return i;
    return kAbsent;
  }
  void grow() {
    std::vector<const void*> old;
    old.swap(slots_);
    size_t n = old.empty() ? 16 : 2 * old.size();
    slots_.assign(n, nullptr);
    shift_ = 64;
    for (size_t k = n; k > 1; k >>= 1) --shift_;
    size_ = 0;
    for (const void* p : old)
      if (p) insert(p);
  }

  std::vector<const void*> slots_;  // a power of two of them, at most half used
  unsigned shift_ = 64;
  size_t size_ = 0;
};

}  // namespace ptscope
