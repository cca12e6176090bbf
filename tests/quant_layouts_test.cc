// Packed quantized layouts (src/torch/quant_layouts.cc): the fixtures in
// fixtures/packed/, written by scripts/make_packed_fixtures.py with each
// layout's own packing, against the unquantized model's truth; and hostile
// groups of tensors that look like a layout but do not add up.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fixture_files.h"
#include "model_tensors.h"
#include "byte_map.h"
#include "ptscope/architecture.h"
#include "ptscope/estimate.h"
#include "ptscope/load.h"
#include "ptscope/model_sizes.h"
#include "ptscope/summary.h"
#include "region_labels.h"
#include "reader.h"
#include "safetensors_builder.h"

namespace ptscope {
namespace {

using nlohmann::json;

class PackedFixture : public testing::TestWithParam<std::string> {};

TEST_P(PackedFixture, CountedAsTheModelItEncodes) {
  json expected = test::read_fixture_json("fixtures/packed/expected.json")[GetParam()];
  Checkpoint c = load_checkpoint(test::fixture("packed/" + GetParam()));
  EXPECT_EQ(model_sizes(c).parameters, expected["parameters"].get<uint64_t>());
  std::map<std::string, std::vector<int64_t>> logical;
  uint64_t numel = 0, stored = 0;
  for (const LogicalTensor& l : c.logical) {
    logical[l.tensor.name] = l.tensor.shape;
    numel += l.tensor.numel;
    stored += l.stored_bytes;
    EXPECT_EQ(l.scheme, expected["scheme"]) << l.tensor.name;
    EXPECT_EQ(l.bits, expected["bits"].get<double>()) << l.tensor.name;
    EXPECT_EQ(l.tensor.role, Role::Parameter);
  }
  EXPECT_EQ(logical, (expected["logical"].get<std::map<std::string, std::vector<int64_t>>>()));
  EXPECT_EQ(numel, expected["quantized_numel"].get<uint64_t>());
  EXPECT_EQ(stored, expected["stored_bytes"].get<uint64_t>());
  // Every stored tensor of a logical one is Quantized (one) or QuantMeta.
  for (const LogicalTensor& l : c.logical) {
    int packed = 0;
    for (int i : l.stored) {
      Role r = c.tensors[static_cast<size_t>(i)].role;
      EXPECT_TRUE(r == Role::Quantized || r == Role::QuantMeta);
      packed += r == Role::Quantized;
    }
    EXPECT_EQ(packed, 1) << l.tensor.name;
  }
}

TEST_P(PackedFixture, SummaryAndByteMap) {
  json expected = test::read_fixture_json("fixtures/packed/expected.json")[GetParam()];
  Checkpoint c = load_checkpoint(test::fixture("packed/" + GetParam()));
  Summary s = summarize(c);
  ASSERT_TRUE(s.parameters);
  EXPECT_EQ(s.parameters->numel, expected["parameters"].get<uint64_t>());
  ASSERT_TRUE(s.quantized);
  EXPECT_EQ(s.quantized->tensors, expected["logical"].size());
  EXPECT_EQ(s.quantized->numel, expected["quantized_numel"].get<uint64_t>());
  EXPECT_EQ(s.quantized->stored_bytes, expected["stored_bytes"].get<uint64_t>());
  EXPECT_EQ(s.quantized->bits_per_weight, expected["bits"].get<double>());
  EXPECT_EQ(s.quantized->schemes, std::vector<std::string>{expected["scheme"].get<std::string>()});
  bool meta = false;
  for (const ByteMapRow& r : byte_map(byte_ranges(c))) {
    EXPECT_NE(r.label, label::kUnusedStorage);
    meta = meta || r.label == label::kQuantMetadata;
  }
  EXPECT_TRUE(meta);
}

TEST_P(PackedFixture, ArchitectureOnLogicalShapes) {
  json expected = test::read_fixture_json("fixtures/packed/expected.json")[GetParam()];
  if (expected["config"].is_null()) GTEST_SKIP() << "not a recognised family";
  Checkpoint c = load_checkpoint(test::fixture("packed/" + GetParam()));
  auto a = recognize_architecture(c);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->family, expected["config"]["family"]);
  EXPECT_EQ(a->layers, expected["config"]["layers"]);
  EXPECT_EQ(a->hidden, expected["config"]["hidden"]);
  EXPECT_EQ(a->ffn, expected["config"]["ffn"]);
  EXPECT_EQ(a->vocab, expected["config"]["vocab"]);
  EXPECT_EQ(a->parameters_from_formula, expected["parameters"].get<uint64_t>()) << a->formula;
  EXPECT_EQ(stored_precision(c), expected["bits"] == 8 ? WeightType::INT8 : WeightType::INT4);
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, PackedFixture,
    testing::Values("llama_tiny_gptq.pt", "llama_tiny_gptq.safetensors", "llama_tiny_awq.pt",
                    "llama_tiny_awq.safetensors", "llama_tiny_bnb_nf4.pt", "llama_tiny_bnb_nf4.safetensors",
                    "llama_tiny_bnb_int8.pt", "llama_tiny_bnb_int8.safetensors", "llama_tiny_compressed.pt",
                    "llama_tiny_compressed.safetensors", "gpt_oss_mxfp4.pt", "gpt_oss_mxfp4.safetensors"),
    [](const auto& info) {
      std::string n = info.param;
      for (char& ch : n)
        if (ch == '.') ch = '_';
      return n;
    });

// A safetensors file of named tensors, each {dtype, shape, bytes}.
struct T {
  std::string name, dtype;
  std::vector<int64_t> shape;
  std::string data;
};

Checkpoint read(const std::vector<T>& ts) {
  json h = json::object();
  std::string data;
  for (const T& t : ts) {
    h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + t.data.size()}}};
    data += t.data;
  }
  return read_checkpoint(MemorySource(test::safetensors_bytes(h.dump(), data)), "q.safetensors");
}

std::string zeros(size_t n) { return std::string(n, '\0'); }

T quant_state(const std::string& text) {
  return {"l.weight.quant_state.bitsandbytes__nf4", "U8", {static_cast<int64_t>(text.size())}, text};
}

TEST(QuantLayouts, QweightThatDoesNotDivideIsCountedAsStored) {
  // scales say out = 7, qweight has 5 columns: neither GPTQ (5 != 7) nor
  // AWQ (32 * 5 / 7 is not a bit width).
  Checkpoint c = read({{"l.qweight", "I32", {3, 5}, zeros(60)},
                       {"l.qzeros", "I32", {1, 1}, zeros(4)},
                       {"l.scales", "F16", {1, 7}, zeros(14)}});
  EXPECT_TRUE(c.logical.empty());
  EXPECT_EQ(model_entries(c).size(), 3u);
}

TEST(QuantLayouts, GptqBitsFromQzeros) {
  // 8-bit GPTQ: qzeros [1, 16 * 8 / 32], qweight [64 * 8 / 32, 16].
  Checkpoint c = read({{"l.qweight", "I32", {16, 16}, zeros(1024)},
                       {"l.qzeros", "I32", {1, 4}, zeros(16)},
                       {"l.scales", "F16", {1, 16}, zeros(32)}});
  ASSERT_EQ(c.logical.size(), 1u);
  EXPECT_EQ(c.logical[0].tensor.shape, (std::vector<int64_t>{16, 64}));
  EXPECT_EQ(c.logical[0].bits, 8);
}

TEST(QuantLayouts, MalformedHugeOrInconsistentQuantStateFallsBack) {
  std::string big = "{\"shape\": [4, 4], \"pad\": \"" + std::string(70000, 'x') + "\"}";
  for (const std::string& state :
       {std::string("{\"shape\": [4, "), std::string("[1, 2]"), std::string("{\"shape\": [4, 6]}"),
        std::string("{\"shape\": [4611686018427387904, 4]}"), std::string("{\"shape\": [-4, -2]}"),
        std::string("{\"shape\": \"4x4\"}"), big}) {
    Checkpoint c = read({{"l.weight", "U8", {8, 1}, zeros(8)}, quant_state(state)});
    EXPECT_TRUE(c.logical.empty()) << state.substr(0, 40);
    EXPECT_EQ(c.tensors[0].role, Role::Buffer);
  }
  Checkpoint ok = read({{"l.weight", "U8", {8, 1}, zeros(8)},
                        quant_state("{\"shape\": [4, 4], \"dtype\": \"bfloat16\", \"quant_type\": \"nf4\"}")});
  ASSERT_EQ(ok.logical.size(), 1u);
  EXPECT_EQ(ok.logical[0].tensor.shape, (std::vector<int64_t>{4, 4}));
  EXPECT_EQ(ok.logical[0].tensor.dtype, DType::BFloat16);
}

TEST(QuantLayouts, CompressedWithoutShapeAssumesFourBits) {
  Checkpoint c = read({{"l.weight_packed", "I32", {4, 2}, zeros(32)}, {"l.weight_scale", "F16", {4, 1}, zeros(8)}});
  ASSERT_EQ(c.logical.size(), 1u);
  EXPECT_EQ(c.logical[0].tensor.shape, (std::vector<int64_t>{4, 16}));
  EXPECT_NE(c.logical[0].scheme.find("assumed"), std::string::npos);
}

}  // namespace
}  // namespace ptscope
