// The opcodes' argument lengths follow Python's pickletools, as pickle.cc's
// interpreter reads them; this pass only needs where each opcode ends.
#include "memo_reads.h"

#include <algorithm>
#include <cstdlib>

#include "pickle_cursor.h"
#include "ptscope/error.h"

namespace ptscope {
namespace {

// Sorts and drops repeats; false when more than `max_keys` remain.
bool compact(std::vector<uint64_t>& keys, uint64_t max_keys) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys.size() <= max_keys;
}

// The keys read: pickles number their slots 0, 1, 2, ..., so a key near
// the ones seen so far is a bit in a vector that grows by doubling (the
// interpreter's rule for the slots it writes); a key far past it (a hostile
// file's) goes to a list, sorted and rid of repeats each time it doubles.
// A key is in one of the two: the vector takes over the listed keys it
// grows past.
class KeySet {
 public:
  explicit KeySet(uint64_t max_keys) : max_keys_(max_keys) {}
  // False once more than max_keys distinct keys are known to be read.
  bool add(uint64_t key) {
    if (key < bits) {  // most reads: inline, the rest out of line
      set(key);
      return true;
    }
    return add_past(key);
  }
  __attribute__((noinline)) bool add_past(uint64_t key) {
    if (key <= 2 * bits + 1024 && key < max_keys_) {
      grow(std::max<size_t>(static_cast<size_t>(key) + 1, 2 * bits));
      set(key);
    } else {
      sparse.push_back(key);
      if (sparse.size() >= 2 * compacted_) {
        if (!settle()) return false;
        compacted_ = std::max<size_t>(compacted_, sparse.size());
      }
    }
    return true;
  }
  // Sorts the list; false when more than max_keys distinct keys are read.
  bool settle() { return compact(sparse, max_keys_) && count_ + sparse.size() <= max_keys_; }

  std::vector<uint64_t> dense;  // a bit per key below `bits`
  size_t bits = 0;
  std::vector<uint64_t> sparse;

 private:
  void set(uint64_t key) {
    uint64_t& word = dense[key >> 6];
    uint64_t bit = uint64_t{1} << (key & 63);
    if (!(word & bit)) {
      word |= bit;
      ++count_;
    }
  }
  void grow(size_t n) {
    dense.resize((n + 63) / 64, 0);
    bits = n;
    auto moved = std::remove_if(sparse.begin(), sparse.end(), [&](uint64_t k) {
      if (k >= n) return false;
      set(k);
      return true;
    });
    sparse.erase(moved, sparse.end());
  }
  uint64_t max_keys_;
  uint64_t count_ = 0;  // bits set in dense
  size_t compacted_ = 1024;
};

}  // namespace

MemoReads MemoReads::of(const ByteSource& src, uint64_t begin, uint64_t end,
                        const std::string& what, uint64_t max_keys) {
  MemoReads out;
  KeySet keys(max_keys);
  try {
    PickleCursor in(src, begin, end, what);
    for (;;) {
      uint8_t op = in.byte();
      switch (op) {
        case '.': {
          if (!keys.settle()) return out;
          out.dense_ = std::move(keys.dense);
          out.bits_ = keys.bits;
          out.sparse_ = std::move(keys.sparse);
          out.all_ = false;
          return out;
        }
        // GET, BINGET, LONG_BINGET: the reads.
        case 'g': {
          std::string text = in.line();
          char* endp = nullptr;
          unsigned long long key = std::strtoull(text.c_str(), &endp, 10);
          if (text.empty() || *endp != '\0') return out;
          if (!keys.add(key)) return out;
          break;
        }
        case 'h': if (!keys.add(in.uint_le(1))) return out; break;
        case 'j': if (!keys.add(in.uint_le(4))) return out; break;
        // No argument.
        case '(': case '0': case '1': case '2': case 'N': case 0x88: case 0x89:
        case ')': case 't': case 0x85: case 0x86: case 0x87: case ']': case 'l':
        case '}': case 'd': case 0x8f: case 0x91: case 'a': case 'e': case 0x90:
        case 's': case 'u': case 0x93: case 'R': case 0x81: case 0x92: case 'o':
        case 'b': case 'Q': case 0x94: case 0x98:
          break;
        // Fixed-size arguments.
        case 0x80: case 'K': case 'q': in.skip(1); break;
        case 'M': in.skip(2); break;
        case 'J': case 'r': in.skip(4); break;
        case 0x95: case 'G': in.skip(8); break;
        // Text lines.
        case 'I': case 'L': case 'F': case 'S': case 'V': case 'p': case 'P': in.line(); break;
        case 'c': case 'i': in.line(); in.line(); break;
        // Counted bytes.
        case 0x8a: case 'U': case 'C': case 0x8c: in.skip(in.uint_le(1)); break;
        case 0x8b: case 'T': case 'X': case 'B': in.skip(in.uint_le(4)); break;
        case 0x8d: case 0x8e: case 0x96: in.skip(in.uint_le(8)); break;
        default: return out;  // the interpreter refuses it
      }
    }
  } catch (const Error&) {
    return out;  // the interpreter fails there too, with its own message
  }
}

bool MemoReads::read_past_dense(uint64_t key) const {
  return std::binary_search(sparse_.begin(), sparse_.end(), key);
}

}  // namespace ptscope
