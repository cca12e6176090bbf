// Naming and grouping of the tensors in an object graph, on graphs built
// value by value; then the walk's limits on hostile graphs (shared
// containers, long memoized keys) with their exact errors.
#include <gtest/gtest.h>

#include "byte_source.h"
#include "pickle_builder.h"
#include "ptscope/error.h"
#include "state_walk.h"
#include "torch_hooks.h"

namespace ptscope {
namespace {

class Graph {
 public:
  // Pool tensor i has shape {i + 2}, so an entry shows which it took.
  explicit Graph(size_t pool = 1) : src_(std::string("N.")), p_(Pickle::parse(src_, 0, 2, "test")) {
    for (size_t i = 0; i < pool; ++i) {
      Tensor t;
      t.shape = {static_cast<int64_t>(i + 2)};
      t.stride = {1};
      t.numel = i + 2;
      pool_.push_back(t);
    }
  }
  Value* str(const std::string& s) {
    Value* v = p_->make(Kind::Str, 0);
    v->s = s;
    return v;
  }
  Value* tensor(int64_t i = 0) {
    Value* v = p_->make(Kind::Tensor, 0);
    v->i = i;
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

// Entries are made in the pool itself while entry k is pool tensor k; any
// other order, a tied weight or a tensor left out moves them to a table of
// their own. Either way each entry keeps its own tensor.
TEST(StateWalk, EntriesInAnyOrderKeepTheirTensors) {
  struct Row {
    const char* what;
    std::vector<int64_t> order;  // pool index of each entry, in dict order
    const char* expected;        // name:size of each entry
  };
  std::vector<Row> rows = {
      {"pool order", {0, 1, 2}, "t0:2 t1:3 t2:4"},
      {"one left out at the end", {0, 1}, "t0:2 t1:3"},
      {"one left out first", {1, 2}, "t0:3 t1:4"},
      {"reversed", {2, 1, 0}, "t0:4 t1:3 t2:2"},
      {"a tied weight", {0, 1, 0, 2}, "t0:2 t1:3 t2:2 t3:4"},
      {"tied first", {0, 0, 1}, "t0:2 t1:2 t2:3"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.what);
    Graph g(3);
    std::vector<std::pair<std::string, Value*>> kv;
    for (size_t k = 0; k < row.order.size(); ++k)
      kv.push_back({"t" + std::to_string(k), g.tensor(row.order[k])});
    WalkResult r = g.walk(g.dict(kv));
    std::string got;
    for (const Tensor& t : r.tensors)
      got += (got.empty() ? "" : " ") + t.name + ":" + std::to_string(t.shape.at(0));
    EXPECT_EQ(row.expected, got);
  }
}

TEST(StateWalk, NestedCheckpointGroupsByTopLevelKey) {
  Graph g;
  Value* opt = g.dict({{"state", g.dict({{"0", g.dict({{"exp_avg", g.tensor()}})}})},
                       {"param_groups", g.dict({})}});
  WalkResult r = g.walk(g.dict({{"model", g.dict({{"w", g.tensor()}})},
                                {"schema", g.dict({{"fc.w", g.tensor()}})},
                                {"model_ema", g.dict({{"w", g.tensor()}})},
                                {"ema.shadow", g.dict({{"w", g.tensor()}})},
                                {"opt", opt},
                                {"lr_scheduler", g.dict({{"w", g.tensor()}})},
                                {"callbacks", g.dict({{"ckpt", g.dict({{"best", g.tensor()}})}})},
                                {"rng_state", g.tensor()}}));
  std::map<std::string, std::string> kind;
  for (const Group& grp : r.groups) kind[grp.name] = grp.kind;
  EXPECT_EQ(kind["model"], "model");
  EXPECT_EQ(kind["schema"], "model");  // "ema" inside a word is not an EMA copy; state_dict names
  EXPECT_EQ(kind["model_ema"], "ema");
  EXPECT_EQ(kind["ema.shadow"], "ema");  // a dotted key is still one group
  EXPECT_EQ(kind["opt"], "optimizer");  // by its state/param_groups shape
  EXPECT_EQ(kind["lr_scheduler"], "scheduler");
  EXPECT_EQ(kind["callbacks"], "other");  // holds tensors, but not the model's
  EXPECT_EQ(kind["rng_state"], "rng");    // a loose tensor beside containers: its own group
  for (const Tensor& t : r.tensors) {
    if (t.group == "opt") EXPECT_EQ(t.role, Role::Optimizer) << t.name;
    if (t.group == "lr_scheduler" || t.group == "rng_state") EXPECT_EQ(t.role, Role::Other) << t.name;
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

// ---------------------------------------------------------------------------
// Limits: pickles whose object graph would name far more than it holds.

using test::PickleAsm;
namespace op = test::op;

// Shared containers: [[x, x], [x, x]] ... `depth` levels over one tensor x,
// so a pickle of a few hundred bytes names 2**depth entries.
std::string shared_lists(int depth) {
  PickleAsm a;
  a.proto(2).global("torch._utils", "_rebuild_tensor_v2").put({op::MARK, op::MARK})
      .str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(1)
      .put({op::TUPLE, op::BINPERSID}).integer(0).integer(1).put(op::TUPLE1).integer(1)
      .put({op::TUPLE1, op::NEWFALSE, op::EMPTY_TUPLE, op::TUPLE, op::REDUCE})
      .put(op::BINPUT).u8(0);
  for (int i = 1; i <= depth; ++i)
    a.put({op::POP, op::EMPTY_LIST}).put(op::BINGET).u8(i - 1).put(op::APPEND)
        .put(op::BINGET).u8(i - 1).put(op::APPEND).put(op::BINPUT).u8(i);
  return a.stop().bytes();
}

// describe() of the error walking the graph of `pkl`, a torch zip's data.pkl.
std::string walk_error(const std::string& pkl, WalkLimits limits) {
  MemorySource src(pkl);
  TorchHooks hooks(TorchHooks::Flavor::Zip);
  auto p = Pickle::parse(src, 0, src.size(), "data.pkl", &hooks);
  try {
    walk_state(p->root(), hooks.tensors, nullptr, limits);
  } catch (const Error& e) {
    return e.describe();
  }
  return "no error";
}

TEST(StateWalkLimits, SharedContainersNameBoundedEntries) {
  WalkLimits l;
  l.max_entries = 1000;
  EXPECT_EQ("no error", walk_error(shared_lists(9), l));  // 512 entries
  EXPECT_EQ("object graph names more than 1000 tensor entries at byte 2",
            walk_error(shared_lists(10), l));
  l.max_path_bytes = 5000;
  EXPECT_EQ("object graph paths add up to more than 5000 bytes at byte 2",
            walk_error(shared_lists(9), l));
}

// Entry names are charged apart from the paths built on the way
// (limits::kMaxNameBytes): exactly their total passes, one byte less not.
TEST(StateWalkLimits, EntryNamesChargedToTheNameBudget) {
  std::string pkl = shared_lists(6);  // 64 entries
  MemorySource src(pkl);
  TorchHooks hooks(TorchHooks::Flavor::Zip);
  auto p = Pickle::parse(src, 0, src.size(), "data.pkl", &hooks);
  uint64_t total = 0;
  for (const Tensor& t : walk_state(p->root(), hooks.tensors).tensors) total += t.name.size();
  ASSERT_EQ(64u * 11, total);  // "0.1.0.1.0.1" and the like
  WalkLimits l;
  l.max_name_bytes = total;
  EXPECT_EQ("no error", walk_error(pkl, l));
  l.max_name_bytes = total - 1;
  EXPECT_EQ("tensor names add up to more than " + std::to_string(total - 1) + " bytes at byte 2",
            walk_error(pkl, l));
}

TEST(StateWalkLimits, LongKeysNameBoundedBytes) {
  // One 64 KiB key, memoized, on every level of a 150-deep chain of dicts
  // {key: {key: ...}}: the names would add up to 700 MiB (the default limit
  // is 1 GiB; here 1 MiB, reached at the dict 6 levels down).
  PickleAsm a;
  a.proto(2).str(std::string(64 << 10, 'k')).put(op::LONG_BINPUT).u32(1000).put(op::POP);
  a.put(op::NONE).put(op::BINPUT).u8(0);
  std::vector<uint64_t> dict_at;
  for (int i = 1; i <= 150; ++i) {
    a.put(op::POP);
    dict_at.push_back(a.size());
    a.put({op::EMPTY_DICT, op::MARK}).put(op::LONG_BINGET).u32(1000).put(op::BINGET).u8(i - 1)
        .put(op::SETITEMS).put(op::BINPUT).u8(i);
  }
  WalkLimits l;
  l.max_path_bytes = 1 << 20;
  EXPECT_EQ("object graph paths add up to more than 1048576 bytes at byte " +
                std::to_string(dict_at[150 - 6 - 1]),
            walk_error(a.stop().bytes(), l));
}

}  // namespace
}  // namespace ptscope
