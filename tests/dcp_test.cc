// torch.distributed.checkpoint folders (fixtures/dcp/, make_dcp_fixtures.py):
// entries, numel and bytes to the truth the generator wrote; hostile
// .metadata files give one-line errors.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "inspection.h"
#include "fixture_files.h"
#include "ptscope/error.h"
#include "ptscope/load.h"

namespace ptscope {
namespace {

const std::string kDir = PTSCOPE_SOURCE_DIR "/fixtures/dcp/";

nlohmann::json truth() { return test::read_fixture_json("fixtures/dcp/expected.json"); }

TEST(Dcp, FoldersReadToTheTruth) {
  nlohmann::json t = truth();
  for (const char* name : {"one_rank", "two_ranks"}) {
    SCOPED_TRACE(name);
    const nlohmann::json& e = t[name];
    Model m = load_model(kDir + name);
    ASSERT_EQ(m.files.size(), 1 + e["data_files"].get<size_t>());
    const Checkpoint& meta = m.files[0];
    ASSERT_EQ(meta.tensors.size(), e["tensors"].size());
    for (const Tensor& x : meta.tensors) EXPECT_EQ(x.numel, e["tensors"][x.name].get<uint64_t>()) << x.name;
    for (const std::string& b : e["bytes_entries"]) EXPECT_TRUE(meta.metadata.count("dcp.bytes." + b)) << b;
    Inspection in = inspect(std::move(m), InspectViews{});
    EXPECT_EQ(in.summary.all.numel, e["numel"].get<uint64_t>());
    EXPECT_EQ(in.summary.all.bytes, e["tensor_bytes"].get<uint64_t>());
    EXPECT_EQ(in.checkpoint.file_bytes, e["file_bytes"].get<uint64_t>());
    uint64_t data = 0;
    for (const auto& row : in.byte_map)
      if (row.label == "tensor data") data = row.bytes;
    EXPECT_EQ(data, e["tensor_bytes"].get<uint64_t>());
    // The chunks are the storage; everything else in the folder is overhead.
    EXPECT_EQ(in.summary.storage_bytes, e["tensor_bytes"].get<uint64_t>());
    EXPECT_EQ(in.summary.overhead_bytes,
              static_cast<int64_t>(e["file_bytes"].get<uint64_t>() - e["tensor_bytes"].get<uint64_t>()));
  }
}

TEST(Dcp, HostileMetadataIsOneLineError) {
  nlohmann::json t = truth();
  for (const char* name : {"bad_negative_size", "bad_wrong_type", "bad_chunk_past_file", "bad_chunk_sum"}) {
    SCOPED_TRACE(name);
    try {
      load_model(kDir + name);
      ADD_FAILURE() << "no error";
    } catch (const Error& err) {
      EXPECT_NE(err.message().find(t[name]["error"].get<std::string>()), std::string::npos) << err.message();
      EXPECT_EQ(err.message().find('\n'), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace ptscope
