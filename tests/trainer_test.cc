// Trainer checkpoints as trainers write them (fixtures/trainer/, written by
// scripts/make_trainer_fixtures.py): the model's parameters and buffers, the
// groups and their kinds, and estimate's answer, against the truth torch
// computed into fixtures/trainer/expected.json.
#include <gtest/gtest.h>

#include "fixture_files.h"
#include "ptscope/error.h"
#include "ptscope/estimate.h"
#include "ptscope/load.h"
#include "ptscope/summary.h"

namespace ptscope {
namespace {

nlohmann::json numel_or_null(const std::optional<Count>& c) {
  return c ? nlohmann::json(c->numel) : nlohmann::json();
}

TEST(TrainerCheckpoints, MatchWhatTorchSays) {
  nlohmann::json expected = test::read_fixture_json("fixtures/trainer/expected.json");
  ASSERT_GE(expected.size(), 16u);
  for (const auto& [file, truth] : expected.items()) {
    SCOPED_TRACE(file);
    Checkpoint c = load_checkpoint(test::fixture("trainer/" + file));
    Summary s = summarize(c);
    EXPECT_EQ(numel_or_null(s.parameters), truth["parameters"]);
    EXPECT_EQ(numel_or_null(s.buffers), truth["buffers"]);
    nlohmann::json groups = nlohmann::json::array();
    for (const Group& g : c.groups) groups.push_back({g.name, g.kind});
    EXPECT_EQ(groups, truth["groups"]);
    // estimate counts exactly the model inspect counts, or refuses.
    try {
      Estimate e = estimate(c, {});
      EXPECT_EQ(truth["estimate"], "ok");
      EXPECT_EQ(nlohmann::json(e.sizes.parameters), truth["parameters"]);
    } catch (const Error& err) {
      EXPECT_EQ(nlohmann::json(err.message()), truth["estimate"]);
    }
  }
}

// Loose tensors beside the containers that hold the model are their own
// groups, not parameters: the tutorial's `loss`, the ImageNet example's
// `best_acc1`.
TEST(TrainerCheckpoints, LooseTensorsAreNotTheModel) {
  Checkpoint c = load_checkpoint(test::fixture("trainer/imagenet_checkpoint.pth.tar"));
  for (const Tensor& t : c.tensors) {
    if (t.group == "best_acc1") EXPECT_EQ(t.role, Role::Other) << t.name;
    if (t.group == "optimizer") EXPECT_EQ(t.role, Role::Optimizer) << t.name;
  }
}

}  // namespace
}  // namespace ptscope
