// The opcodes' argument lengths follow Python's pickletools, as pickle.cc's
// interpreter reads them; this pass only needs where each opcode ends.
#include "memo_reads.h"

#include <algorithm>
#include <array>
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


// What follows each opcode, as far as this pass is concerned.
enum Arg : uint8_t {
  kRefused,  // the interpreter refuses it: the pass stops
  kNothing, kFixed1, kFixed2, kFixed4, kFixed8,
  kCounted1, kCounted4, kCounted8,  // a length of 1, 4 or 8 bytes, then that many
  kLine, kTwoLines,
  kGet1, kGet4, kGetLine,  // BINGET, LONG_BINGET, GET: the reads
  kStop,
};

constexpr std::array<uint8_t, 256> arg_table() {
  std::array<uint8_t, 256> t{};  // kRefused
  auto set = [&t](const char* ops, Arg a) {
    for (const char* c = ops; *c; ++c) t[static_cast<unsigned char>(*c)] = a;
  };
  set("()t]ld}eaus012NRobQ\x85\x86\x87\x88\x89\x8f\x90\x91\x93\x81\x92\x94\x98", kNothing);
  set("Kq\x80", kFixed1);
  set("M", kFixed2);
  set("Jr", kFixed4);
  set("G\x95", kFixed8);
  set("UC\x8a\x8c", kCounted1);
  set("TXB\x8b", kCounted4);
  set("\x8d\x8e\x96", kCounted8);
  set("ILFSVpP", kLine);
  set("ci", kTwoLines);
  set("h", kGet1);
  set("j", kGet4);
  set("g", kGetLine);
  set(".", kStop);
  return t;
}
constexpr std::array<uint8_t, 256> kArgs = arg_table();

}  // namespace

// Two speeds: opcodes that lie whole inside the cursor's buffered window
// are read there in place; any other (a line, a length that runs past the
// window, STOP, a refused opcode) goes through the cursor, which refills,
// checks and throws.
MemoReads MemoReads::of(const ByteSource& src, uint64_t begin, uint64_t end,
                        const std::string& what, uint64_t max_keys) {
  MemoReads out;
  KeySet keys(max_keys);
  try {
    PickleCursor in(src, begin, end, what);
    for (;;) {
      // In place: 9 bytes hold an opcode and any fixed-size argument.
      const unsigned char* p = in.window();
      const unsigned char* lim = in.window_end();
      bool stay = true;
      while (stay && lim - p >= 9) {
        uint64_t n;
        switch (kArgs[*p]) {
          case kNothing: p += 1; break;
          case kFixed1: p += 2; break;
          case kFixed2: p += 3; break;
          case kFixed4: p += 5; break;
          case kFixed8: p += 9; break;
          case kCounted1:
            n = p[1];
            if (n > static_cast<uint64_t>(lim - p - 2)) stay = false;
            else p += 2 + n;
            break;
          case kCounted4:
            n = load_le(p + 1, 4);
            if (n > static_cast<uint64_t>(lim - p - 5)) stay = false;
            else p += 5 + n;
            break;
          case kCounted8:
            n = load_le(p + 1, 8);
            if (n > static_cast<uint64_t>(lim - p - 9)) stay = false;
            else p += 9 + n;
            break;
          case kGet1:
            if (!keys.add(p[1])) return out;
            p += 2;
            break;
          case kGet4:
            if (!keys.add(load_le(p + 1, 4))) return out;
            p += 5;
            break;
          default: stay = false; break;
        }
      }
      in.advance_to(p);
      // Through the cursor: one opcode.
      uint8_t op = in.byte();
      switch (kArgs[op]) {
        case kStop: {
          if (!keys.settle()) return out;
          out.dense_ = std::move(keys.dense);
          out.bits_ = keys.bits;
          out.sparse_ = std::move(keys.sparse);
          out.all_ = false;
          return out;
        }
        case kGetLine: {
          std::string text = in.line();
          char* endp = nullptr;
          unsigned long long key = std::strtoull(text.c_str(), &endp, 10);
          if (text.empty() || *endp != '\0') return out;
          if (!keys.add(key)) return out;
          break;
        }
        case kGet1: if (!keys.add(in.uint_le(1))) return out; break;
        case kGet4: if (!keys.add(in.uint_le(4))) return out; break;
        case kNothing: break;
        case kFixed1: in.skip(1); break;
        case kFixed2: in.skip(2); break;
        case kFixed4: in.skip(4); break;
        case kFixed8: in.skip(8); break;
        case kLine: in.line(); break;
        case kTwoLines: in.line(); in.line(); break;
        case kCounted1: in.skip(in.uint_le(1)); break;
        case kCounted4: in.skip(in.uint_le(4)); break;
        case kCounted8: in.skip(in.uint_le(8)); break;
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
