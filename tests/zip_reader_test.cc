// The torch.save zip reader through the loader, read_checkpoint(src, "x.pt"):
// a good archive from the test kit, then a table of hostile archives with
// the exact one-line error each must give. The zip container's own errors
// (end records, central directory, local headers) are in zip_test.cc; the
// errors inside data.pkl in torch_pickle_test.cc.
#include <gtest/gtest.h>

#include <functional>

#include "load_error.h"
#include "pickle_builder.h"
#include "reader.h"
#include "torch_file_builder.h"
#include "zip_builder.h"

namespace ptscope {
namespace {

using test::load_error;
using test::PickleAsm;
using test::state_pickle;
using test::TensorSpec;
using test::torch_zip;
using test::TorchZip;
using test::ZipBuilder;

std::string n(uint64_t v) { return std::to_string(v); }

TEST(ZipReaderTest, TheBuilderMakesAGoodFile) {
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
}

TEST(ZipReaderTest, ACodeFileEndingInBlanksLoads) {
  // TorchScript: a code/ file whose last line is only spaces.
  EXPECT_EQ("no error",
            load_error(test::torchscript_zip("class A(Module):\n  __parameters__ = []\n  ")));
}

std::vector<test::ErrorRow> rows() {
  std::vector<test::ErrorRow> r;
  const TensorSpec good;
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
  {
    // Declared with 100 elements, the record holds 24 bytes.
    TensorSpec t = good;
    t.storage_numel = 100;
    TorchZip z = torch_zip(state_pickle(t).bytes);
    r.push_back({"zip storage bigger than its record", z.bytes,
                 "x.pt: storage '0' declares 400 bytes but record data/0 holds 24 at byte " +
                     n(z.layout.header_offset[1])});
  }
  {
    TensorSpec t = good;
    t.key = "7";
    test::StatePickle p = state_pickle(t);
    TorchZip z = torch_zip(p.bytes, "0");
    r.push_back({"zip storage without a record", z.bytes,
                 "x.pt: storage '7' has no record data/7 at byte " +
                     n(z.layout.data_offset[0] + p.pid_at)});
  }
  {
    ZipBuilder zb;
    zb.add_raw("archive/data.pkl", "not deflate", 8, 50);
    std::string bytes = zb.build();
    r.push_back({"deflated data.pkl that does not inflate", bytes,
                 "x.pt: zip: record 'archive/data.pkl' does not inflate to its declared 50 "
                 "bytes at byte " +
                     n(zb.layout().data_offset[0])});
  }
  return r;
}

TEST(ZipReaderErrors, Table) {
  test::expect_load_errors(rows());
}

TEST(ZipReaderErrors, ControlCharactersStayOnOneLine) {
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
  test::StatePickle p = state_pickle(t);
  TorchZip tz = torch_zip(p.bytes);
  EXPECT_EQ("x.pt: storage 'k\\x0d\\x0aey' has no record data/k\\x0d\\x0aey at byte " +
                n(tz.layout.data_offset[0] + p.pid_at),
            load_error(tz.bytes));
}

}  // namespace
}  // namespace ptscope
