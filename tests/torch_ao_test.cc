// torch.ao quantized models (fixtures/quantized/, written by
// scripts/make_quantized_fixtures.py) counted as the float model they
// encode: the parameters equal the float model's sum(p.numel()), and every
// quantized state_dict entry is named as state_dict() names it.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "ptscope/summary.h"
#include "reader.h"
#include "fixture_files.h"

namespace ptscope {
namespace {

using json = nlohmann::json;

json expected() { return test::read_fixture_json("fixtures/quantized/expected.json"); }

class TorchAoTest : public ::testing::TestWithParam<std::string> {};

// The tensor names state_dict() gives, with "(w, b)" tuples of packed
// params as NAME.0 and NAME.1 and per-channel qparams after their tensor.
std::set<std::string> stored_names(const json& state_dict) {
  std::set<std::string> out;
  for (const auto& [name, what] : state_dict.items()) {
    std::string w = what.get<std::string>();
    if (w[0] == '(') {
      out.insert(name + ".0");
      if (w.find(", None)") == std::string::npos) out.insert(name + ".1");
    } else if (w.find('[') != std::string::npos) {
      out.insert(name);
    }
  }
  return out;
}

TEST_P(TorchAoTest, CountsTheFloatModel) {
  const std::string name = GetParam();
  const json want = expected()[name];
  Checkpoint c = load_checkpoint(test::fixture("quantized/" + name));
  Summary s = summarize(c);
  ASSERT_TRUE(s.parameters.has_value());
  EXPECT_EQ(s.parameters->numel, want["float_parameters"].get<uint64_t>());
  EXPECT_EQ(s.parameters->tensors, want["float_tensors"].get<uint64_t>());

  // Every stored tensor is named as in state_dict(), or is the per-channel
  // qparams of a named qtensor. A pickled or scripted module keeps its
  // output scale and zero point as numbers, not tensors. The LSTM's cell
  // params (ScriptObjects in state_dict()) are not compared.
  std::set<std::string> names;
  for (const Tensor& t : c.tensors) {
    if (t.rule == "torch.ao per-channel qparams") {
      EXPECT_EQ(t.role, Role::QuantMeta) << t.name;
      continue;
    }
    names.insert(t.name);
  }
  if (name.find("lstm") == std::string::npos) {
    std::set<std::string> truth = stored_names(want["state_dict"]);
    for (const std::string& n : names) EXPECT_TRUE(truth.count(n)) << n;
    for (const std::string& n : truth) {
      bool number = n.size() > 6 && (n.substr(n.size() - 6) == ".scale" ||
                                     n.find(".zero_point") != std::string::npos);
      if (!number || want["how"] == "state_dict") EXPECT_TRUE(names.count(n)) << n;
    }
  }

  // Each logical tensor is stored by a qtensor or a packed bias, and no
  // qint tensor counts as a parameter or buffer.
  for (const LogicalTensor& l : c.logical) {
    ASSERT_FALSE(l.stored.empty());
    EXPECT_EQ(c.tensors[static_cast<size_t>(l.stored[0])].role, Role::Quantized) << l.tensor.name;
    EXPECT_EQ(l.tensor.numel, c.tensors[static_cast<size_t>(l.stored[0])].numel);
  }
  for (const Tensor& t : c.tensors)
    if (std::string(dtype_name(t.dtype)).rfind("q", 0) == 0)
      EXPECT_EQ(t.role, Role::Quantized) << t.name;
}

INSTANTIATE_TEST_SUITE_P(Quantized, TorchAoTest,
                         ::testing::Values("static_per_channel_state_dict.pt",
                                           "static_per_tensor_state_dict.pt",
                                           "static_per_channel_scripted.pt",
                                           "dynamic_linear_state_dict.pt",
                                           "dynamic_linear_module.pt",
                                           "dynamic_linear_scripted.pt"),
                         [](const auto& info) {
                           std::string n = info.param;
                           return n.substr(0, n.size() - 3);
                         });

TEST(TorchAo, PackedParamsAreNamedAfterTheirModule) {
  Checkpoint c = load_checkpoint(test::fixture("quantized/dynamic_linear_state_dict.pt"));
  std::map<std::string, const LogicalTensor*> by_name;
  for (const LogicalTensor& l : c.logical) by_name[l.tensor.name] = &l;
  ASSERT_TRUE(by_name.count("fc1.weight"));
  ASSERT_TRUE(by_name.count("fc1.bias"));
  const LogicalTensor& w = *by_name["fc1.weight"];
  EXPECT_EQ(w.scheme, "torch.ao qint8 per-tensor");
  EXPECT_EQ(w.bits, 8);
  EXPECT_EQ(w.tensor.shape, (std::vector<int64_t>{64, 32}));
  EXPECT_EQ(w.tensor.dtype, DType::Float32);
  EXPECT_EQ(w.tensor.role, Role::Parameter);
}

TEST(TorchAo, PerChannelScalesAreStoredWithTheirWeight) {
  Checkpoint c = load_checkpoint(test::fixture("quantized/static_per_channel_state_dict.pt"));
  const LogicalTensor* conv = nullptr;
  for (const LogicalTensor& l : c.logical)
    if (l.tensor.name == "conv1.weight") conv = &l;
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->scheme, "torch.ao qint8 per-channel");
  ASSERT_EQ(conv->stored.size(), 3u);
  EXPECT_EQ(c.tensors[static_cast<size_t>(conv->stored[1])].name,
            "conv1.weight.q_per_channel_scales");
  // 216 qint8 values, 8 float64 scales, 8 int64 zero points.
  EXPECT_EQ(conv->stored_bytes, 216u + 8 * 8 + 8 * 8);
  for (const Tensor& t : c.tensors)
    if (t.name == "conv1.scale" || t.name == "quant.zero_point")
      EXPECT_EQ(t.role, Role::QuantMeta) << t.name;
}

}  // namespace
}  // namespace ptscope
