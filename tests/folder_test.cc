// Model folders: the shards of fixtures/folders/ read as one model and the
// index checked against them, to the truth make_folder_fixtures.py wrote.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "inspection.h"
#include "ptscope/error.h"
#include "ptscope/load.h"
#include "shard_index.h"

namespace ptscope {
namespace {

const std::string kDir = PTSCOPE_SOURCE_DIR "/fixtures/folders/";

nlohmann::json truth() {
  std::ifstream in(kDir + "expected.json");
  return nlohmann::json::parse(in);
}

TEST(Folder, ShardedFoldersAreOneModel) {
  nlohmann::json t = truth();
  for (const char* name : {"llama_safetensors", "llama_bin"}) {
    SCOPED_TRACE(name);
    const nlohmann::json& e = t[name];
    Inspection in = inspect(load_model(kDir + name), InspectViews{});
    ASSERT_TRUE(in.index);
    EXPECT_TRUE(in.index->checked);
    EXPECT_TRUE(in.index->problems.empty());
    EXPECT_EQ(in.checkpoint.path, kDir + name);
    EXPECT_EQ(in.summary.all.tensors, e["tensors"].get<uint64_t>());
    EXPECT_EQ(in.summary.all.numel, e["numel"].get<uint64_t>());
    EXPECT_EQ(in.summary.all.bytes, e["tensor_bytes"].get<uint64_t>());
    ASSERT_TRUE(in.summary.parameters);
    EXPECT_EQ(in.summary.parameters->numel, e["parameters"].get<uint64_t>());
    EXPECT_EQ(in.checkpoint.file_bytes, e["file_bytes"].get<uint64_t>());
    ASSERT_EQ(in.parts.size(), e["files"].size());
    for (size_t i = 0; i < in.parts.size(); ++i) {
      const nlohmann::json& f = e["files"][i];
      EXPECT_EQ(in.parts[i].path, kDir + name + "/" + f["file"].get<std::string>());
      EXPECT_EQ(in.parts[i].all.tensors, f["tensors"].get<uint64_t>());
      EXPECT_EQ(in.parts[i].all.numel, f["numel"].get<uint64_t>());
      EXPECT_EQ(in.parts[i].all.bytes, f["bytes"].get<uint64_t>());
    }
    uint64_t mapped = 0;
    for (const ByteMapRow& r : in.byte_map) mapped += r.bytes;
    EXPECT_EQ(mapped, in.checkpoint.file_bytes);  // each file's map, summed
  }
}

TEST(Folder, IndexFileNamesTheSameModel) {
  Model m = load_model(kDir + "llama_safetensors/model.safetensors.index.json");
  EXPECT_EQ(m.files.size(), 3u);
  ASSERT_TRUE(m.index);
  EXPECT_TRUE(m.index->problems.empty());
}

TEST(Folder, SingleFileIsNotAFolder) {
  Model m = load_model(kDir + "llama_bin/pytorch_model-00002-of-00003.bin");
  EXPECT_EQ(m.files.size(), 1u);
  EXPECT_FALSE(m.index);
}

TEST(Folder, EachInconsistencyIsOneProblem) {
  nlohmann::json t = truth();
  for (const char* name : {"bad_entry", "bad_duplicate", "bad_missing", "bad_unreferenced", "bad_total"}) {
    SCOPED_TRACE(name);
    Model m = load_model(kDir + name);
    ASSERT_TRUE(m.index);
    EXPECT_EQ(m.index->problems, t[name]["problems"].get<std::vector<std::string>>());
  }
}

TEST(ShardIndex, RefusesWhatItCannotTrust) {
  EXPECT_THROW(parse_shard_index(R"({"weight_map": {"a": "x.safetensors", "a": "y.safetensors"}})"), Error);
  EXPECT_THROW(parse_shard_index(R"({"weight_map": {"a": "../x.safetensors"}})"), Error);
  EXPECT_THROW(parse_shard_index(R"({"weight_map": {"a": 3}})"), Error);
  EXPECT_THROW(parse_shard_index(R"({"metadata": {"total_size": -1}, "weight_map": {}})"), Error);
  EXPECT_THROW(parse_shard_index(R"({"metadata": {}})"), Error);
  std::string deep = R"({"weight_map": {}, "x": )" + std::string(20, '[') + std::string(20, ']') + "}";
  EXPECT_THROW(parse_shard_index(deep), Error);
  ShardIndex i = parse_shard_index(
      R"({"metadata": {"total_size": 8}, "weight_map": {"b": "m-2.safetensors", "a": "m-1.safetensors"}})");
  EXPECT_EQ(*i.total_size, 8u);
  EXPECT_EQ(i.shards, (std::vector<std::string>{"m-1.safetensors", "m-2.safetensors"}));
}

TEST(Folder, UnreadableShardIsAnErrorNamingIt) {
  std::string dir = testing::TempDir() + "ptscope_folder_" + std::to_string(::getpid());
  std::string mk = "rm -rf " + dir + " && mkdir -p " + dir + " && cp " + kDir + "llama_bin/* " + dir +
                   " && printf garbage > " + dir + "/pytorch_model-00002-of-00003.bin";
  ASSERT_EQ(std::system(mk.c_str()), 0);
  try {
    load_model(dir);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(e.describe().find("pytorch_model-00002-of-00003.bin"), std::string::npos) << e.describe();
  }
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace ptscope
