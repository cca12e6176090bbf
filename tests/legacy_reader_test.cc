// The legacy (non-zip) torch.save reader through the loader,
// read_checkpoint(src, "x.pt"): a good file from the test kit, then a table
// of hostile files (magic number, protocol version, key list, storage
// counts and data) with the exact one-line error each must give.
#include <gtest/gtest.h>

#include "load_error.h"
#include "pickle_builder.h"
#include "reader.h"
#include "torch_file_builder.h"

namespace ptscope {
namespace {

using test::legacy;
using test::Legacy;
using test::load_error;
using test::magic_pickle;
using test::PickleAsm;
using test::state_pickle;
using test::TensorSpec;
namespace op = test::op;

std::string n(uint64_t v) { return std::to_string(v); }

TEST(LegacyReaderTest, TheBuilderMakesAGoodFile) {
  Legacy l = legacy(state_pickle(TensorSpec(), true));
  Checkpoint d = read_checkpoint(MemorySource(l.bytes), "x.pt");
  EXPECT_EQ(Format::TorchLegacy, d.format);
  ASSERT_EQ(1u, d.tensors.size());
  EXPECT_EQ(6u, d.tensors[0].numel);
  EXPECT_EQ(l.data_at + 8, d.storages[0].file_offset);
}

std::vector<test::ErrorRow> rows() {
  std::vector<test::ErrorRow> r;
  const TensorSpec good;
  r.push_back({"legacy magic number wrong",
               magic_pickle("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x18") + "rest",
               "x.pt: legacy magic number is wrong: not a torch.save file at byte 0"});
  r.push_back({"legacy magic number an int", PickleAsm().proto(2).integer(7).stop().bytes(),
               "x.pt: legacy magic number is wrong: not a torch.save file at byte 0"});
  r.push_back({"a plain pickle", PickleAsm().proto(2).put(op::EMPTY_DICT).stop().bytes(),
               "x.pt: legacy magic number is wrong: not a torch.save file at byte 0"});
  r.push_back({"legacy magic number unterminated", magic_pickle().substr(0, 10),
               "x.pt: legacy magic number: argument of 10 bytes runs past the end (6 left) at "
               "byte 4"});
  {
    Legacy l = legacy(state_pickle(good, true), 6, 24, 1000);
    r.push_back({"legacy protocol version", l.bytes,
                 "x.pt: unsupported legacy protocol version at byte 15"});
  }
  r.push_back({"legacy file cut after the magic number", magic_pickle(),
               "x.pt: legacy protocol version: pickle ends without a STOP opcode at byte 15"});
  {
    Legacy l = legacy(state_pickle(good, true), 3, 12);
    r.push_back({"legacy storage smaller than declared", l.bytes,
                 "x.pt: storage '0' holds 3 elements but is declared with 6 at byte " +
                     n(l.data_at)});
  }
  {
    Legacy l = legacy(state_pickle(good, true), 6, 23);
    r.push_back({"legacy storage cut short", l.bytes,
                 "x.pt: storage '0' (6 elements) runs past the end of the file at byte " +
                     n(l.data_at)});
  }
  {
    Legacy l = legacy(state_pickle(good, true), 6, 24);
    l.bytes.resize(l.data_at + 4);
    r.push_back({"legacy storage count cut short", l.bytes,
                 "x.pt: legacy storage size: 8 bytes run past the end of the data (" +
                     n(l.data_at + 4) + " bytes) at byte " + n(l.data_at)});
  }
  {
    Legacy l = legacy(state_pickle(good, true), int64_t{1} << 61, 24);
    r.push_back({"legacy storage count huge", l.bytes,
                 "x.pt: storage '0' (2305843009213693952 elements) runs past the end of the "
                 "file at byte " +
                     n(l.data_at)});
  }
  {
    Legacy l = legacy(state_pickle(good, true));
    l.bytes.resize(l.keys_at);
    r.push_back({"legacy file without a key list", l.bytes,
                 "x.pt: legacy storage key list: pickle ends without a STOP opcode at byte " +
                     n(l.keys_at)});
  }
  {
    TensorSpec t = good;
    t.offset = 1;
    test::StatePickle p = state_pickle(t, true);
    Legacy l = legacy(p);
    r.push_back({"legacy tensor past its storage", l.bytes,
                 "x.pt: tensor reaches past the end of storage '0' at byte " +
                     n(l.object_at + p.rebuild_at)});
  }
  return r;
}

TEST(LegacyReaderErrors, Table) {
  test::expect_load_errors(rows());
}

}  // namespace
}  // namespace ptscope
