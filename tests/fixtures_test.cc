// Every committed fixture against the numbers Python's own torch computed
// for it (fixtures/expected.json, written by scripts/make_fixtures.py).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "byte_map.h"
#include "module_tree.h"
#include "ptscope/summary.h"
#include "reader.h"
#include "fixture_files.h"

namespace ptscope {
namespace {

using json = nlohmann::json;

json expected_all() { return json::parse(test::slurp(test::fixture("expected.json"))); }

class FixtureTest : public ::testing::TestWithParam<std::string> {};

void expect_count(const std::optional<Count>& got, const json& want, const std::string& what) {
  if (want.is_null()) return;  // Python had no model to ask
  ASSERT_TRUE(got.has_value()) << what;
  EXPECT_EQ(got->tensors, want["tensors"].get<uint64_t>()) << what;
  EXPECT_EQ(got->numel, want["numel"].get<uint64_t>()) << what;
}

TEST_P(FixtureTest, MatchesTorch) {
  const std::string name = GetParam();
  const json want = expected_all()[name];
  Checkpoint c = load_checkpoint(test::fixture(name));
  Summary s = summarize(c);

  EXPECT_EQ(format_name(c.format), want["format"].get<std::string>());
  EXPECT_EQ(c.file_bytes, want["file_bytes"].get<uint64_t>());
  EXPECT_EQ(s.all.tensors, want["tensors"].get<uint64_t>());
  EXPECT_EQ(s.all.numel, want["numel"].get<uint64_t>());
  EXPECT_EQ(s.unique_numel, want["unique_numel"].get<uint64_t>());
  EXPECT_EQ(s.all.bytes, want["tensor_bytes"].get<uint64_t>());
  EXPECT_EQ(s.storage_bytes, want["storage_bytes"].get<uint64_t>());
  expect_count(s.parameters, want["parameters"], "parameters");
  expect_count(s.buffers, want["buffers"], "buffers");

  json dtypes = json::object();
  for (const auto& [dt, n] : s.dtypes)
    dtypes[dt] = {{"tensors", n.tensors}, {"numel", n.numel}, {"bytes", n.bytes}};
  EXPECT_EQ(dtypes, want["dtypes"]);

  std::vector<std::vector<std::string>> tied;
  for (const SharedStorage& sh : s.shared)
    if (sh.tied) {
      auto names = sh.names;
      std::sort(names.begin(), names.end());
      tied.push_back(names);
    }
  std::sort(tied.begin(), tied.end());
  EXPECT_EQ(json(tied), want["tied"]);

  if (want.contains("groups")) {
    json groups = json::array();
    for (const GroupSummary& g : s.groups)
      groups.push_back({{"name", g.name}, {"tensors", g.all.tensors}, {"numel", g.all.numel}});
    EXPECT_EQ(groups, want["groups"]);
  }
  if (want.contains("constants")) {
    EXPECT_EQ(s.constants.tensors, want["constants"]["tensors"].get<uint64_t>());
    EXPECT_EQ(s.constants.numel, want["constants"]["numel"].get<uint64_t>());
  }
  if (want.contains("entries")) {
    json entries = json::array();
    for (const Tensor& t : c.tensors)
      entries.push_back({{"name", t.name}, {"dtype", dtype_name(t.dtype)}, {"shape", t.shape},
                         {"numel", t.numel}, {"stride", t.stride},
                         {"storage_offset", t.storage_offset}});
    EXPECT_EQ(entries, want["entries"]);
  }
}

// bloaty's invariants, on every fixture: the byte map tiles the file, and
// every breakdown adds up to its total.
TEST_P(FixtureTest, BreakdownsAddUp) {
  Checkpoint c = load_checkpoint(test::fixture(GetParam()));
  Summary s = summarize(c);

  uint64_t next = 0;
  for (const ByteRange& r : byte_ranges(c)) {
    EXPECT_EQ(r.offset, next) << r.label;
    EXPECT_GT(r.size, 0u) << r.label;
    next = r.offset + r.size;
  }
  EXPECT_EQ(next, c.file_bytes);
  uint64_t mapped = 0, tensor_data = 0;
  for (const ByteMapRow& r : byte_map(byte_ranges(c))) {
    mapped += r.bytes;
    if (r.label == "tensor data" || r.label == "unused storage") tensor_data += r.bytes;
    EXPECT_NE(r.label, "unlabelled") << "a byte range nobody claimed";
  }
  EXPECT_EQ(mapped, c.file_bytes);
  EXPECT_EQ(static_cast<int64_t>(c.file_bytes) - s.overhead_bytes,
            static_cast<int64_t>(s.storage_bytes));

  Count dtypes;
  for (const auto& [name, n] : s.dtypes) {
    dtypes.tensors += n.tensors;
    dtypes.numel += n.numel;
    dtypes.bytes += n.bytes;
  }
  EXPECT_EQ(dtypes.tensors, s.all.tensors);
  EXPECT_EQ(dtypes.numel, s.all.numel);
  EXPECT_EQ(dtypes.bytes, s.all.bytes);

  Count top;
  for (const TreeRow& r : module_tree(c, 3))
    if (r.depth == 1) {
      top.tensors += r.all.tensors;
      top.numel += r.all.numel;
    }
  EXPECT_EQ(top.tensors, s.all.tensors);
  EXPECT_EQ(top.numel, s.all.numel);

  if (!s.groups.empty()) {
    Count groups;
    for (const GroupSummary& g : s.groups) {
      groups.tensors += g.all.tensors;
      groups.numel += g.all.numel;
    }
    EXPECT_EQ(groups.tensors, s.all.tensors);
    EXPECT_EQ(groups.numel, s.all.numel);
  }
  if (s.parameters) {
    EXPECT_LE(s.parameters->numel + s.buffers->numel, s.unique_numel);
  }
}

std::vector<std::string> fixture_names() {
  std::vector<std::string> names;
  const json all = expected_all();
  for (const auto& [name, v] : all.items()) names.push_back(name);
  return names;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param;
  for (char& ch : n)
    if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureTest, ::testing::ValuesIn(fixture_names()), test_name);

// Roles in a state_dict come from rules; each tensor says which one.
TEST(FixtureRoles, EachTensorNamesItsRule) {
  Checkpoint c = load_checkpoint(test::fixture("cnn_state_dict.pt"));
  std::map<std::string, std::pair<Role, std::string>> got;
  for (const Tensor& t : c.tensors) got[t.name] = {t.role, t.rule};
  EXPECT_EQ(got["bn1.running_mean"], std::make_pair(Role::Buffer, std::string("batchnorm running stat")));
  EXPECT_EQ(got["bn1.num_batches_tracked"],
            std::make_pair(Role::Buffer, std::string("num_batches_tracked")));
  EXPECT_EQ(got["conv1.weight"], std::make_pair(Role::Parameter, std::string("floating tensor")));
}

TEST(FixtureRoles, TorchScriptRolesComeFromTheArchive) {
  Checkpoint c = load_checkpoint(test::fixture("scripted_cnn.pt"));
  ASSERT_FALSE(c.tensors.empty());
  for (const Tensor& t : c.tensors)
    EXPECT_TRUE(t.rule == "TorchScript __parameters__" || t.rule == "TorchScript __buffers__")
        << t.name << ": " << t.rule;
}

TEST(FixtureRoles, NestedCheckpointParametersAreTheModels) {
  Checkpoint c = load_checkpoint(test::fixture("training_checkpoint.pt"));
  Summary s = summarize(c);
  ASSERT_EQ(s.groups.size(), 3u);
  EXPECT_EQ(s.groups[0].kind, "model");
  EXPECT_EQ(s.groups[1].kind, "optimizer");
  EXPECT_EQ(s.groups[2].kind, "ema");
  ASSERT_TRUE(s.parameters && s.groups[0].parameters);
  EXPECT_EQ(s.parameters->numel, s.groups[0].parameters->numel);
  EXPECT_FALSE(s.groups[1].parameters.has_value());
  EXPECT_NE(std::find(c.globals.begin(), c.globals.end(), "argparse.Namespace"), c.globals.end());
}

}  // namespace
}  // namespace ptscope
