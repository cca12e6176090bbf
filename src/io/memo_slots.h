// The pickle memo's slots as the interpreter (pickle.cc) keeps them.
// Python's pickler numbers slots 0, 1, 2, ...: which were written is a bit
// each in a vector that grows by doubling; a key far past its end (a hostile
// file's) goes to a set. Values are kept only for the keys some GET reads
// (memo_reads.h): torch's pickler writes a slot for every value and reads
// back few. The caller charges what they cost to the graph budget:
// growth() before a write, kKeptEntry for each slot kept.
#pragma once

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "keyed_hash.h"
#include "pickle.h"

namespace ptscope {

class MemoSlots {
 public:
  static constexpr uint64_t kKeptEntry = 48;  // a hash map node and its bucket

  explicit MemoSlots(uint64_t max_memo) : max_memo_(max_memo) {}

  bool written(uint64_t key) const {
    return key < bits_ ? (dense_[key >> 6] >> (key & 63)) & 1 : sparse_.count(key) > 0;
  }
  // Bytes that writing `key` adds to the bit vector.
  uint64_t growth(uint64_t key) const {
    if (key < bits_ || !grows_to(key)) return 0;
    return (std::max<uint64_t>(key + 1, 2 * bits_) - bits_ + 7) / 8;
  }
  void mark_written(uint64_t key) {
    if (key < bits_) {
      dense_[key >> 6] |= uint64_t{1} << (key & 63);
    } else if (grows_to(key)) {
      size_t n = std::max<size_t>(key + 1, 2 * bits_);
      dense_.resize((n + 63) / 64, 0);
      bits_ = n;
      dense_[key >> 6] |= uint64_t{1} << (key & 63);
    } else {
      sparse_.insert(key);
    }
  }

  // The value kept for `key`, or nullptr.
  Value* kept(uint64_t key) const {
    if (key < kLowKeys) return low_[key];
    auto it = kept_.find(key);
    return it == kept_.end() ? nullptr : it->second;
  }
  // Where `key`'s value is kept; `fresh` when nothing was kept there yet.
  Value*& keep(uint64_t key, bool& fresh) {
    if (key < kLowKeys) {
      fresh = low_[key] == nullptr;
      return low_[key];
    }
    auto [it, added] = kept_.emplace(key, nullptr);
    fresh = added;
    return it->second;
  }

 private:
  bool grows_to(uint64_t key) const { return key <= 2 * bits_ + 1024 && key < max_memo_; }

  uint64_t max_memo_;
  std::vector<uint64_t> dense_;  // a bit per key below bits_
  size_t bits_ = 0;
  std::unordered_set<uint64_t, KeyedHash> sparse_;
  // Keys BINGET can name (below 256) are an array's: most reads are theirs.
  static constexpr uint64_t kLowKeys = 256;
  Value* low_[kLowKeys] = {};
  std::unordered_map<uint64_t, Value*, KeyedHash> kept_;  // keys from kLowKeys up
};

}  // namespace ptscope
