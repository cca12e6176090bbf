// Which memo slots of a pickle some GET reads back, found by a pass over
// its opcodes before they are interpreted. torch's pickler memoizes every
// value it writes and reads back only shared ones (globals, the 'storage'
// tag, a tied weight): a slot no GET reads need not keep its value alive.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "byte_source.h"

namespace ptscope {

class MemoReads {
 public:
  // Every key reads as read: what a pickle the pass cannot follow gets.
  MemoReads() = default;
  // The pass stops at the first STOP, as the interpreter does. Where it
  // cannot go on (an unknown opcode, a truncated argument, more distinct
  // keys read than `max_keys`), every key counts as read: the interpreter
  // then keeps every memo value, as it would without the pass.
  static MemoReads of(const ByteSource& src, uint64_t begin, uint64_t end,
                      const std::string& what, uint64_t max_keys);

  bool is_read(uint64_t key) const {
    if (all_) return true;
    if (key < bits_) return (dense_[key >> 6] >> (key & 63)) & 1;
    return !sparse_.empty() && read_past_dense(key);
  }

 private:
  bool read_past_dense(uint64_t key) const;
  bool all_ = true;
  std::vector<uint64_t> dense_;   // a bit per key below bits_
  size_t bits_ = 0;
  std::vector<uint64_t> sparse_;  // the keys past dense_, sorted, distinct
};

}  // namespace ptscope
