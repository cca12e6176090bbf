// DeepSpeed checkpoint folders (fixtures/deepspeed/,
// make_deepspeed_fixtures.py): the run to the truth torch computed, the
// ranks checked against each other, `latest` and hostile files as one-line
// errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <unistd.h>

#include "deepspeed_folder.h"
#include "fixture_files.h"
#include "inspection.h"
#include "pickle_builder.h"
#include "ptscope/error.h"
#include "ptscope/load.h"
#include "torch_file_builder.h"

namespace ptscope {
namespace {

namespace fs = std::filesystem;
const std::string kDir = PTSCOPE_SOURCE_DIR "/fixtures/deepspeed/";

nlohmann::json truth() { return test::read_fixture_json("fixtures/deepspeed/expected.json"); }

// A scratch folder, removed with the test.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::path(testing::TempDir()) / ("ptscope_ds_" + name + "." + std::to_string(getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

void write(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }

std::string error_of(const std::string& path) {
  try {
    load_model(path);
  } catch (const Error& e) {
    return e.describe();
  }
  return "no error";
}

TEST(DeepSpeed, FoldersReadToTheTruth) {
  nlohmann::json t = truth();
  for (const char* name : {"zero2", "zero1_bf16", "zero3"}) {
    SCOPED_TRACE(name);
    const nlohmann::json& e = t[name];
    Model m = load_model(kDir + name);
    ASSERT_TRUE(m.deepspeed);
    const DeepSpeedCheckpoint& d = *m.deepspeed;
    EXPECT_EQ(d.problems, std::vector<std::string>{});
    EXPECT_EQ(d.tag, e["tag"].get<std::string>());
    EXPECT_EQ(d.zero_stage, e["zero_stage"].get<int64_t>());
    EXPECT_EQ(d.dp_world_size, e["dp_world_size"].get<int64_t>());
    EXPECT_EQ(d.partition_count, e["dp_world_size"].get<int64_t>());
    EXPECT_EQ(d.global_steps, e["global_steps"].get<int64_t>());
    EXPECT_EQ(d.params_from, e["params_from"].get<std::string>());
    EXPECT_EQ(d.padding, e["padding"].get<uint64_t>());
    ASSERT_EQ(d.ranks.size(), e["ranks"].size());
    for (size_t i = 0; i < d.ranks.size(); ++i) {
      const nlohmann::json& r = e["ranks"][i];
      EXPECT_EQ(d.ranks[i].file, r["file"].get<std::string>());
      EXPECT_EQ(d.ranks[i].rank, r["rank"].get<int64_t>());
      EXPECT_EQ(d.ranks[i].fp32_numel, r["fp32_numel"].get<uint64_t>()) << r["file"];
      EXPECT_EQ(d.ranks[i].optimizer_numel, r["optimizer_numel"].get<uint64_t>()) << r["file"];
      EXPECT_EQ(d.ranks[i].padding, r["padding"].get<uint64_t>()) << r["file"];
    }
    std::set<std::string> files, want;
    for (const Checkpoint& c : m.files) files.insert(fs::path(c.path).filename().string());
    for (const std::string& f : e["files"]) want.insert(f);
    EXPECT_EQ(files, want);
    Inspection in = inspect(std::move(m), InspectViews{});
    ASSERT_TRUE(in.summary.parameters);
    EXPECT_EQ(in.summary.parameters->numel, e["parameters"].get<uint64_t>());
    EXPECT_EQ(in.summary.buffers->numel, e["buffers"].get<uint64_t>());
    EXPECT_EQ(in.checkpoint.file_bytes, e["file_bytes"].get<uint64_t>());
    uint64_t mapped = 0;
    for (const auto& row : in.byte_map) mapped += row.bytes;
    EXPECT_EQ(mapped, in.checkpoint.file_bytes);
    ASSERT_TRUE(in.deepspeed);
  }
}

TEST(DeepSpeed, CheckpointFolderGivenItself) {
  nlohmann::json t = truth();
  Model m = load_model(kDir + "zero3/global_step2");
  ASSERT_TRUE(m.deepspeed);
  EXPECT_EQ(m.deepspeed->tag, "");
  EXPECT_EQ(m.deepspeed->zero_stage, 3);
  Inspection in = inspect(std::move(m), InspectViews{});
  EXPECT_EQ(in.summary.parameters->numel, t["zero3"]["parameters"].get<uint64_t>());
}

TEST(DeepSpeed, WhichFoldersAreDeepSpeed) {
  EXPECT_TRUE(is_deepspeed_folder(kDir + "zero2"));
  EXPECT_TRUE(is_deepspeed_folder(kDir + "zero2/global_step2"));
  EXPECT_TRUE(is_deepspeed_folder(kDir + "bad_latest_escape"));  // and its `latest` an error
  EXPECT_FALSE(is_deepspeed_folder(kDir + "zero2/latest"));
  EXPECT_FALSE(is_deepspeed_folder(PTSCOPE_SOURCE_DIR "/fixtures/folders/llama_bin"));
  EXPECT_FALSE(is_deepspeed_folder(PTSCOPE_SOURCE_DIR "/fixtures/trainer"));  // deepspeed_mp_rank_00_...: not the engine's names
  // A Hugging Face Trainer checkpoint-N/ keeps `latest` beside its own model
  // files: those are read, as in any model folder.
  TempDir hf("hf");
  fs::copy_file(PTSCOPE_SOURCE_DIR "/fixtures/folders/llama_config_mismatch/model.safetensors", hf.path / "model.safetensors");
  write(hf.path / "latest", "global_step2");
  EXPECT_FALSE(is_deepspeed_folder(hf.path.string()));
}

TEST(DeepSpeed, MissingRankIsAProblem) {
  nlohmann::json t = truth();
  Model m = load_model(kDir + "bad_missing_rank");
  ASSERT_TRUE(m.deepspeed);
  EXPECT_EQ(m.deepspeed->problems, std::vector<std::string>{t["bad_missing_rank"]["problem"].get<std::string>()});
  EXPECT_EQ(m.deepspeed->ranks.size(), 1u);
}

TEST(DeepSpeed, HostileWorldSizeIsBoundedProblems) {
  nlohmann::json t = truth();
  Model m = load_model(kDir + "bad_world");
  ASSERT_TRUE(m.deepspeed);
  EXPECT_EQ(m.deepspeed->problems, t["bad_world"]["problems"].get<std::vector<std::string>>());
}

// Copies of zero2 and zero3 with one thing changed: each a problem line.
TEST(DeepSpeed, RanksCheckedAgainstEachOther) {
  struct Row {
    const char* name;
    const char* from;
    std::function<void(const fs::path&)> change;
    std::vector<std::string> problems;
  };
  const std::vector<Row> rows = {
      {"extra_rank", "zero2",
       [](const fs::path& d) {
         fs::copy_file(d / "zero_pp_rank_1_mp_rank_00_optim_states.pt", d / "zero_pp_rank_2_mp_rank_00_optim_states.pt");
       },
       {"deepspeed: zero_pp_rank_2_mp_rank_00_optim_states.pt is rank 2, but partition_count says 2 ranks"}},
      {"zero3_model_rank", "zero3",
       [](const fs::path& d) { fs::remove(d / "zero_pp_rank_1_mp_rank_00_model_states.pt"); },
       {"deepspeed: zero_pp_rank_1_mp_rank_00_model_states.pt is missing: partition_count says 2 ranks"}},
      {"no_model_states", "zero2",
       [](const fs::path& d) { fs::remove(d / "mp_rank_00_model_states.pt"); },
       {"deepspeed: no model states file (mp_rank_00_model_states.pt) in the folder"}},
      {"no_optim", "zero2",
       [](const fs::path& d) {
         fs::remove(d / "zero_pp_rank_0_mp_rank_00_optim_states.pt");
         fs::remove(d / "zero_pp_rank_1_mp_rank_00_optim_states.pt");
       },
       {"deepspeed: no *_optim_states.pt file, though the model states hold ZeRO's param_shapes"}},
      {"mixed_stages", "zero2",
       [](const fs::path& d) {
         fs::copy_file(PTSCOPE_SOURCE_DIR "/fixtures/deepspeed/zero3/global_step2/zero_pp_rank_1_mp_rank_00_optim_states.pt",
                       d / "zero_pp_rank_1_mp_rank_00_optim_states.pt", fs::copy_options::overwrite_existing);
       },
       {"deepspeed: zero_pp_rank_1_mp_rank_00_optim_states.pt says zero_stage 3, partition_count 2; "
        "zero_pp_rank_0_mp_rank_00_optim_states.pt 2, 2",
        // rank 1's stage-3 file keeps fp32_flat_groups, not single_partition_of_fp32_groups
        "deepspeed: the fp32 partitions of group 0 hold 108 elements, param_shapes 216",
        "deepspeed: the fp32 partitions of group 1 hold 20 elements, param_shapes 39"}},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    TempDir tmp(row.name);
    for (const auto& f : fs::directory_iterator(kDir + row.from + "/global_step2"))
      fs::copy_file(f.path(), tmp.path / f.path().filename());
    row.change(tmp.path);
    Model m = load_model(tmp.path.string());
    ASSERT_TRUE(m.deepspeed);
    EXPECT_EQ(m.deepspeed->problems, row.problems);
  }
}

TEST(DeepSpeed, LatestFixturesAreOneLineErrors) {
  nlohmann::json t = truth();
  for (const char* name : {"bad_latest_missing", "bad_latest_escape"}) {
    SCOPED_TRACE(name);
    const nlohmann::json& e = t[name];
    EXPECT_EQ(error_of(kDir + name), kDir + name + "/latest: " + e["error"].get<std::string>() + " at byte " +
                                         std::to_string(e["offset"].get<uint64_t>()));
  }
}

// limits::kMaxTensorDims: a 64-dimension param_shapes entry is read.
TEST(DeepSpeed, SixtyFourDimensionsAreRead) {
  using test::PickleAsm;
  namespace op = test::op;
  TempDir dir("dims");
  PickleAsm p;
  p.proto(2).put(op::EMPTY_DICT).str("buffer_names").put(op::EMPTY_LIST).put(op::SETITEM);
  p.str("param_shapes").put(op::EMPTY_LIST).put(op::EMPTY_DICT).str("w").put(op::MARK);
  for (int i = 0; i < 64; ++i) p.integer(1);
  p.put(op::TUPLE).put(op::SETITEM).put(op::APPEND).put(op::SETITEM);
  write(dir.path / "mp_rank_00_model_states.pt", test::torch_zip(p.stop().bytes()).bytes);
  std::string e = error_of(dir.path.string());
  EXPECT_EQ(e.find("dimensions"), std::string::npos) << e;
}

TEST(DeepSpeed, LatestTagTable) {
  struct Row {
    std::string text, tag_or_error;
  };
  const std::vector<Row> rows = {
      {"global_step2", "global_step2"},
      {"global_step2\n", "global_step2"},
      {" \t my run 7 \r\n", "my run 7"},
      {"a..b", "a..b"},
      {"", "holds no tag at byte 0"},
      {" \n\n", "holds no tag at byte 0"},
      {"..", "tag '..' is not a plain folder name at byte 0"},
      {"\n.", "tag '.' is not a plain folder name at byte 1"},
      {"a/b", "tag 'a/b' is not a plain folder name at byte 1"},
      {"/etc", "tag '/etc' is not a plain folder name at byte 0"},
      {"x\\..\\y", "tag 'x\\..\\y' is not a plain folder name at byte 1"},
      {"step\x01", "tag has control character 0x01 at byte 4"},
      {"global\nstep", "tag has control character 0x0a at byte 6"},
      {std::string("st\0p", 4), "tag has control character 0x00 at byte 2"},
      {"st\x7fp", "tag has control character 0x7f at byte 2"},
  };
  for (const Row& r : rows) {
    std::string got;
    try {
      got = parse_latest_tag(r.text);
    } catch (const Error& e) {
      got = e.describe();
    }
    EXPECT_EQ(got, r.tag_or_error) << nlohmann::json(r.text).dump();
  }
}

TEST(DeepSpeed, LatestTooLargeOrNotAFolder) {
  TempDir run("latest");
  const std::string latest = (run.path / "latest").string();
  write(latest, std::string(4097, 'a'));
  EXPECT_EQ(error_of(run.path.string()), latest + ": larger than 4,096 bytes: not a checkpoint tag at byte 4096");
  write(latest, "  step3\n");
  write(run.path / "step3", "a file, not a folder");
  EXPECT_EQ(error_of(run.path.string()), latest + ": names step3, which is not a folder beside it at byte 2");
  fs::remove(run.path / "step3");
  fs::create_directories(run.path / "step3");
  EXPECT_EQ(error_of(run.path.string()),
            (run.path / "step3").string() + ": no DeepSpeed *_model_states.pt or *_optim_states.pt file in the folder");
}

// Model states whose pickle is right except in one place.
TEST(DeepSpeed, HostileModelStatesAreOneLineErrors) {
  using test::PickleAsm;
  namespace op = test::op;
  struct Row {
    const char* name;
    std::function<uint64_t(PickleAsm&)> body;  // writes the root; returns the offset the error names
    std::string message;
  };
  const std::vector<Row> rows = {
      {"list root",
       [](PickleAsm& p) {
         uint64_t at = p.size();
         p.put(op::EMPTY_LIST);
         return at;
       },
       "not a DeepSpeed model states file: the saved object is not a dict"},
      {"buffer_names not a list",
       [](PickleAsm& p) {
         // 7 is a shared value (many bytes make it): the error points at its dict.
         uint64_t at = p.size();
         p.put(op::EMPTY_DICT).str("buffer_names");
         p.integer(7).put(op::SETITEM);
         return at;
       },
       "buffer_names is not a list"},
      {"65 dimensions (limits::kMaxTensorDims)",
       [](PickleAsm& p) {
         p.put(op::EMPTY_DICT).str("buffer_names").put(op::EMPTY_LIST).put(op::SETITEM);
         p.str("param_shapes").put(op::EMPTY_LIST).put(op::EMPTY_DICT).str("w").put(op::MARK);
         for (int i = 0; i < 65; ++i) p.integer(1);
         uint64_t at = p.size();  // the tuple is made by its TUPLE opcode
         p.put(op::TUPLE).put(op::SETITEM).put(op::APPEND).put(op::SETITEM);
         return at;
       },
       "param_shapes of 'w' has more than 64 dimensions"},
      {"param_shapes entry not a size",
       [](PickleAsm& p) {
         p.put(op::EMPTY_DICT).str("buffer_names").put(op::EMPTY_LIST).put(op::SETITEM);
         p.str("param_shapes").put(op::EMPTY_LIST).put(op::EMPTY_DICT).str("w");
         uint64_t at = p.size();
         p.str("oops").put(op::SETITEM).put(op::APPEND).put(op::SETITEM);
         return at;
       },
       "param_shapes of 'w' is not a torch.Size"},
      {"negative size",
       [](PickleAsm& p) {
         p.put(op::EMPTY_DICT).str("buffer_names").put(op::EMPTY_LIST).put(op::SETITEM);
         p.str("param_shapes").put(op::EMPTY_LIST).put(op::EMPTY_DICT).str("w").put(op::MARK).integer(3);
         uint64_t at = p.size();
         p.integer(-1).put(op::TUPLE).put(op::SETITEM).put(op::APPEND).put(op::SETITEM);
         return at;
       },
       "param_shapes of 'w' has a size that is not a non-negative integer"},
      {"too many elements",
       [](PickleAsm& p) {
         p.put(op::EMPTY_DICT).str("buffer_names").put(op::EMPTY_LIST).put(op::SETITEM);
         p.str("param_shapes").put(op::EMPTY_LIST).put(op::EMPTY_DICT).str("w");
         p.put(op::MARK).integer(int64_t{1} << 40).integer(int64_t{1} << 40);
         uint64_t at = p.size();  // the tuple is made by its TUPLE opcode
         p.put(op::TUPLE).put(op::SETITEM).put(op::APPEND).put(op::SETITEM);
         return at;
       },
       "param_shapes of 'w' has too many elements"},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    TempDir dir("hostile");
    PickleAsm p;
    p.proto(2);
    uint64_t at = r.body(p);
    p.stop();
    test::TorchZip z = test::torch_zip(p.bytes());
    const fs::path file = dir.path / "mp_rank_00_model_states.pt";
    write(file, z.bytes);
    EXPECT_EQ(error_of(dir.path.string()),
              file.string() + ": " + r.message + " at byte " + std::to_string(z.layout.data_offset[0] + at));
  }
}

TEST(DeepSpeed, TruncatedRankFileIsOneLineError) {
  TempDir dir("truncated");
  for (const auto& f : fs::directory_iterator(kDir + "zero2/global_step2"))
    fs::copy_file(f.path(), dir.path / f.path().filename());
  const fs::path rank1 = dir.path / "zero_pp_rank_1_mp_rank_00_optim_states.pt";
  std::string bytes = test::slurp(rank1.string());
  ASSERT_GT(bytes.size(), 100u);
  for (size_t cut : {size_t{0}, size_t{30}, bytes.size() / 2, bytes.size() - 1}) {
    write(rank1, bytes.substr(0, cut));
    std::string e = error_of(dir.path.string());
    EXPECT_EQ(e.rfind(rank1.string() + ": ", 0), 0u) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
}

}  // namespace
}  // namespace ptscope
