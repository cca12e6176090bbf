// FlatSet against std::set: random inserts, finds and erases, with a good
// hash and with one that sends every key home to one slot (every probe run
// and every backward shift exercised).
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "flat_set.h"
#include "keyed_hash.h"

namespace ptscope {
namespace {

struct Collide {
  size_t operator()(int) const { return 7; }
};

template <class Hash>
void against_std_set(unsigned seed, int range) {
  std::mt19937 rng(seed);
  FlatSet<int, Hash, std::equal_to<>> flat;
  std::set<int> ref;
  for (int step = 0; step < 20000; ++step) {
    int k = static_cast<int>(rng() % static_cast<unsigned>(range));
    switch (rng() % 3) {
      case 0: ASSERT_EQ(flat.insert(k), ref.insert(k).second) << "insert " << k; break;
      case 1: ASSERT_EQ(flat.erase(k), ref.erase(k) == 1) << "erase " << k; break;
      default: ASSERT_EQ(flat.contains(k), ref.count(k) == 1) << "find " << k; break;
    }
    ASSERT_EQ(flat.size(), ref.size());
  }
  for (int k = 0; k < range; ++k) ASSERT_EQ(flat.contains(k), ref.count(k) == 1) << k;
}

TEST(FlatSet, AgreesWithStdSet) {
  against_std_set<std::hash<int>>(1, 1000);
  against_std_set<std::hash<int>>(2, 50);
  against_std_set<Collide>(3, 200);
}

// Indices into a table, looked up by the table's keys: the shape the torch
// hooks use for storages by key.
TEST(FlatSet, IndicesLookedUpByKey) {
  std::vector<std::string> keys;
  struct KeyOf {
    const std::vector<std::string>* keys;
    size_t operator()(uint32_t i) const { return KeyedHash()((*keys)[i]); }
    size_t operator()(std::string_view k) const { return KeyedHash()(k); }
    bool operator()(uint32_t i, uint32_t j) const { return (*keys)[i] == (*keys)[j]; }
    bool operator()(uint32_t i, std::string_view k) const { return (*keys)[i] == k; }
  };
  FlatSet<uint32_t, KeyOf, KeyOf> by_key(KeyOf{&keys}, KeyOf{&keys});
  for (int i = 0; i < 5000; ++i) {
    keys.push_back("archive/data/" + std::to_string(i));
    ASSERT_TRUE(by_key.insert(static_cast<uint32_t>(keys.size() - 1)));
  }
  keys.push_back("archive/data/17");  // a second index for a key already there
  EXPECT_FALSE(by_key.insert(static_cast<uint32_t>(keys.size() - 1)));
  const uint32_t* found = by_key.find(std::string_view("archive/data/4321"));
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(*found, 4321u);
  EXPECT_EQ(by_key.find(std::string_view("archive/data/5000")), nullptr);
  by_key.clear();
  EXPECT_TRUE(by_key.empty());
  EXPECT_EQ(by_key.find(std::string_view("archive/data/1")), nullptr);
}

}  // namespace
}  // namespace ptscope
