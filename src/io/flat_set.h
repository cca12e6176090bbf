// A hash set stored in one array: open addressing, linear probing, at most
// half full, erase by backward shift. std::unordered_set allocates a node
// per entry and chases a pointer per lookup; over the tens of thousands of
// storages, keys and values of a large checkpoint those cache misses were
// the largest single cost of reading it. The hash is mixed once more
// (Fibonacci hashing), so identity hashes of pointers spread too; keys
// from a file must still be hashed with KeyedHash (keyed_hash.h).
//
// Hash and Eq may hold state, and may take other types than Key for
// lookups (find with a string_view in a set of indices into a table).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace ptscope {

template <class Key, class Hash, class Eq>
class FlatSet {
 public:
  explicit FlatSet(Hash hash = Hash(), Eq eq = Eq()) : hash_(std::move(hash)), eq_(std::move(eq)) {}

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Room for n keys without growing.
  void reserve(size_t n) {
    size_t want = 8;
    while (want < 2 * n) want *= 2;
    if (want > slots_.size()) rehash(want);
  }

  // The key equal to q, or nullptr.
  template <class Q>
  const Key* find(const Q& q) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = home(hash_(q));; i = next(i)) {
      if (!used_[i]) return nullptr;
      if (eq_(slots_[i], q)) return &slots_[i];
    }
  }
  template <class Q>
  bool contains(const Q& q) const { return find(q) != nullptr; }

  // Adds k unless an equal key is there; true when added.
  bool insert(const Key& k) {
    if (2 * (size_ + 1) > slots_.size()) rehash(slots_.empty() ? 8 : 2 * slots_.size());
    size_t i = home(hash_(k));
    for (; used_[i]; i = next(i))
      if (eq_(slots_[i], k)) return false;
    slots_[i] = k;
    used_[i] = 1;
    ++size_;
    return true;
  }

  // Removes the key equal to q; true when there was one.
  template <class Q>
  bool erase(const Q& q) {
    if (slots_.empty()) return false;
    size_t i = home(hash_(q));
    for (; used_[i]; i = next(i))
      if (eq_(slots_[i], q)) break;
    if (!used_[i]) return false;
    // Backward shift: later keys of the run move into the hole unless
    // their home lies cyclically after it.
    for (size_t j = next(i);; j = next(j)) {
      if (!used_[j]) break;
      size_t h = home(hash_(slots_[j]));
      bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    used_[i] = 0;
    slots_[i] = Key();
    --size_;
    return true;
  }

  void clear() {
    std::vector<Key>().swap(slots_);
    std::vector<uint8_t>().swap(used_);
    size_ = 0;
    shift_ = 64;
  }

 private:
  size_t home(size_t h) const { return static_cast<size_t>((uint64_t(h) * 0x9E3779B97F4A7C15ull) >> shift_); }
  size_t next(size_t i) const { return (i + 1) & (slots_.size() - 1); }
  void rehash(size_t capacity) {
    std::vector<Key> old_slots(capacity);
    std::vector<uint8_t> old_used(capacity);
    old_slots.swap(slots_);
    old_used.swap(used_);
    shift_ = 64;
    for (size_t c = capacity; c > 1; c /= 2) --shift_;
    for (size_t i = 0; i < old_slots.size(); ++i) {
      if (!old_used[i]) continue;
      size_t j = home(hash_(old_slots[i]));
      while (used_[j]) j = next(j);
      slots_[j] = std::move(old_slots[i]);
      used_[j] = 1;
    }
  }

  Hash hash_;
  Eq eq_;
  std::vector<Key> slots_;
  std::vector<uint8_t> used_;
  size_t size_ = 0;
  int shift_ = 64;  // 64 - log2(capacity): home() keeps the top bits
};

}  // namespace ptscope
