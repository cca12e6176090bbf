// Architecture recognition on real key names and shapes: full-size models
// (fixtures/arch/shapes, names and shapes only, the parameter count each
// asserted there against the published figure) and tiny checkpoints written
// by torch (fixtures/arch/*.pt).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "checkpoint_builder.h"
#include "fixture_files.h"
#include "ptscope/architecture.h"
#include "ptscope/estimate.h"
#include "reader.h"

namespace ptscope {
namespace {

using nlohmann::json;
using test::checkpoint_from_shapes;
using test::model_from_shapes;
using test::read_fixture_json;

// The config's sizes against what was recognised; heads only where a
// tensor has one axis per head.
void expect_config(const Architecture& a, const json& cfg, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(a.family, cfg["family"]);
  if (cfg["family"] == "resnet") {
    EXPECT_EQ(a.stages, cfg["layers"].get<std::vector<int64_t>>());
    EXPECT_EQ(a.bottleneck, cfg["block"] == "bottleneck");
    EXPECT_EQ(a.width, cfg["width"]);
    EXPECT_EQ(a.classes, cfg["classes"]);
    return;
  }
  EXPECT_EQ(a.layers, cfg["layers"]);
  EXPECT_EQ(a.decoder_layers, cfg.value("decoder_layers", 0));
  EXPECT_EQ(a.hidden, cfg["hidden"]);
  EXPECT_EQ(a.ffn, cfg["ffn"]);
  EXPECT_EQ(a.vocab, cfg["vocab"].is_null() ? 0 : cfg["vocab"].get<int64_t>());
  if (!cfg["positions"].is_null()) EXPECT_EQ(a.positions, cfg["positions"]);
  int64_t heads = cfg["heads"], kv_heads = cfg["kv_heads"];
  EXPECT_EQ(a.attention_dim * kv_heads, a.kv_dim * heads) << "key/value width against the query's";
  if (a.heads) {
    EXPECT_EQ(a.heads, heads);
    EXPECT_EQ(a.kv_heads, kv_heads);
  }
}

class FullSizeModel : public testing::TestWithParam<std::string> {};

TEST_P(FullSizeModel, RecognisedAndCountedByFormula) {
  json model = read_fixture_json("fixtures/arch/shapes/" + GetParam() + ".json");
  Checkpoint c = checkpoint_from_shapes(model);
  auto a = recognize_architecture(c);
  ASSERT_TRUE(a) << GetParam();
  expect_config(*a, model["config"], GetParam());
  EXPECT_EQ(a->parameters_from_formula, model["parameters"].get<uint64_t>()) << a->formula;
  EXPECT_EQ(model_sizes(c).parameters, model["parameters"].get<uint64_t>());
}

INSTANTIATE_TEST_SUITE_P(Published, FullSizeModel,
                         testing::Values("gpt2", "gpt2-medium", "bert-base-uncased", "llama-2-7b", "mistral-7b",
                                         "smollm-135m", "t5-small", "vit_b_16", "resnet50", "resnet18"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& ch : n)
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

TEST(Architecture, HeadsFixedOnlyWhereATensorHasAHeadAxis) {
  auto heads = [](const std::string& m) {
    return recognize_architecture(model_from_shapes(m))->heads;
  };
  EXPECT_EQ(heads("t5-small"), 8);     // relative_attention_bias [32, 8]
  EXPECT_EQ(recognize_architecture(model_from_shapes("t5-small"))->relative_buckets, 32);
  EXPECT_EQ(heads("llama-2-7b"), 32);  // rotary inv_freq [64]: head_dim 128
  EXPECT_EQ(heads("mistral-7b"), 0);   // no inv_freq: 4096 wide, heads unknown
  EXPECT_EQ(heads("smollm-135m"), 0);  // estimate assumes head_dim 64
  EXPECT_EQ(heads("gpt2"), 0);
}

TEST(Architecture, UnderAnyPrefix) {
  json model = read_fixture_json("fixtures/arch/shapes/gpt2.json");
  for (auto& row : model["tensors"]) {
    row[0] = "module.model." + row[0].get<std::string>();
    if (!row[3].is_null()) row[3] = "module.model." + row[3].get<std::string>();
  }
  auto a = recognize_architecture(checkpoint_from_shapes(model));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->prefix, "module.model.transformer.");
  EXPECT_EQ(a->parameters_from_formula, 124439808u);
}

TEST(Architecture, NothingKnown) {
  Checkpoint c = load_checkpoint(std::string(PTSCOPE_SOURCE_DIR) + "/fixtures/dtypes.pt");
  EXPECT_FALSE(recognize_architecture(c));
}

// BertForPreTraining's and RobertaForMaskedLM's state_dicts as torch.save
// writes them (fixtures/profile_sd, scripts/hf_reference.py): RoBERTa told
// apart, the masked-LM head (cls.predictions or lm_head) counted, its
// decoder's weight and bias tied.
TEST(Architecture, BertAndRobertaHeads) {
  for (const char* name : {"bert_tiny", "roberta_tiny"}) {
    SCOPED_TRACE(name);
    Checkpoint c = load_checkpoint(std::string(PTSCOPE_SOURCE_DIR) + "/fixtures/profile_sd/" + name +
                                   "/pytorch_model.bin");
    auto a = recognize_architecture(c);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->family, "bert");
    EXPECT_EQ(a->roberta, std::string(name) == "roberta_tiny");
    EXPECT_EQ(a->prefix, a->roberta ? "roberta." : "bert.");
    EXPECT_TRUE(a->lm_head && a->head_tied);
    EXPECT_EQ(a->parameters_from_formula, model_sizes(c).parameters) << a->formula;
  }
}

class TinyCheckpoint : public testing::TestWithParam<std::string> {};

TEST_P(TinyCheckpoint, MatchesTorch) {
  json expected = read_fixture_json("fixtures/arch/expected.json")[GetParam()];
  Checkpoint c = load_checkpoint(std::string(PTSCOPE_SOURCE_DIR) + "/fixtures/arch/" + GetParam());
  auto a = recognize_architecture(c);
  ASSERT_TRUE(a);
  expect_config(*a, expected["config"], GetParam());
  EXPECT_EQ(a->parameters_from_formula, expected["parameters"].get<uint64_t>()) << a->formula;
  EXPECT_EQ(model_sizes(c).parameters, expected["parameters"].get<uint64_t>());
}

INSTANTIATE_TEST_SUITE_P(Torch, TinyCheckpoint,
                         testing::Values("gpt2_tiny.pt", "bert_tiny.pt", "llama_tiny.pt", "gpt2_tiny_scripted.pt"),
                         [](const auto& info) {
                           std::string n = info.param;
                           return n.substr(0, n.find('.'));
                         });

}  // namespace
}  // namespace ptscope
