#include "keyed_hash.h"

#include <random>

#include "little_endian.h"

namespace ptscope {
namespace {

uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

struct SipState {
  uint64_t v0, v1, v2, v3;
  void round() {
    v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
    v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
  }
  void absorb(uint64_t m, int c) {
    v3 ^= m;
    for (int i = 0; i < c; ++i) round();
    v0 ^= m;
  }
};

}  // namespace

uint64_t siphash(std::string_view data, uint64_t k0, uint64_t k1, int c, int d) {
  SipState s{k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull, k0 ^ 0x6c7967656e657261ull,
             k1 ^ 0x7465646279746573ull};
  size_t full = data.size() / 8 * 8;
  for (size_t i = 0; i < full; i += 8) s.absorb(load_le<uint64_t>(data.data() + i), c);
  // The last block: the leftover bytes, little-endian, and the length's low
  // byte on top.
  uint64_t last = static_cast<uint64_t>(data.size() & 0xff) << 56;
  for (size_t i = full; i < data.size(); ++i)
    last |= static_cast<uint64_t>(static_cast<unsigned char>(data[i])) << (8 * (i - full));
  s.absorb(last, c);
  s.v2 ^= 0xff;
  for (int i = 0; i < d; ++i) s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

const HashKey& process_hash_key() {
  static const HashKey key = [] {
    std::random_device rd;
    auto word = [&] { return (static_cast<uint64_t>(rd()) << 32) ^ rd(); };
    return HashKey{word(), word()};
  }();
  return key;
}

size_t KeyedHash::operator()(std::string_view s) const {
  const HashKey& k = process_hash_key();
  return static_cast<size_t>(siphash(s, k.k0, k.k1));
}

size_t KeyedHash::operator()(uint64_t v) const {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(v >> (8 * i));
  const HashKey& k = process_hash_key();
  return static_cast<size_t>(siphash(std::string_view(bytes, 8), k.k0, k.k1));
}

}  // namespace ptscope
