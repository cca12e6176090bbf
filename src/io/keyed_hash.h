// Hash tables keyed by what a file says (tensor and storage names, global
// names, memo keys) hash with SipHash-1-3 under a key drawn at random per
// process. std::hash is unkeyed (the identity for integers, MurmurHash for
// strings, which has seed-independent multicollisions): a file could pick
// names that all land in one bucket and turn each lookup into a scan of
// every name, a hang in n^2. SipHash is Aumasson and Bernstein's keyed PRF
// ("SipHash: a fast short-input PRF", 2012), written here from the paper.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ptscope {

// SipHash-c-d of `data` under the 128-bit key (k0, k1).
uint64_t siphash(std::string_view data, uint64_t k0, uint64_t k1, int c = 1, int d = 3);

// The per-process key; tests may fix it.
struct HashKey {
  uint64_t k0, k1;
};
const HashKey& process_hash_key();

// For std::unordered_map/set over strings or integers from a file.
struct KeyedHash {
  size_t operator()(std::string_view s) const;
  size_t operator()(const std::string& s) const { return (*this)(std::string_view(s)); }
  size_t operator()(uint64_t v) const;
};

}  // namespace ptscope
