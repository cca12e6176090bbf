// Mixtures of experts: fixtures/moe/ (real tiny Mixtral, Qwen2-MoE and
// DeepSeek-V3 modules under transformers' names) counted against the truth
// make_moe_fixtures.py computed from the modules, and the rules around
// top-k: the option, config.json, and neither.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "checkpoint_builder.h"
#include "fixture_files.h"
#include "inspection.h"
#include "ptscope/error.h"
#include "ptscope/estimate.h"
#include "ptscope/experts.h"
#include "ptscope/load.h"

namespace ptscope {
namespace {

const std::string kDir = PTSCOPE_SOURCE_DIR "/fixtures/moe/";

nlohmann::json truth() { return test::read_fixture_json("fixtures/moe/expected.json"); }

struct Folder {
  Checkpoint checkpoint;
  std::optional<ModelConfig> config;
};

Folder load_folder(const std::string& name) {
  Model m = load_model(kDir + name);
  return {merge_checkpoints(std::move(m.files), m.path), m.config};
}

Estimate estimate_folder(const std::string& name, EstimateOptions o = {}) {
  Folder f = load_folder(name);
  if (!o.config) o.config = f.config;
  return estimate(f.checkpoint, o);
}

bool has_note(const Estimate& e, const std::string& note) {
  return std::find(e.notes.begin(), e.notes.end(), note) != e.notes.end();
}

const Line* find_line(const Estimate& e, const std::string& section, const std::string& name) {
  for (const Line& l : e.lines)
    if (l.section == section && l.name == name) return &l;
  return nullptr;
}

TEST(Moe, FixturesAgreeWithTheModules) {
  nlohmann::json t = truth();
  ASSERT_EQ(t.size(), 4u);
  for (const auto& [name, want] : t.items()) {
    SCOPED_TRACE(name);
    Estimate e = estimate_folder(name);
    EXPECT_EQ(e.sizes.parameters, want["parameters"].get<uint64_t>());
    ASSERT_TRUE(e.moe);
    const Experts& x = e.moe->experts;
    EXPECT_EQ(x.moe_layers, want["moe_layers"].get<int64_t>());
    EXPECT_EQ(x.experts, want["experts"].get<int64_t>());
    EXPECT_EQ(x.expert_parameters, want["expert_parameters"].get<uint64_t>());
    EXPECT_EQ(x.router_parameters, want["router_parameters"].get<uint64_t>());
    EXPECT_EQ(x.shared_parameters, want["shared_expert_parameters"].get<uint64_t>());
    // Every routed expert's weights at fp32 (the folders' torch_dtype).
    EXPECT_EQ(e.moe->expert_bytes, 4 * want["expert_parameters"].get<uint64_t>());
    if (want["top_k"].is_null()) {
      EXPECT_EQ(e.moe->top_k, 0);
      EXPECT_FALSE(e.moe->active_parameters);
    } else {
      EXPECT_EQ(e.moe->top_k, want["top_k"].get<int64_t>());
      EXPECT_EQ(e.moe->top_k_source, "config.json");
      ASSERT_TRUE(e.moe->active_parameters);
      EXPECT_EQ(*e.moe->active_parameters, want["active_parameters"].get<uint64_t>());
    }
    if (want.contains("forward_flops_per_token")) {
      ASSERT_TRUE(e.architecture);
      EXPECT_EQ(e.architecture->parameters_from_formula, e.sizes.parameters) << e.architecture->formula;
      EXPECT_EQ(e.architecture->experts, x.experts);
      ASSERT_TRUE(e.flops.forward_per_token);
      EXPECT_EQ(*e.flops.forward_per_token, want["forward_flops_per_token"].get<uint64_t>());
    }
    for (const std::string& n : e.notes) EXPECT_EQ(n.find("config.json says"), std::string::npos) << n;
  }
}

TEST(Moe, NamingOfEachFamily) {
  EXPECT_EQ(estimate_folder("mixtral").moe->experts.naming, "mixtral");
  EXPECT_EQ(estimate_folder("qwen2_moe").moe->experts.naming, "qwen2_moe");
  EXPECT_EQ(estimate_folder("deepseek_v3").moe->experts.naming, "deepseek");
  EXPECT_EQ(estimate_folder("mixtral").moe->experts.expert_ffn, 24);
  EXPECT_EQ(estimate_folder("deepseek_v3").moe->experts.expert_ffn, 6);
}

TEST(Moe, InspectShowsTheActiveParametersWhereConfigGivesTopK) {
  nlohmann::json t = truth();
  for (const auto& [name, want] : t.items()) {
    SCOPED_TRACE(name);
    Inspection in = inspect(load_model(kDir + name), InspectViews{});
    ASSERT_TRUE(in.summary.experts);
    EXPECT_EQ(in.summary.experts->expert_parameters, want["expert_parameters"].get<uint64_t>());
    if (want["active_parameters"].is_null()) {
      EXPECT_FALSE(in.active_parameters);
    } else {
      ASSERT_TRUE(in.active_parameters);
      EXPECT_EQ(*in.active_parameters, want["active_parameters"].get<uint64_t>());
    }
  }
}

TEST(Moe, WithoutTopKTheActiveFiguresAreUnknownAndTheSumsIncomplete) {
  Estimate e = estimate_folder("mixtral_no_topk");
  ASSERT_TRUE(e.moe);
  EXPECT_FALSE(e.moe->active_parameters);
  const Line* active = find_line(e, "experts", "active per token");
  ASSERT_TRUE(active);
  EXPECT_FALSE(active->known);
  EXPECT_FALSE(e.flops.forward_per_token);
  EXPECT_FALSE(e.flops.forward_per_sample);
  const Line* flops = find_line(e, "flops", "forward per token");
  ASSERT_TRUE(flops);
  EXPECT_FALSE(flops->known);
  EXPECT_EQ(flops->formula, "needs --experts-per-token");
  const std::vector<std::string> missing = {"routed experts' activations"};
  EXPECT_EQ(e.inference.missing, missing);
  EXPECT_EQ(e.training.missing, missing);
}

TEST(Moe, TheOptionGivesTopKAndOutranksConfig) {
  nlohmann::json t = truth();
  EstimateOptions o;
  o.experts_per_token = 2;
  Estimate e = estimate_folder("mixtral_no_topk", o);
  ASSERT_TRUE(e.moe && e.moe->active_parameters);
  EXPECT_EQ(e.moe->top_k_source, "--experts-per-token");
  EXPECT_EQ(*e.moe->active_parameters, t["mixtral"]["active_parameters"].get<uint64_t>());
  ASSERT_TRUE(e.flops.forward_per_token);
  EXPECT_EQ(*e.flops.forward_per_token, t["mixtral"]["forward_flops_per_token"].get<uint64_t>());

  // Top-1 over config.json's top-2: one expert fewer per MoE layer.
  o.experts_per_token = 1;
  Estimate one = estimate_folder("mixtral", o);
  ASSERT_TRUE(one.moe && one.moe->active_parameters);
  EXPECT_EQ(*one.moe->active_parameters,
            t["mixtral"]["active_parameters"].get<uint64_t>() - one.moe->experts.one_expert_per_layer);
  EXPECT_LT(*one.flops.forward_per_token, t["mixtral"]["forward_flops_per_token"].get<uint64_t>());

  o.experts_per_token = 5;  // Mixtral fixture: 4 experts a layer
  EXPECT_THROW(estimate_folder("mixtral", o), Error);
}

TEST(Moe, ConfigDisagreeingWithTheShapesIsANote) {
  Folder f = load_folder("mixtral");
  ASSERT_TRUE(f.config);
  EstimateOptions o;
  o.config = f.config;
  o.config->num_experts = 8;
  o.config->num_experts_per_tok = 6;
  Estimate e = estimate(f.checkpoint, o);
  EXPECT_TRUE(has_note(e, "config.json says 8 experts, the shapes 4: the shapes are used"));
  EXPECT_TRUE(has_note(e, "config.json says num_experts_per_tok 6, more than the 4 experts the shapes hold: not "
                          "used; --experts-per-token to give it"));
  ASSERT_TRUE(e.moe);
  EXPECT_EQ(e.moe->experts.experts, 4);
  EXPECT_FALSE(e.moe->active_parameters);
}

TEST(Moe, QwenExpertWidthIsCheckedAgainstMoeIntermediateSize) {
  Folder f = load_folder("qwen2_moe");
  ASSERT_TRUE(f.config && f.config->moe_intermediate_size);
  EstimateOptions o;
  o.config = f.config;
  o.config->moe_intermediate_size = 16;
  EXPECT_TRUE(has_note(estimate(f.checkpoint, o), "config.json says moe_intermediate_size 16, the shapes 12: the shapes are used"));
}

TEST(Moe, DeepSeekConfigNamesItsExpertsNRoutedExperts) {
  Folder f = load_folder("deepseek_v3");
  ASSERT_TRUE(f.config);
  EXPECT_EQ(f.config->num_experts, 8);
}

// gpt-oss keeps its experts fused, [experts, ...], and in MXFP4: counted at
// their logical shapes, the expert axis read from the first dimension.
TEST(Moe, FusedQuantizedExpertsCountAsLogicalParameters) {
  nlohmann::json t = test::read_fixture_json("fixtures/packed/expected.json");
  for (const char* name : {"gpt_oss_mxfp4.safetensors", "gpt_oss_mxfp4.pt"}) {
    SCOPED_TRACE(name);
    const nlohmann::json& want = t[name];
    Checkpoint c = load_checkpoint(test::fixture("packed/" + std::string(name)));
    std::optional<Experts> x = find_experts(c);
    ASSERT_TRUE(x);
    EXPECT_EQ(x->naming, "gpt_oss");
    EXPECT_EQ(x->moe_layers, 1);
    EXPECT_EQ(x->experts, want["logical"]["model.layers.0.mlp.experts.gate_up_proj"][0].get<int64_t>());
    // The packed weights' logical elements are all expert parameters.
    EXPECT_GE(x->expert_parameters, want["quantized_numel"].get<uint64_t>());
    EXPECT_EQ(x->expert_parameters + x->router_parameters, want["parameters"].get<uint64_t>());
    EXPECT_EQ(x->one_expert_per_layer * 2, x->expert_parameters);
    EstimateOptions o;
    o.dtype = WeightType::INT4;
    o.experts_per_token = 1;
    Estimate e = estimate(c, o);
    ASSERT_TRUE(e.moe && e.moe->active_parameters);
    EXPECT_EQ(*e.moe->active_parameters, want["parameters"].get<uint64_t>() - x->one_expert_per_layer);
    EXPECT_LT(e.moe->expert_bytes, x->expert_parameters);  // 4 bits: under a byte per weight
  }
}

TEST(Moe, DenseModelsHaveNoExperts) {
  Checkpoint c = load_checkpoint(test::fixture("arch/llama_tiny.pt"));
  EXPECT_FALSE(find_experts(c));
  EstimateOptions o;
  o.experts_per_token = 2;  // ignored: nothing to route
  Estimate e = estimate(c, o);
  EXPECT_FALSE(e.moe);
  EXPECT_EQ(find_line(e, "experts", "active per token"), nullptr);
  EXPECT_TRUE(has_note(e, "--experts-per-token ignored: no tensor is a routed expert's"));
}

TEST(Moe, NamesThatAreNotRoutedExperts) {
  EXPECT_TRUE(routed_expert_name("model.layers.0.mlp.experts.3.up_proj.weight"));
  EXPECT_TRUE(routed_expert_name("model.layers.0.mlp.experts.gate_up_proj"));
  EXPECT_TRUE(routed_expert_name("experts.0.w1.weight"));
  EXPECT_FALSE(routed_expert_name("model.layers.0.mlp.shared_experts.up_proj.weight"));
  EXPECT_FALSE(routed_expert_name("model.layers.0.mlp.shared_expert.up_proj.weight"));
  EXPECT_FALSE(routed_expert_name("model.layers.0.mlp.gate.weight"));

  // A router beside no experts is not one; shared experts need routed ones.
  Checkpoint c;
  c.roles_known = true;
  test::add_tensor(c, "m.layers.0.mlp.gate.weight", {4, 8}, Role::Parameter);
  test::add_tensor(c, "m.layers.0.mlp.shared_experts.up_proj.weight", {6, 8}, Role::Parameter);
  EXPECT_FALSE(find_experts(c));
  // Two experts under a ModuleList, counted by index; the router beside them.
  test::add_tensor(c, "m.layers.0.mlp.experts.0.gate_proj.weight", {6, 8}, Role::Parameter);
  test::add_tensor(c, "m.layers.0.mlp.experts.1.gate_proj.weight", {6, 8}, Role::Parameter);
  std::optional<Experts> x = find_experts(c);
  ASSERT_TRUE(x);
  EXPECT_EQ(x->experts, 2);
  EXPECT_EQ(x->expert_parameters, 96u);
  EXPECT_EQ(x->router_parameters, 32u);
  EXPECT_EQ(x->shared_parameters, 48u);
  EXPECT_EQ(x->naming, "deepseek");
  EXPECT_EQ(active_parameters(*x, 176, 1), 176u - 48u);
}

}  // namespace
}  // namespace ptscope
