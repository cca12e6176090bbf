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
  // output scale and zero point as numbers, not tensors. An LSTM's cell
  // params are ScriptObjects in state_dict(): their tensors are named under
  // that entry (lstm._all_weight_values.0.param.bias_ih).
  std::set<std::string> names;
  for (const Tensor& t : c.tensors) {
    if (t.rule == "torch.ao per-channel qparams") {
      EXPECT_EQ(t.role, Role::QuantMeta) << t.name;
      continue;
    }
    names.insert(t.name);
  }
  {
    std::set<std::string> truth = stored_names(want["state_dict"]);
    std::vector<std::string> objects;
    for (const auto& [n, what] : want["state_dict"].items())
      if (what == "ScriptObject") objects.push_back(n + ".");
    for (const std::string& n : names) {
      bool inside = false;
      for (const std::string& o : objects) inside = inside || n.rfind(o, 0) == 0;
      EXPECT_TRUE(truth.count(n) || inside) << n;
    }
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

  // The parameters counted are the float model's, by name and shape: the
  // logical tensors and the stored parameters no logical tensor covers.
  std::map<std::string, std::vector<int64_t>> counted, truth;
  for (const LogicalTensor& l : c.logical)
    if (l.tensor.role == Role::Parameter)
      EXPECT_TRUE(counted.emplace(l.tensor.name, l.tensor.shape).second) << l.tensor.name;
  for (const Tensor& t : c.tensors)
    if (t.role == Role::Parameter) EXPECT_TRUE(counted.emplace(t.name, t.shape).second) << t.name;
  for (const auto& [n, shape] : want["float_shapes"].items())
    truth[n] = shape.get<std::vector<int64_t>>();
  EXPECT_EQ(counted, truth);
}

INSTANTIATE_TEST_SUITE_P(Quantized, TorchAoTest,
                         ::testing::Values("static_per_channel_state_dict.pt",
                                           "static_per_tensor_state_dict.pt",
                                           "static_per_channel_scripted.pt",
                                           "dynamic_linear_state_dict.pt",
                                           "dynamic_linear_module.pt",
                                           "dynamic_linear_scripted.pt",
                                           "dynamic_lstm_state_dict.pt",
                                           "dynamic_lstm_module.pt",
                                           "dynamic_gru_state_dict.pt",
                                           "dynamic_bilstm_state_dict.pt"),
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

TEST(TorchAo, LstmCellParamsAreNamedAsTheFloatLstm) {
  Checkpoint c = load_checkpoint(test::fixture("quantized/dynamic_bilstm_state_dict.pt"));
  std::map<std::string, const LogicalTensor*> by_name;
  for (const LogicalTensor& l : c.logical) by_name[l.tensor.name] = &l;
  ASSERT_TRUE(by_name.count("lstm.weight_ih_l1_reverse"));
  EXPECT_EQ(by_name["lstm.weight_ih_l1_reverse"]->tensor.shape,
            (std::vector<int64_t>{64, 32}));  // reads both directions of layer 0
  EXPECT_EQ(by_name["lstm.weight_ih_l0_reverse"]->tensor.shape, (std::vector<int64_t>{64, 8}));
  // The bias is stored twice, in the cell and in its packed Linear params:
  // one logical tensor over both copies.
  ASSERT_TRUE(by_name.count("lstm.bias_hh_l1"));
  const LogicalTensor& b = *by_name["lstm.bias_hh_l1"];
  ASSERT_EQ(b.stored.size(), 2u);
  EXPECT_EQ(c.tensors[static_cast<size_t>(b.stored[0])].name,
            "lstm._all_weight_values.2.param.bias_hh");
  EXPECT_EQ(c.tensors[static_cast<size_t>(b.stored[1])].name,
            "lstm._all_weight_values.2.param.packed_hh.1");
  EXPECT_EQ(c.tensors[static_cast<size_t>(b.stored[1])].role, Role::Quantized);
  EXPECT_EQ(b.stored_bytes, 2u * 64 * 4);
  EXPECT_EQ(b.tensor.rule, "torch.ao cell params bias");
}

}  // namespace
}  // namespace ptscope
