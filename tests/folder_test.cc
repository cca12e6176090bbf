// Model folders: the shards of fixtures/folders/ read as one model and the
// index checked against them, to the truth make_folder_fixtures.py wrote.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "inspection.h"
#include "fixture_files.h"
#include "ptscope/error.h"
#include "ptscope/estimate.h"
#include "ptscope/load.h"
#include "shard_index.h"

namespace ptscope {
namespace {

const std::string kDir = PTSCOPE_SOURCE_DIR "/fixtures/folders/";

nlohmann::json truth() { return test::read_fixture_json("fixtures/folders/expected.json"); }

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

Estimate estimate_folder(const std::string& path) {
  Model m = load_model(path);
  EstimateOptions o;
  o.config = m.config;
  return estimate(merge_checkpoints(std::move(m.files), m.path), o);
}

bool has_note(const Estimate& e, const std::string& note) {
  return std::find(e.notes.begin(), e.notes.end(), note) != e.notes.end();
}

TEST(Folder, ConfigGivesTheHeadsTheShapesLeaveOpen) {
  for (const char* name : {"llama_safetensors", "llama_bin"}) {
    SCOPED_TRACE(name);
    Model m = load_model(kDir + name);
    ASSERT_TRUE(m.config);
    EXPECT_TRUE(m.config_problem.empty());
    EXPECT_EQ(m.config->file, kDir + name + "/config.json");
    EXPECT_EQ(m.config->model_type, "llama");
    EXPECT_EQ(m.config->torch_dtype, "float32");
    EXPECT_EQ(m.config->num_key_value_heads, 2);
    Estimate e = estimate_folder(kDir + name);
    EXPECT_EQ(e.heads, 4);
    EXPECT_EQ(e.kv_heads, 2);
    EXPECT_EQ(e.heads_source, "config.json");
    for (const std::string& n : e.notes) EXPECT_EQ(n.find("config.json says"), std::string::npos) << n;
  }
  // An index file's folder is the model's folder.
  EXPECT_TRUE(load_model(kDir + "llama_safetensors/model.safetensors.index.json").config);
  // A single file given as such reads no config.
  EXPECT_FALSE(load_model(kDir + "llama_bin/pytorch_model-00002-of-00003.bin").config);
}

TEST(Folder, ConfigDisagreeingWithTheShapesIsANoteAndTheShapesWin) {
  const std::string dir = kDir + "llama_config_mismatch";
  Estimate e = estimate_folder(dir);
  ASSERT_TRUE(e.architecture);
  EXPECT_EQ(e.architecture->hidden, 64);
  EXPECT_EQ(e.architecture->layers, 2);
  EXPECT_TRUE(has_note(e, "config.json says hidden_size 128, the shapes 64: the shapes are used"));
  EXPECT_TRUE(has_note(e, "config.json says num_hidden_layers 3, the shapes 2: the shapes are used"));
  EXPECT_TRUE(has_note(e, "config.json says 4 heads x head_dim 32 = 128, the shapes' q width 64: the shapes are used"));
  // The heads still divide the shapes' widths evenly: they are used.
  EXPECT_EQ(e.heads, 4);
  EXPECT_EQ(e.kv_heads, 2);
  // No positions in the shapes: the sequence is the config's context.
  EXPECT_EQ(e.seq, 256);
  EXPECT_EQ(e.seq_source, "max_position_embeddings in config.json; --seq to change");
  // Shape-fixed heads that the config contradicts: the shapes win, noted.
  Model m = load_model(dir);
  EstimateOptions o;
  o.config = m.config;
  o.config->num_attention_heads = 8;
  o.config->num_key_value_heads = 8;
  Estimate f = estimate(merge_checkpoints(std::move(m.files), m.path), o);
  EXPECT_NE(f.heads_source, "config.json");
  EXPECT_TRUE(has_note(f, "config.json's heads (8, kv 8) do not divide the shapes' q 64 and kv 32 into heads of one "
                          "width: not used"));
}

// GPT-2's and T5's config.json spell the sizes their own way
// (transformers' GPT2Config/T5Config attribute_map); the canonical name wins.
TEST(ModelConfig, ReadsTransformersAliases) {
  ModelConfig gpt2 = parse_model_config(R"({"model_type": "gpt2", "n_embd": 768, "n_head": 12, "n_layer": 12,
      "n_positions": 1024, "n_inner": null, "vocab_size": 50257})");
  EXPECT_EQ(gpt2.hidden_size, 768);
  EXPECT_EQ(gpt2.num_attention_heads, 12);
  EXPECT_EQ(gpt2.num_hidden_layers, 12);
  EXPECT_EQ(gpt2.max_position_embeddings, 1024);
  EXPECT_FALSE(gpt2.intermediate_size);
  ModelConfig t5 = parse_model_config(R"({"model_type": "t5", "d_model": 512, "num_heads": 8, "num_layers": 6,
      "d_ff": 2048, "d_kv": 64})");
  EXPECT_EQ(t5.hidden_size, 512);
  EXPECT_EQ(t5.num_attention_heads, 8);
  EXPECT_EQ(t5.num_hidden_layers, 6);
  EXPECT_EQ(t5.intermediate_size, 2048);
  EXPECT_EQ(t5.head_dim, 64);
  ModelConfig both = parse_model_config(R"({"hidden_size": 64, "n_embd": 128})");
  EXPECT_EQ(both.hidden_size, 64);
}

TEST(ModelConfig, ReadsOnlyFieldsOfTheExpectedType) {
  ModelConfig c = parse_model_config(R"({"model_type": "mixtral", "hidden_size": "64", "num_attention_heads": -4,
      "num_key_value_heads": 1e3, "head_dim": 1099511627777, "vocab_size": 32000, "tie_word_embeddings": true,
      "num_local_experts": 8, "num_experts": 4, "num_experts_per_tok": 2, "sliding_window": null,
      "quantization_config": {"quant_method": "gptq", "bits": 4}})");
  EXPECT_EQ(c.model_type, "mixtral");
  EXPECT_FALSE(c.hidden_size);
  EXPECT_FALSE(c.num_attention_heads);
  EXPECT_FALSE(c.num_key_value_heads);
  EXPECT_FALSE(c.head_dim);
  EXPECT_FALSE(c.sliding_window);
  EXPECT_EQ(c.vocab_size, 32000);
  EXPECT_EQ(c.tie_word_embeddings, true);
  EXPECT_EQ(c.num_experts, 8);
  EXPECT_EQ(c.num_experts_per_tok, 2);
  EXPECT_EQ(c.quant_method, "gptq");
  EXPECT_EQ(c.bits, 4);
  EXPECT_THROW(parse_model_config("[1, 2]"), Error);
  EXPECT_THROW(parse_model_config("{\"a\": "), Error);
  EXPECT_THROW(parse_model_config(std::string(100, '[') + std::string(100, ']')), Error);
}

TEST(Folder, UnreadableConfigIsOneProblemNeverAnError) {
  namespace fs = std::filesystem;
  const std::string dir = testing::TempDir() + "ptscope_bad_config." + std::to_string(getpid());
  fs::create_directories(dir);
  fs::copy_file(kDir + "llama_config_mismatch/model.safetensors", dir + "/model.safetensors",
                fs::copy_options::overwrite_existing);
  auto write = [&](const std::string& text) { std::ofstream(dir + "/config.json", std::ios::binary) << text; };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"hidden_size\": 64,", "not valid JSON"},
      {std::string(5000, '[') + std::string(5000, ']'), "nests deeper than 64 levels"},
      {"{\"a\": \"" + std::string(kMaxConfigBytes, 'x') + "\"}", "larger than 4 MiB"},
  };
  for (const auto& [text, why] : cases) {
    SCOPED_TRACE(why);
    write(text);
    Model m = load_model(dir);
    EXPECT_FALSE(m.config);
    EXPECT_EQ(m.config_problem, dir + "/config.json: " + why + "; ignored");
    EXPECT_EQ(m.files.size(), 1u);
  }
  fs::remove_all(dir);
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
