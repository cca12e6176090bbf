// Analyses over hand-built checkpoints: the numbers follow from definitions,
// not from a file.
#include <algorithm>
#include <gtest/gtest.h>

#include "byte_map.h"
#include "module_tree.h"
#include "ptscope/estimate.h"
#include "ptscope/load.h"
#include "ptscope/summary.h"
#include "checkpoint_builder.h"
#include "roles.h"

namespace ptscope {
namespace {

Tensor tensor(const std::string& name, std::vector<int64_t> shape, int storage,
              uint64_t offset = 0, DType dtype = DType::Float32) {
  Tensor t = test::contiguous_tensor(name, shape, dtype);
  t.storage = storage;
  t.storage_offset = offset;
  return t;
}

Checkpoint tied_model() {
  Checkpoint c;
  c.file_bytes = 1000;
  c.roles_known = true;
  c.storages = {{"0", DType::Float32, 400, 100, "cpu"}, {"1", DType::Float32, 40, 600, "cpu"},
                {"2", DType::Int64, 8, 700, "cpu"}};
  c.tensors = {tensor("emb.weight", {10, 10}, 0), tensor("head.weight", {10, 10}, 0),
               tensor("head.bias", {10}, 1), tensor("bn.num_batches_tracked", {}, 2, 0, DType::Int64)};
  c.regions = {{100, 400, "tensor data", 0}, {600, 40, "tensor data", 1},
               {700, 8, "tensor data", 2}, {0, 100, "pickle", -1}};
  classify_roles(c);
  return c;
}

TEST(Summary, TiedWeightsCountOnceAsParameters) {
  Summary s = summarize(tied_model());
  EXPECT_EQ(s.all.tensors, 4u);
  EXPECT_EQ(s.all.numel, 211u);          // sum(v.numel() for v in state_dict.values())
  EXPECT_EQ(s.unique_numel, 111u);       // emb.weight and head.weight are one tensor
  ASSERT_TRUE(s.parameters);
  EXPECT_EQ(s.parameters->numel, 110u);  // model.parameters() yields the tied weight once
  EXPECT_EQ(s.parameters->tensors, 2u);
  EXPECT_EQ(s.buffers->numel, 1u);
  EXPECT_EQ(s.storage_bytes, 448u);
  EXPECT_EQ(s.overhead_bytes, 552);
  ASSERT_EQ(s.shared.size(), 1u);
  EXPECT_TRUE(s.shared[0].tied);
  EXPECT_EQ(s.shared[0].names, (std::vector<std::string>{"emb.weight", "head.weight"}));
}

TEST(Summary, UnknownRolesAreNull) {
  Checkpoint c = tied_model();
  c.roles_known = false;
  Summary s = summarize(c);
  EXPECT_FALSE(s.parameters.has_value());
  EXPECT_FALSE(s.buffers.has_value());
}

TEST(ByteMap, GapsAreUnlabelledAndTheMapTilesTheFile) {
  Checkpoint c = tied_model();
  std::vector<ByteRange> r = byte_ranges(c);
  // pickle [0,100) tensor [100,500) gap [500,600) tensor [600,640) gap tensor [700,708) gap
  ASSERT_EQ(r.size(), 7u);
  EXPECT_EQ(r[2].label, "unlabelled");
  EXPECT_EQ(r[2].offset, 500u);
  EXPECT_EQ(r[6].offset + r[6].size, 1000u);
  uint64_t total = 0;
  for (const ByteMapRow& row : byte_map(byte_ranges(c))) total += row.bytes;
  EXPECT_EQ(total, 1000u);
}

TEST(ByteMap, StorageBytesNoTensorReachesAreUnused) {
  Checkpoint c;
  c.file_bytes = 100;
  c.storages = {{"0", DType::Float32, 100, 0, "cpu"}};
  c.tensors = {tensor("a", {5}, 0, 0), tensor("b", {5}, 0, 20)};  // bytes [0,20) and [80,100)
  c.regions = {{0, 100, "tensor data", 0}};
  std::map<std::string, uint64_t> m;
  for (const ByteMapRow& r : byte_map(byte_ranges(c))) m[r.label] = r.bytes;
  EXPECT_EQ(m["tensor data"], 40u);
  EXPECT_EQ(m["unused storage"], 60u);
}

TEST(ByteMap, OverlappingRegionsAreCountedOnce) {
  Checkpoint c;
  c.file_bytes = 50;
  c.regions = {{0, 30, "pickle", -1}, {20, 30, "zip central directory", -1}};
  uint64_t total = 0;
  for (const ByteMapRow& r : byte_map(byte_ranges(c))) total += r.bytes;
  EXPECT_EQ(total, 50u);
}

// The map made without keeping ranges is the one made from them, rows in
// the same order, whatever order the readers gave the regions in.
TEST(ByteMap, SummedDirectlyAsFromTheRanges) {
  Checkpoint c = tied_model();
  std::reverse(c.regions.begin(), c.regions.end());
  std::vector<ByteMapRow> direct = byte_map(c), ranged = byte_map(byte_ranges(c));
  ASSERT_EQ(direct.size(), ranged.size());
  ASSERT_GE(direct.size(), 3u);
  for (size_t i = 0; i < direct.size(); ++i) {
    EXPECT_EQ(direct[i].label, ranged[i].label);
    EXPECT_EQ(direct[i].bytes, ranged[i].bytes);
  }
  EXPECT_EQ(byte_ranges(c)[2].offset, 500u);  // sorted by offset before the gaps are found
}

TEST(Roles, RulesInOrder) {
  struct Case { const char* name; DType dtype; bool parameter_object; Role role; const char* rule; };
  const Case cases[] = {
      {"bn.running_mean", DType::Float32, false, Role::Buffer, "batchnorm running stat"},
      {"bn.running_var", DType::Float32, false, Role::Buffer, "batchnorm running stat"},
      {"bn.num_batches_tracked", DType::Int64, false, Role::Buffer, "num_batches_tracked"},
      {"tokens", DType::Int32, false, Role::Buffer, "non-float dtype"},
      {"emb.position_ids", DType::Float32, false, Role::Buffer, "known buffer name"},
      {"rope.inv_freq", DType::Float32, false, Role::Buffer, "known buffer name"},
      {"fc.weight", DType::BFloat16, false, Role::Parameter, "floating tensor"},
      {"odd.running_mean", DType::Float32, true, Role::Parameter, "nn.Parameter object"},
  };
  for (const Case& k : cases) {
    Checkpoint c;
    c.roles_known = true;
    c.tensors = {tensor(k.name, {2}, -1, 0, k.dtype)};
    c.tensors[0].parameter_object = k.parameter_object;
    classify_roles(c);
    EXPECT_EQ(c.tensors[0].role, k.role) << k.name;
    EXPECT_EQ(c.tensors[0].rule, k.rule) << k.name;
  }
}

TEST(Tree, AggregatesByPrefixToDepth) {
  Checkpoint c;
  c.tensors = {tensor("layer1.0.conv.weight", {4}, -1), tensor("layer1.1.conv.weight", {4}, -1),
               tensor("fc.weight", {2}, -1), tensor("scale", {1}, -1)};
  auto rows = module_tree(c, 2);
  std::map<std::string, uint64_t> numel;
  for (const TreeRow& r : rows) numel[r.prefix] = r.all.numel;
  EXPECT_EQ(numel["layer1"], 8u);
  EXPECT_EQ(numel["layer1.0"], 4u);
  EXPECT_EQ(numel["fc"], 2u);
  EXPECT_EQ(numel["(root)"], 1u);
  EXPECT_EQ(numel.count("layer1.0.conv"), 0u);
}

TEST(WhatIf, SizesAndImpliedCounts) {
  ModelSizes m;
  m.parameters = 7'000'000'000;
  EXPECT_EQ(weight_bytes(WeightType::FP32, m), 28'000'000'000u);
  EXPECT_EQ(weight_bytes(WeightType::BF16, m), 14'000'000'000u);
  // Matrices: 4 bits each plus 2.5 bytes per group of 128, rounded up.
  m.matrix_parameters = 7'000'000'000;
  m.matrix_rows = 1'000'000;
  EXPECT_EQ(weight_bytes(WeightType::INT4, m), 3'500'000'000u + 136'718'750u);
  EXPECT_EQ(weight_bytes(WeightType::INT8, m), 7'000'000'000u + 2'000'000u);
  // 64 weights of a 128-group take 64 bytes + 2.5 bytes.
  EXPECT_EQ(parameters_in(133, WeightType::INT4), 256u);
  EXPECT_EQ(parameters_in(2'000'000'000, WeightType::FP16), 1'000'000'000u);
}

TEST(WhatIf, InspectAndEstimateAgree) {
  // The summary's precision table and the estimate's weights are one formula.
  Checkpoint c = load_checkpoint(PTSCOPE_SOURCE_DIR "/fixtures/arch/gpt2_tiny.pt");
  Summary s = summarize(c);
  for (WeightType w : kWeightTypes) {
    EstimateOptions o;
    o.dtype = w;
    Estimate e = estimate(c, o);
    EXPECT_EQ(s.precisions[static_cast<size_t>(w)].bytes + e.sizes.buffer_bytes, e.inference.weights)
        << weight_type_name(w);
  }
}

}  // namespace
}  // namespace ptscope
