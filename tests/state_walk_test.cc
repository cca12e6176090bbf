// Naming and grouping of the tensors in an object graph, on graphs built
// value by value.
#include <gtest/gtest.h>

#include "byte_source.h"
#include "state_walk.h"

namespace ptscope {
namespace {

class Graph {
 public:
  Graph() : src_(std::string("N.")), p_(Pickle::parse(src_, 0, 2, "test")) {
    Tensor t;
    t.shape = {2};
    t.stride = {1};
    t.numel = 2;
    pool_.push_back(t);
  }
  Value* str(const std::string& s) {
    Value* v = p_->make(Kind::Str, 0);
    v->s = s;
    return v;
  }
  Value* tensor() {
    Value* v = p_->make(Kind::Tensor, 0);
    v->i = 0;
    return v;
  }
  Value* dict(std::vector<std::pair<std::string, Value*>> kv) {
    Value* d = p_->make(Kind::Dict, 0);
    for (auto& [k, v] : kv) {
      d->items.push_back(str(k));
      d->items.push_back(v);
    }
    return d;
  }
  WalkResult walk(const Value* root) { return walk_state(root, pool_); }

 private:
  MemorySource src_;
  std::unique_ptr<Pickle> p_;
  std::vector<Tensor> pool_;
};

TEST(StateWalk, FlatStateDictHasNoGroups) {
  Graph g;
  WalkResult r = g.walk(g.dict({{"fc.weight", g.tensor()}, {"fc.bias", g.tensor()}}));
  ASSERT_EQ(r.tensors.size(), 2u);
  EXPECT_EQ(r.tensors[1].name, "fc.bias");
  EXPECT_TRUE(r.state_dict);
  EXPECT_TRUE(r.groups.empty());
}

TEST(StateWalk, NestedCheckpointGroupsByTopLevelKey) {
  Graph g;
  Value* opt = g.dict({{"state", g.dict({{"0", g.dict({{"exp_avg", g.tensor()}})}})},
                       {"param_groups", g.dict({})}});
  WalkResult r = g.walk(g.dict({{"model", g.dict({{"w", g.tensor()}})},
                                {"schema", g.dict({{"w", g.tensor()}})},
                                {"model_ema", g.dict({{"w", g.tensor()}})},
                                {"ema.shadow", g.dict({{"w", g.tensor()}})},
                                {"opt", opt},
                                {"lr_scheduler", g.dict({{"w", g.tensor()}})}}));
  std::map<std::string, std::string> kind;
  for (const Group& grp : r.groups) kind[grp.name] = grp.kind;
  EXPECT_EQ(kind["model"], "model");
  EXPECT_EQ(kind["schema"], "model");  // "ema" inside a word is not an EMA copy
  EXPECT_EQ(kind["model_ema"], "ema");
  EXPECT_EQ(kind["ema.shadow"], "ema");  // a dotted key is still one group
  EXPECT_EQ(kind["opt"], "optimizer");  // by its state/param_groups shape
  EXPECT_EQ(kind["lr_scheduler"], "other");
  for (const Tensor& t : r.tensors) {
    if (t.group == "opt") EXPECT_EQ(t.role, Role::Optimizer) << t.name;
    if (t.group == "lr_scheduler") EXPECT_EQ(t.role, Role::Other) << t.name;
    if (t.group == "model") EXPECT_EQ(t.role, Role::Unknown) << t.name;  // left for the rules
  }
}

TEST(StateWalk, CyclesAreWalkedOnce) {
  Graph g;
  Value* d = g.dict({{"w", g.tensor()}});
  d->items.push_back(g.str("self"));
  d->items.push_back(d);
  WalkResult r = g.walk(d);
  EXPECT_EQ(r.tensors.size(), 1u);
}

}  // namespace
}  // namespace ptscope
