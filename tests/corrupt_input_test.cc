// Corrupt inputs for every reader, through the loader,
// read_checkpoint(src, "x.pt"): files no reader claims, then every
// truncation and thousands of single-byte corruptions of real fixtures,
// which must each load or fail with a one-line ptscope::Error. Each
// reader's own table of hostile inputs sits beside its tests:
// zip_test.cc and zip_reader_test.cc, legacy_reader_test.cc,
// safetensors_test.cc, pickle_test.cc and torch_pickle_test.cc,
// state_walk_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "fixture_files.h"
#include "load_error.h"
#include "ptscope/error.h"
#include "reader.h"

namespace ptscope {
namespace {

using test::load_error;

std::string n(uint64_t v) { return std::to_string(v); }

TEST(CorruptInputTest, NotACheckpoint) {
  test::expect_load_errors({
      {"empty file", "", "x.pt: file is empty at byte 0"},
      {"three bytes", "abc",
       "x.pt: not a PyTorch checkpoint: no zip signature, safetensors header or pickle "
       "protocol marker at byte 0"},
      {"wrong magic", "GIF89a" + std::string(100, '\0'),
       "x.pt: not a PyTorch checkpoint: no zip signature, safetensors header or pickle "
       "protocol marker at byte 0"},
  });
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
