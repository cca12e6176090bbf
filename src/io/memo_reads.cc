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

}  // namespace

MemoReads MemoReads::of(const ByteSource& src, uint64_t begin, uint64_t end,
                        const std::string& what, uint64_t max_keys) {
  MemoReads out;
  std::vector<uint64_t> keys;
  size_t compacted = 1024;  // repeats are dropped each time the list doubles
  try {
    PickleCursor in(src, begin, end, what);
    for (;;) {
      uint8_t op = in.byte();
      switch (op) {
        case '.': {
          if (!compact(keys, max_keys)) return out;
          out.keys_ = std::move(keys);
          out.all_ = false;
          return out;
        }
        // GET, BINGET, LONG_BINGET: the reads.
        case 'g': {
          std::string text = in.line();
          char* endp = nullptr;
          unsigned long long key = std::strtoull(text.c_str(), &endp, 10);
          if (text.empty() || *endp != '\0') return out;
          keys.push_back(key);
          break;
        }
        case 'h': keys.push_back(in.uint_le(1)); break;
        case 'j': keys.push_back(in.uint_le(4)); break;
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
      if (keys.size() >= 2 * compacted) {
        if (!compact(keys, max_keys)) return out;
        compacted = std::max<size_t>(compacted, keys.size());
      }
    }
  } catch (const Error&) {
    return out;  // the interpreter fails there too, with its own message
  }
}

bool MemoReads::is_read(uint64_t key) const {
  return all_ || std::binary_search(keys_.begin(), keys_.end(), key);
}

}  // namespace ptscope
