// Zip, safetensors, legacy torch files and pickles store their integers
// little-endian whatever the host; this is the one place they are decoded.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ptscope {

// The n-byte (n <= 8) little-endian unsigned integer at p.
inline uint64_t load_le(const unsigned char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

template <typename T>
T load_le(const void* p) {
  return static_cast<T>(load_le(static_cast<const unsigned char*>(p), sizeof(T)));
}

}  // namespace ptscope
