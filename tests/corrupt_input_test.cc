// Corrupt and hostile inputs through the loader, read_checkpoint(src, "x.pt"):
// a table of hand-built broken files with the exact one-line error each must
// give, then every truncation and thousands of single-byte corruptions of
// real fixtures, which must each load or fail with a ptscope::Error.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>

#include "ptscope/error.h"
#include "reader.h"
#include "state_walk.h"
#include "test_util.h"
#include "torch_hooks.h"

namespace ptscope {
namespace {

using test::PickleAsm;
using test::ZipBuilder;
namespace op = test::op;

std::string n(uint64_t v) { return std::to_string(v); }

// What torch.save puts in data.pkl for {'w': tensor}, as a protocol-2
// pickle with one _rebuild_tensor_v2 call over a persistent storage id.
struct TensorSpec {
  std::string storage_class = "FloatStorage";
  std::string key = "0";
  int64_t storage_numel = 6;
  int64_t offset = 0;
  std::vector<int64_t> shape = {2, 3}, stride = {3, 1};
};

struct StatePickle {
  std::string bytes;
  uint64_t rebuild_at = 0;  // the GLOBAL torch._utils._rebuild_tensor_v2
  uint64_t pid_at = 0;      // the TUPLE that closes the persistent id
};

// Protocol-2 pickles have one PROTO; legacy object pickles are the same.
StatePickle state_pickle(const TensorSpec& t, bool legacy = false) {
  PickleAsm a;
  a.proto(2).global("collections", "OrderedDict").put(op::BINPUT).u8(0);
  a.put({op::EMPTY_TUPLE, op::REDUCE}).put(op::BINPUT).u8(1).put(op::MARK).str("w");
  StatePickle out;
  out.rebuild_at = a.size();
  a.global("torch._utils", "_rebuild_tensor_v2").put({op::MARK, op::MARK}).str("storage");
  a.global("torch", t.storage_class).str(t.key).str("cpu").integer(t.storage_numel);
  if (legacy) a.put(op::NONE);
  out.pid_at = a.size();
  a.put({op::TUPLE, op::BINPERSID}).integer(t.offset).put(op::MARK);
  for (int64_t d : t.shape) a.integer(d);
  a.put({op::TUPLE, op::MARK});
  for (int64_t s : t.stride) a.integer(s);
  a.put({op::TUPLE, op::NEWFALSE}).global("collections", "OrderedDict");
  a.put({op::EMPTY_TUPLE, op::REDUCE, op::TUPLE, op::REDUCE, op::SETITEMS, op::STOP});
  out.bytes = a.bytes();
  return out;
}

// A torch.save zip: archive/data.pkl, archive/data/<key>, archive/version.
struct TorchZip {
  std::string bytes;
  ZipBuilder::Layout layout;  // records in the order above
};

TorchZip torch_zip(const std::string& pkl, const std::string& key = "0",
                   const std::string& storage = std::string(24, '\0')) {
  ZipBuilder::Options o;
  o.align = true;
  o.descriptors = true;
  ZipBuilder z(o);
  z.add("archive/data.pkl", pkl).add("archive/data/" + key, storage).add("archive/version", "3\n");
  TorchZip out;
  out.bytes = z.build();
  out.layout = z.layout();
  return out;
}

// The legacy (non-zip) torch.save layout: magic, protocol, sys_info,
// object, key list, then per storage an int64 count and the elements.
struct Legacy {
  std::string bytes;
  uint64_t object_at = 0, keys_at = 0, data_at = 0;
};

std::string magic_pickle(const std::string& le_bytes = "\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19") {
  return PickleAsm().proto(2).put(op::LONG1).u8(le_bytes.size()).raw(le_bytes).stop().bytes();
}

Legacy legacy(const StatePickle& object, int64_t count = 6, size_t data_bytes = 24,
              int protocol_version = 1001) {
  Legacy out;
  out.bytes = magic_pickle();
  out.bytes += PickleAsm().proto(2).integer(protocol_version).stop().bytes();
  out.bytes += PickleAsm().proto(2).put({op::EMPTY_DICT, op::MARK}).str("protocol_version")
                   .integer(1001).str("little_endian").put(op::NEWTRUE).str("type_sizes")
                   .put({op::EMPTY_DICT, op::SETITEMS, op::STOP}).bytes();
  out.object_at = out.bytes.size();
  out.bytes += object.bytes;
  out.keys_at = out.bytes.size();
  out.bytes += PickleAsm().proto(2).put(op::EMPTY_LIST).str("0").put({op::APPEND, op::STOP}).bytes();
  out.data_at = out.bytes.size();
  test::put_le(out.bytes, static_cast<uint64_t>(count), 8);
  out.bytes += std::string(data_bytes, '\0');
  return out;
}

std::string load_error(const std::string& bytes) {
  try {
    read_checkpoint(MemorySource(bytes), "x.pt");
  } catch (const Error& e) {
    return e.describe();
  }
  return "no error";
}

TEST(CorruptInputTest, TheBuildersMakeGoodFiles) {
  TensorSpec t;
  TorchZip z = torch_zip(state_pickle(t).bytes);
  Checkpoint c = read_checkpoint(MemorySource(z.bytes), "x.pt");
  EXPECT_EQ(Format::TorchZip, c.format);
  ASSERT_EQ(1u, c.tensors.size());
  EXPECT_EQ("w", c.tensors[0].name);
  EXPECT_EQ((std::vector<int64_t>{2, 3}), c.tensors[0].shape);
  ASSERT_EQ(1u, c.storages.size());
  EXPECT_EQ(24u, c.storages[0].nbytes);
  EXPECT_EQ(z.layout.data_offset[1], c.storages[0].file_offset);

  Legacy l = legacy(state_pickle(t, true));
  Checkpoint d = read_checkpoint(MemorySource(l.bytes), "x.pt");
  EXPECT_EQ(Format::TorchLegacy, d.format);
  ASSERT_EQ(1u, d.tensors.size());
  EXPECT_EQ(6u, d.tensors[0].numel);
  EXPECT_EQ(l.data_at + 8, d.storages[0].file_offset);
}

struct Row {
  const char* name;
  std::string input;
  std::string expected;
};

std::vector<Row> rows() {
  std::vector<Row> r;
  const TensorSpec good;
  auto with = [&](const std::function<void(TensorSpec&)>& f) {
    TensorSpec t = good;
    f(t);
    return t;
  };

  r.push_back({"empty file", "", "x.pt: file is empty at byte 0"});
  r.push_back({"three bytes", "abc",
               "x.pt: not a PyTorch checkpoint: no zip signature, safetensors header or pickle "
               "protocol marker at byte 0"});
  r.push_back({"wrong magic", "GIF89a" + std::string(100, '\0'),
               "x.pt: not a PyTorch checkpoint: no zip signature, safetensors header or pickle "
               "protocol marker at byte 0"});
  r.push_back({"zip signature only", "PK\x03\x04", "x.pt: zip: file too small for an end of "
                                                   "central directory record at byte 0"});
  r.push_back({"zip signature and garbage", "PK\x03\x04" + std::string(100, 'g'),
               "x.pt: zip: no end of central directory record at byte 0"});
  {
    ZipBuilder z;
    z.add("archive/data/0", std::string(24, '\0')).add("archive/version", "3\n");
    r.push_back({"zip without data.pkl", z.build(),
                 "x.pt: zip archive has no data.pkl record: not a torch checkpoint at byte 0"});
  }
  {
    ZipBuilder z;
    z.add("archive/x/data.pkl", state_pickle(good).bytes);
    r.push_back({"data.pkl in a subfolder", z.build(),
                 "x.pt: zip archive has no data.pkl record: not a torch checkpoint at byte 0"});
  }
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
    // Declared with 100 elements, the record holds 24 bytes.
    TorchZip z = torch_zip(state_pickle(with([](TensorSpec& t) { t.storage_numel = 100; })).bytes);
    r.push_back({"zip storage bigger than its record", z.bytes,
                 "x.pt: storage '0' declares 400 bytes but record data/0 holds 24 at byte " +
                     n(z.layout.header_offset[1])});
  }
  {
    StatePickle p = state_pickle(with([](TensorSpec& t) { t.key = "7"; }));
    TorchZip z = torch_zip(p.bytes, "0");
    r.push_back({"zip storage without a record", z.bytes,
                 "x.pt: storage '7' has no record data/7 at byte " +
                     n(z.layout.data_offset[0] + p.pid_at)});
  }
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
    StatePickle p = state_pickle(good, true);
    Legacy l = legacy(p);
    l.bytes.resize(l.keys_at);
    r.push_back({"legacy file without a key list", l.bytes,
                 "x.pt: legacy storage key list: pickle ends without a STOP opcode at byte " +
                     n(l.keys_at)});
  }
  // Views that reach past their storage (6 float32 elements).
  struct Reach {
    const char* name;
    int64_t offset;
    std::vector<int64_t> shape, stride;
  };
  const Reach reaches[] = {
      {"tensor offset past its storage", 1, {2, 3}, {3, 1}},
      {"tensor stride past its storage", 0, {2, 3}, {4, 1}},
      {"tensor shape past its storage", 0, {7}, {1}},
      {"tensor offset 2**62", int64_t{1} << 62, {1}, {1}},
      {"tensor offset 2**63-1", INT64_MAX, {1}, {1}},
  };
  for (const Reach& x : reaches) {
    StatePickle p = state_pickle(with([&](TensorSpec& t) {
      t.offset = x.offset;
      t.shape = x.shape;
      t.stride = x.stride;
    }));
    TorchZip z = torch_zip(p.bytes);
    r.push_back({x.name, z.bytes,
                 "x.pt: tensor reaches past the end of storage '0' at byte " +
                     n(z.layout.data_offset[0] + p.rebuild_at)});
  }
  {
    StatePickle p = state_pickle(with([](TensorSpec& t) { t.offset = 1; }), true);
    Legacy l = legacy(p);
    r.push_back({"legacy tensor past its storage", l.bytes,
                 "x.pt: tensor reaches past the end of storage '0' at byte " +
                     n(l.object_at + p.rebuild_at)});
  }
  // Huge declared sizes: refused without arithmetic overflow.
  struct Huge {
    const char* name;
    TensorSpec spec;
    const char* message;
  };
  const Huge huge[] = {
      {"tensor numel overflows", with([](TensorSpec& t) {
         t.shape = {int64_t{1} << 40, int64_t{1} << 40};
         t.stride = {1, 1};
       }),
       "tensor numel overflows"},
      {"tensor extent overflows", with([](TensorSpec& t) {
         t.shape = {3};
         t.stride = {int64_t{1} << 62};
       }),
       "tensor extent overflows"},
      {"tensor negative size", with([](TensorSpec& t) {
         t.shape = {-1};
         t.stride = {1};
       }),
       "tensor has a negative size or stride"},
      {"tensor negative offset", with([](TensorSpec& t) { t.offset = -1; }),
       "tensor has a negative storage offset"},
      {"tensor size and stride lengths", with([](TensorSpec& t) { t.stride = {1}; }),
       "tensor size and stride have different lengths"},
  };
  for (const Huge& h : huge) {
    StatePickle p = state_pickle(h.spec);
    TorchZip z = torch_zip(p.bytes);
    r.push_back({h.name, z.bytes,
                 std::string("x.pt: ") + h.message + " at byte " +
                     n(z.layout.data_offset[0] + p.rebuild_at)});
  }
  {
    // 2**62 float32 elements: 2**64 bytes, which must not wrap to 0.
    StatePickle p = state_pickle(with([](TensorSpec& t) {
      t.storage_numel = int64_t{1} << 62;
      t.shape = {0};
      t.stride = {1};
    }));
    TorchZip z = torch_zip(p.bytes);
    r.push_back({"storage of 2**64 bytes", z.bytes,
                 "x.pt: storage '0' declares an absurd size at byte " +
                     n(z.layout.data_offset[0] + p.pid_at)});
  }
  {
    StatePickle p = state_pickle(with([](TensorSpec& t) { t.storage_numel = INT64_MAX; }));
    TorchZip z = torch_zip(p.bytes);
    r.push_back({"storage of 2**63-1 elements", z.bytes,
                 "x.pt: storage '0' declares an absurd size at byte " +
                     n(z.layout.data_offset[0] + p.pid_at)});
  }
  {
    StatePickle p = state_pickle(with([](TensorSpec& t) { t.storage_numel = -6; }));
    TorchZip z = torch_zip(p.bytes);
    r.push_back({"storage of negative size", z.bytes,
                 "x.pt: storage '0' has a negative size at byte " +
                     n(z.layout.data_offset[0] + p.pid_at)});
  }
  {
    StatePickle p = state_pickle(with([](TensorSpec& t) { t.storage_class = "WeirdStorage"; }));
    TorchZip z = torch_zip(p.bytes);
    r.push_back({"unknown storage class", z.bytes,
                 "x.pt: unknown storage type 'torch.WeirdStorage' at byte " +
                     n(z.layout.data_offset[0] + p.pid_at)});
  }
  {
    // A memo reference to a slot never stored, in place of the storage key.
    PickleAsm a;
    a.proto(2).put(op::EMPTY_DICT).str("w").put(op::BINGET).u8(9);
    a.put({op::SETITEM, op::STOP});
    TorchZip z = torch_zip(a.bytes());
    r.push_back({"bad memo reference in data.pkl", z.bytes,
                 "x.pt: data.pkl: memo key 9 was never stored at byte " +
                     n(z.layout.data_offset[0] + 9)});
  }
  {
    std::string pkl = state_pickle(good).bytes;
    std::string bad = pkl;
    size_t get = bad.find(std::string("\x71\x01", 2));  // BINPUT 1 -> BINGET 1 before any PUT 1
    bad[get] = 'h';
    TorchZip z = torch_zip(bad);
    r.push_back({"memo reference before its PUT", z.bytes,
                 "x.pt: data.pkl: memo key 1 was never stored at byte " +
                     n(z.layout.data_offset[0] + get)});
  }
  {
    std::string pkl = state_pickle(good).bytes;
    pkl.pop_back();  // no STOP
    TorchZip z = torch_zip(pkl);
    r.push_back({"data.pkl without STOP", z.bytes,
                 "x.pt: data.pkl: pickle ends without a STOP opcode at byte " +
                     n(z.layout.data_offset[0] + pkl.size())});
  }
  {
    PickleAsm a;
    a.proto(2).str("storage").put(op::BINPERSID).stop();
    TorchZip z = torch_zip(a.bytes());
    r.push_back({"persistent id not a tuple", z.bytes,
                 "x.pt: persistent id is not a ('storage', ...) tuple at byte " +
                     n(z.layout.data_offset[0] + 2)});
  }
  {
    ZipBuilder::Options o;
    ZipBuilder zb(o);
    zb.add_raw("archive/data.pkl", "not deflate", 8, 50);
    std::string bytes = zb.build();
    r.push_back({"deflated data.pkl that does not inflate", bytes,
                 "x.pt: zip: record 'archive/data.pkl' does not inflate to its declared 50 "
                 "bytes at byte " +
                     n(zb.layout().data_offset[0])});
  }
  {
    // 300 nested lists: parsed fine, too deep to name tensors in.
    std::string pkl = "\x80\x02" + std::string(300, ']') + std::string(299, 'a') + ".";
    TorchZip z = torch_zip(pkl);
    r.push_back({"objects nested 300 deep", z.bytes,
                 "x.pt: objects nested deeper than 200 levels at byte " +
                     n(z.layout.data_offset[0] + 2 + 201)});
  }
  return r;
}

TEST(CorruptInputTest, Table) {
  for (const Row& row : rows()) {
    SCOPED_TRACE(row.name);
    EXPECT_EQ(row.expected, load_error(row.input));
  }
}

TEST(CorruptInputTest, ControlCharactersStayOnOneLine) {
  // Names come from the file; a newline in one must not split the message.
  ZipBuilder z;
  z.add("archive/data.pkl", "x").add("archive/data\n/0", "y");
  std::string bytes = z.build();
  bytes[z.layout().header_offset[1] + 1] = 'Q';
  EXPECT_EQ("x.pt: zip: bad local header signature for 'archive/data\\x0a/0' at byte " +
                n(z.layout().header_offset[1]),
            load_error(bytes));
  TensorSpec t;
  t.key = "k\r\ney";
  TorchZip tz = torch_zip(state_pickle(t).bytes);
  std::string e = load_error(tz.bytes);
  EXPECT_EQ(0u, e.find("x.pt: storage 'k\\x0d\\x0aey' has no record data/k\\x0d\\x0aey")) << e;
}

TEST(CorruptInputTest, ACodeFileEndingInBlanksLoads) {
  // TorchScript: a code/ file whose last line is only spaces.
  ZipBuilder z;
  z.add("m/data.pkl", PickleAsm().proto(2).put(op::EMPTY_DICT).stop().bytes())
      .add("m/code/__torch__/a.py", "class A(Module):\n  __parameters__ = []\n  ")
      .add("m/constants.pkl", PickleAsm().proto(2).put(op::EMPTY_TUPLE).stop().bytes());
  EXPECT_EQ("no error", load_error(z.build()));
}

// Shared containers: [[x, x], [x, x]] ... `depth` levels over one tensor x,
// so a pickle of a few hundred bytes names 2**depth entries.
std::string shared_lists(int depth) {
  PickleAsm a;
  a.proto(2).global("torch._utils", "_rebuild_tensor_v2").put({op::MARK, op::MARK})
      .str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(1)
      .put({op::TUPLE, op::BINPERSID}).integer(0).integer(1).put(op::TUPLE1).integer(1)
      .put({op::TUPLE1, op::NEWFALSE, op::EMPTY_TUPLE, op::TUPLE, op::REDUCE})
      .put(op::BINPUT).u8(0);
  for (int i = 1; i <= depth; ++i)
    a.put({op::POP, op::EMPTY_LIST}).put(op::BINGET).u8(i - 1).put(op::APPEND)
        .put(op::BINGET).u8(i - 1).put(op::APPEND).put(op::BINPUT).u8(i);
  return a.stop().bytes();
}

std::string walk_error(const std::string& pkl, WalkLimits limits) {
  MemorySource src(pkl);
  TorchHooks hooks(TorchHooks::Flavor::Zip);
  auto p = Pickle::parse(src, 0, src.size(), "data.pkl", &hooks);
  try {
    walk_state(p->root(), hooks.tensors, nullptr, limits);
  } catch (const Error& e) {
    return e.describe();
  }
  return "no error";
}

TEST(CorruptInputTest, SharedContainersNameBoundedEntries) {
  WalkLimits l;
  l.max_entries = 1000;
  EXPECT_EQ("no error", walk_error(shared_lists(9), l));  // 512 entries
  EXPECT_EQ("object graph names more than 1000 tensor entries at byte 2",
            walk_error(shared_lists(10), l));
  l.max_name_bytes = 5000;
  EXPECT_EQ("object graph paths add up to more than 5000 bytes at byte 2",
            walk_error(shared_lists(9), l));
}

TEST(CorruptInputTest, LongKeysNameBoundedBytes) {
  // One 64 KiB key, memoized, on every level of a 150-deep chain of dicts
  // {key: {key: ...}}: the names would add up to 700 MiB (the default limit
  // is 256 MiB; here 1 MiB, reached at the dict 6 levels down).
  PickleAsm a;
  a.proto(2).str(std::string(64 << 10, 'k')).put(op::LONG_BINPUT).u32(1000).put(op::POP);
  a.put(op::NONE).put(op::BINPUT).u8(0);
  std::vector<uint64_t> dict_at;
  for (int i = 1; i <= 150; ++i) {
    a.put(op::POP);
    dict_at.push_back(a.size());
    a.put({op::EMPTY_DICT, op::MARK}).put(op::LONG_BINGET).u32(1000).put(op::BINGET).u8(i - 1)
        .put(op::SETITEMS).put(op::BINPUT).u8(i);
  }
  WalkLimits l;
  l.max_name_bytes = 1 << 20;
  EXPECT_EQ("object graph paths add up to more than 1048576 bytes at byte " +
                n(dict_at[150 - 6 - 1]),
            walk_error(a.stop().bytes(), l));
}

// ---------------------------------------------------------------------------
// Every truncation and many single-byte corruptions of real files.

// Loads `bytes`; a failure must be a ptscope::Error naming the file on one
// line, and not a library exception the loader had to wrap.
void expect_clean(const std::string& bytes, const std::string& what) {
  try {
    Checkpoint c = read_checkpoint(MemorySource(bytes), "x.pt");
    EXPECT_EQ(bytes.size(), c.file_bytes) << what;
  } catch (const Error& e) {
    std::string d = e.describe();
    EXPECT_EQ(0u, d.rfind("x.pt: ", 0)) << what << ": " << d;
    EXPECT_EQ(std::string::npos, d.find('\n')) << what << ": " << d;
    EXPECT_EQ(std::string::npos, d.find("unexpected failure")) << what << ": " << d;
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": not a ptscope::Error: " << e.what();
  } catch (...) {
    ADD_FAILURE() << what << ": threw something that is not an exception";
  }
}

class CorruptFixture : public testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    bytes_ = test::slurp(test::fixture(GetParam()));
    ASSERT_GT(bytes_.size(), 1000u) << GetParam();
  }
  std::string bytes_;
};

TEST_P(CorruptFixture, LoadsIntact) {
  Checkpoint c = read_checkpoint(MemorySource(bytes_), "x.pt");
  EXPECT_FALSE(c.tensors.empty());
}

TEST_P(CorruptFixture, EveryTruncation) {
  for (size_t len = 0; len < bytes_.size(); ++len) {
    expect_clean(bytes_.substr(0, len), "truncated to " + n(len));
    if (HasFailure()) return;  // one report, not thousands
  }
}

TEST_P(CorruptFixture, SingleByteCorruptions) {
  // Half the positions anywhere, half in the bytes that are not tensor data
  // (headers, pickles, directories), where a change means something.
  Checkpoint intact = read_checkpoint(MemorySource(bytes_), "x.pt");
  std::vector<bool> is_data(bytes_.size(), false);
  for (const Region& r : intact.regions)
    if (r.label == "tensor data")
      for (uint64_t i = r.offset; i < std::min<uint64_t>(r.offset + r.size, bytes_.size()); ++i)
        is_data[i] = true;
  std::vector<size_t> structure;
  for (size_t i = 0; i < bytes_.size(); ++i)
    if (!is_data[i]) structure.push_back(i);
  ASSERT_FALSE(structure.empty());

  std::mt19937_64 rng(0x5eed);
  for (int k = 0; k < 2000; ++k) {
    size_t pos = k % 2 ? structure[rng() % structure.size()] : rng() % bytes_.size();
    auto flip = static_cast<char>(1 + rng() % 255);  // never 0: the byte changes
    std::string bad = bytes_;
    bad[pos] = static_cast<char>(bad[pos] ^ flip);
    expect_clean(bad, "byte " + n(pos) + " xor " + n(static_cast<uint8_t>(flip)));
    if (HasFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CorruptFixture,
                         testing::Values("cnn_state_dict.pt", "cnn_legacy.pt", "scripted_cnn.pt",
                                         "model.safetensors"),
                         [](const testing::TestParamInfo<const char*>& info) {
                           std::string s = info.param;
                           for (char& ch : s)
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return s;
                         });

}  // namespace
}  // namespace ptscope
