// The limits of ptscope/limits.h, each at the limit and one past it, with
// the exact error line. Where a limit is too large to reach in a unit test
// (1 GiB of paths, 20 M visits), its mechanism is tested through the
// limits struct the stage takes, in that stage's test (state_walk_test.cc,
// pickle_test.cc); safetensors' limits are in safetensors_test.cc.
#include <gtest/gtest.h>

#include "load_error.h"
#include "little_endian.h"
#include "pickle.h"
#include "pickle_builder.h"
#include "ptscope/error.h"
#include "ptscope/limits.h"
#include "torch_file_builder.h"
#include "zip.h"
#include "zip_builder.h"

namespace ptscope {
namespace {

namespace op = test::op;
using test::PickleAsm;

// --- kMaxTensorDims: torch pickles ------------------------------------------

std::string tensor_of_rank(size_t rank) {
  test::TensorSpec t;
  t.storage_numel = 1;
  t.shape.assign(rank, 1);
  t.stride.assign(rank, 1);
  return test::torch_zip(test::state_pickle(t).bytes, "0", std::string(4, '\0')).bytes;
}

TEST(Limits, TensorDimensions) {
  ASSERT_EQ(64u, limits::kMaxTensorDims);
  EXPECT_EQ("no error", test::load_error(tensor_of_rank(64)));
  std::string over = test::load_error(tensor_of_rank(65));
  EXPECT_EQ(0u, over.find("x.pt: tensor size has 65 dimensions, more than 64 at byte ")) << over;
}

// --- kMaxRebuildNesting ------------------------------------------------------

// _rebuild_from_type_v2 called `calls` times, each call's func the next
// one's: (rebuild, None, (rebuild, None, ... (builtins.print, None, ()))).
std::string rebuild_chain(int calls) {
  PickleAsm a;
  a.proto(2).put(op::EMPTY_DICT).str("w").global("torch._tensor", "_rebuild_from_type_v2");
  std::function<void(int)> args = [&](int k) {  // the tuple holding k more calls
    a.put(op::MARK);
    if (k > 0) a.global("torch._tensor", "_rebuild_from_type_v2");
    else a.global("builtins", "print");
    a.put(op::NONE);
    if (k > 0) args(k - 1);
    else a.put(op::EMPTY_TUPLE);
    a.put(op::TUPLE);
  };
  args(calls - 1);
  a.put({op::REDUCE, op::SETITEM});
  return test::torch_zip(a.stop().bytes()).bytes;
}

TEST(Limits, RebuildNesting) {
  ASSERT_EQ(16, limits::kMaxRebuildNesting);
  EXPECT_EQ("no error", test::load_error(rebuild_chain(16)));
  std::string over = test::load_error(rebuild_chain(17));
  EXPECT_EQ(0u, over.find("x.pt: _rebuild_from_type_v2 nested more than 16 deep at byte ")) << over;
}

// --- kInflateFloor, kInflatePerFileByte ----------------------------------------

TEST(Limits, InflateBudget) {
  ZipEntry e;
  e.name = "archive/data.pkl";
  e.data_offset = 40;
  uint64_t total = limits::kInflateFloor + 1000 * limits::kInflatePerFileByte;
  ASSERT_EQ((8u << 20) + 16000, total);
  InflateBudget at(1000);
  at.take(total - 1, e);
  at.take(1, e);  // exactly the budget
  InflateBudget past(1000);
  past.take(total, e);
  try {
    past.take(1, e);
    ADD_FAILURE() << "one byte past the budget was taken";
  } catch (const Error& err) {
    EXPECT_EQ("zip: records inflate to more than 8404608 bytes in all, at 'archive/data.pkl' at byte 40",
              err.describe());
  }
}

// The budget is the file's: two records of 6 MiB each fit alone, not both.
TEST(Limits, InflateBudgetIsPerFile) {
  std::string zeros(6u << 20, '\0');
  test::ZipBuilder z;
  z.add_deflated("a/one", zeros).add_deflated("a/two", zeros);
  std::string bytes = z.build();
  MemorySource src(bytes);
  ZipArchive zip = read_zip(src);
  InflateBudget budget(bytes.size());
  EXPECT_EQ(zeros.size(), read_zip_record(src, zip.entries[0], zeros.size(), budget).size());
  try {
    read_zip_record(src, zip.entries[1], zeros.size(), budget);
    ADD_FAILURE() << "the second record inflated";
  } catch (const Error& err) {
    EXPECT_EQ(0u, std::string(err.what()).find("zip: records inflate to more than ")) << err.what();
  }
}

// --- kPickleGraphFloor, kPickleGraphPerByte --------------------------------------

std::string graph_error(const std::string& pkl, uint64_t floor, uint64_t per_byte) {
  PickleLimits l;
  l.graph_floor = floor;
  l.graph_per_byte = per_byte;
  try {
    Pickle::parse(MemorySource(pkl), 0, pkl.size(), "t.pkl", nullptr, l);
  } catch (const Error& e) {
    return e.describe();
  }
  return "no error";
}

TEST(Limits, PickleGraphMemory) {
  // EMPTY_LIST, BININT2 300, APPEND: two values and one reference (300 is
  // past the shared small ints).
  std::string pkl = PickleAsm().proto(2).put(op::EMPTY_LIST).integer(300).put(op::APPEND).stop().bytes();
  ASSERT_EQ(8u, pkl.size());
  uint64_t need = 2 * sizeof(Value) + sizeof(Value*);
  EXPECT_EQ("no error", graph_error(pkl, need, 0));
  EXPECT_EQ("pickle values need more than " + std::to_string(need - 1) +
                " bytes of memory at byte 6",
            graph_error(pkl, need - 1, 0));
  // Per byte of the pickle (8 bytes): the floor plus 8 * per_byte.
  EXPECT_EQ("no error", graph_error(pkl, need - 8, 1));
  EXPECT_EQ("pickle values need more than " + std::to_string(need - 1) +
                " bytes of memory at byte 6",
            graph_error(pkl, need - 9, 1));
  // The shared values (None, bools, ints 0 to 255, the empty tuple) are
  // charged once, all together, when the first is made.
  std::string atoms = PickleAsm().proto(2).put(op::NONE).stop().bytes();
  uint64_t shared = 260 * sizeof(Value);
  EXPECT_EQ("no error", graph_error(atoms, shared, 0));
  EXPECT_EQ("pickle values need more than " + std::to_string(shared - 1) + " bytes of memory at byte 2",
            graph_error(atoms, shared - 1, 0));
  EXPECT_EQ(uint64_t{32} << 20, limits::kPickleGraphFloor);
  EXPECT_EQ(16u, limits::kPickleGraphPerByte);
}

// --- zip: overlapping records, stored sizes ----------------------------------------

TEST(Limits, ZipRecordsMayNotOverlap) {
  test::ZipBuilder z;
  z.add("a/one", std::string(64, 'x')).add("a/two", std::string(64, 'y'));
  std::string bytes = z.build();
  const auto& L = z.layout();
  // The second central entry points at the first record's local header.
  std::string twice = bytes;
  test::poke_le(twice, L.cd_offset + 46 + 5 + 42, L.header_offset[0], 4);
  EXPECT_EQ("x.pt: zip: records 'a/one' and 'a/two' overlap at byte 0", test::load_error(twice));
  EXPECT_EQ("x.pt: zip archive has no data.pkl record: not a torch checkpoint at byte 0",
            test::load_error(bytes));
}

TEST(Limits, StoredRecordSizesAgree) {
  test::ZipBuilder z;
  z.add("a/one", std::string(4, 'x'));
  std::string bytes = z.build();
  const auto& L = z.layout();
  test::poke_le(bytes, L.cd_offset + 24, 5, 4);  // uncompressed size 5 over 4 bytes
  EXPECT_EQ("x.pt: zip: stored record 'a/one' has 4 bytes but declares 5 at byte " +
                std::to_string(L.cd_offset),
            test::load_error(bytes));
}

}  // namespace
}  // namespace ptscope
