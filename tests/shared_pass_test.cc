// inspect's one pass over a torch file's object pickle for the scan and the
// read (load_model_scanned; pickle_tap.h): taken where it can be, given up
// where either side stops, and never a different answer.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "byte_source.h"
#include "fixture_files.h"
#include "pickle_builder.h"
#include "ptscope/error.h"
#include "ptscope/load.h"
#include "scan_source.h"
#include "shared_pass_check.h"
#include "torch_file_builder.h"
#include "zip_share.h"

namespace ptscope {
namespace {

std::string write_temp(const std::string& name, const std::string& bytes) {
  std::string path = testing::TempDir() + "ptscope_shared_" + std::to_string(getpid()) + "_" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// Whether the scan of `path` handed the read a parsed data.pkl.
bool shared(const std::string& path) {
  auto src = open_file(path);
  ZipShare share;
  scan_source(*src, path, ScanOptions{}, &share);
  std::optional<ZipArchive> zip = share.take_archive();
  const ZipEntry* pkl = zip ? zip->find("data.pkl") : nullptr;
  return pkl && share.take_pickle(*zip, *pkl) != nullptr;
}

TEST(SharedPass, TorchFilesAreParsedOnce) {
  for (const char* name : {"cnn_state_dict.pt", "training_checkpoint.pt", "scripted_cnn.pt",
                           "whole_module.pt", "sparse/sparse_state_dict.pt",
                           "quantized/static_per_channel_state_dict.pt", "malicious/builtins_eval.pt"}) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(shared(test::fixture(name)));
    EXPECT_EQ(fuzz::shared_pass_difference(test::fixture(name)), "");
  }
}

// The reader stops on a storage class torch does not define; the scan goes
// on and reports the name. The pass is the scan's alone, and the read fails
// as it does alone.
TEST(SharedPass, GivenUpWhereTheReaderStops) {
  test::TensorSpec t;
  t.storage_class = "BogusStorage";
  std::string path = write_temp("bogus.pt", test::torch_zip(test::state_pickle(t).bytes).bytes);
  EXPECT_FALSE(shared(path));
  EXPECT_EQ(fuzz::shared_pass_difference(path), "");
  ScanResult safety;
  try {
    load_model_scanned(path, safety);
    FAIL() << "read a bogus storage class";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("unknown storage type 'torch.BogusStorage'"), std::string::npos) << e.message();
  }
  EXPECT_EQ(safety.error, "");
  EXPECT_EQ(safety.verdict, scan_file(path).verdict);
  EXPECT_EQ(safety.findings.size(), scan_file(path).findings.size());
}

// A pickle inside the pickle is scanned as the call that loads it is seen:
// the shared pass stops there, and the scan makes it alone.
TEST(SharedPass, GivenUpForANestedPickle) {
  test::PickleAsm inner;
  inner.proto(2).global("os", "system").str("touch x").put(test::op::TUPLE1).put(test::op::REDUCE).stop();
  test::PickleAsm outer;
  outer.proto(2).global("pickle", "loads").put(test::op::SHORT_BINBYTES).u8(inner.size()).raw(inner.bytes())
      .put(test::op::TUPLE1).put(test::op::REDUCE).stop();
  std::string path = write_temp("nested.pt", test::torch_zip(outer.bytes()).bytes);
  EXPECT_FALSE(shared(path));
  EXPECT_EQ(fuzz::shared_pass_difference(path), "");
  ScanResult alone = scan_file(path);
  ASSERT_EQ(alone.pickles.size(), 2u);  // data.pkl, and the pickle it loads
  EXPECT_EQ(alone.verdict, Verdict::Dangerous);
}

// Every fixture and, where present, the shared corpus of torch 2.x files.
TEST(SharedPass, ChangesNothing) {
  std::vector<std::string> dirs = {test::source_path("fixtures")};
  std::string corpus = test::source_path("../shared/corpus");
  if (const char* env = std::getenv("PTSCOPE_CORPUS"); env && *env) corpus = env;
  std::error_code ec;
  if (std::filesystem::is_directory(corpus, ec)) dirs.push_back(corpus);
  size_t files = 0;
  for (const std::string& dir : dirs)
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
      if (!e.is_regular_file()) continue;
      SCOPED_TRACE(e.path().string());
      EXPECT_EQ(fuzz::shared_pass_difference(e.path().string()), "");
      ++files;
    }
  EXPECT_GT(files, 200u);
}

}  // namespace
}  // namespace ptscope
