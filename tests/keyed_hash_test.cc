#include "keyed_hash.h"

#include <gtest/gtest.h>

#include <string>

namespace ptscope {
namespace {

std::string bytes_0_to(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(i));
  return s;
}

// The paper's SipHash-2-4 vectors (appendix A and the reference vectors.h):
// key 00 01 .. 0f, messages 00 01 .. (n-1).
TEST(KeyedHash, SipHash24MatchesThePapersVectors) {
  std::string key = bytes_0_to(16);
  uint64_t k0 = 0, k1 = 0;
  for (int i = 0; i < 8; ++i) {
    k0 |= static_cast<uint64_t>(static_cast<unsigned char>(key[i])) << (8 * i);
    k1 |= static_cast<uint64_t>(static_cast<unsigned char>(key[8 + i])) << (8 * i);
  }
  EXPECT_EQ(siphash(bytes_0_to(0), k0, k1, 2, 4), 0x726fdb47dd0e0e31ull);
  EXPECT_EQ(siphash(bytes_0_to(15), k0, k1, 2, 4), 0xa129ca6149be45e5ull);
}

TEST(KeyedHash, DependsOnTheKeyAndEveryByte) {
  EXPECT_NE(siphash("storage/0", 1, 2), siphash("storage/0", 1, 3));
  EXPECT_NE(siphash("storage/0", 1, 2), siphash("storage/1", 1, 2));
  EXPECT_NE(siphash(std::string("a\0", 2), 1, 2), siphash("a", 1, 2));
  KeyedHash h;
  EXPECT_EQ(h(std::string("x")), h(std::string_view("x")));
  EXPECT_NE(h(uint64_t{0}), h(uint64_t{1}));
}

}  // namespace
}  // namespace ptscope
