// The Pickle's values: made in blocks, shared where immutable (None, bools,
// small ints, the empty tuple, tuples of those), charged against the graph
// budget, and released, with what only they held, once nothing holds them.
// The interpreter that makes them is pickle.cc.
#include "pickle.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "ptscope/error.h"

namespace ptscope {

Value* Value::get(const std::string& key) const {
  if (kind != Kind::Dict) return nullptr;
  for (size_t i = 0; i + 1 < items.size(); i += 2)
    if (items[i]->kind == Kind::Str && items[i]->s == key) return items[i + 1];
  return nullptr;
}

void Pickle::over_budget(uint64_t offset) const {
  throw Error("pickle values need more than " + std::to_string(max_graph_bytes_) + " bytes of memory",
              offset);
}

void Pickle::release(Value* v, PickleObserver* observer) {
  std::vector<Value*>& work = release_work_;
  work.push_back(v);
  auto let_go = [&](Value* x) {
    if (x && !x->shared && x->refs != UINT32_MAX && --x->refs == 0) work.push_back(x);
  };
  while (!work.empty()) {
    Value* x = work.back();
    work.pop_back();
    if (observer) observer->released(x);
    for (Value* item : x->items) let_go(item);
    let_go(x->callable);
    let_go(x->args);
    let_go(x->state);
    if (x->s.capacity() > std::string().capacity()) std::string().swap(x->s);
    else x->s.clear();
    if (x->items.capacity()) std::vector<Value*>().swap(x->items);
    x->callable = x->args = x->state = nullptr;
    x->kind = Kind::None;
    x->b = false;
    x->i = 0;
    x->f = 0;
    free_.push_back(x);
  }
}

Value* Pickle::make(Kind k, uint64_t offset) {
  if (count_ >= max_values_)
    throw Error("pickle makes more than " + std::to_string(max_values_) + " values",
                offset);
  // Charged and counted even when a released slot is reused: the limits
  // bound the work a pickle asks for, whatever memory it ends up holding.
  charge(sizeof(Value), offset);
  if (!free_.empty()) {
    Value* v = free_.back();
    free_.pop_back();
    ++count_;
    v->kind = k;
    v->offset = offset;
    return v;
  }
  ++count_;
  if (block_used_ == block_end_ - block_begin_) {
    size_t n = std::min(kBlock, std::max(kFirstBlock, 2 * (block_end_ - block_begin_)));
    blocks_.push_back(std::make_unique<Value[]>(n));
    block_begin_ = block_end_;
    block_end_ += n;
    block_used_ = 0;
  }
  Value* v = &blocks_.back()[block_used_++];
  v->kind = k;
  v->offset = offset;
  return v;
}

namespace {
constexpr size_t kAtoms = 4 + Pickle::kSmallInts;  // None, False, True, (), then the ints
}  // namespace

void Pickle::make_atoms(uint64_t offset) {
  charge(kAtoms * sizeof(Value), offset);
  atoms_ = std::make_unique<Value[]>(kAtoms);
  for (size_t n = 0; n < kAtoms; ++n) {
    Value& v = atoms_[n];
    v.shared = true;
    v.offset = offset;
    v.kind = n == 0 ? Kind::None : n < 3 ? Kind::Bool : n == 3 ? Kind::Tuple : Kind::Int;
    v.b = n == 2;
    v.i = n >= 4 ? static_cast<int64_t>(n - 4) : 0;
  }
}

bool Pickle::TupleKey::operator==(const TupleKey& o) const {
  return n == o.n && std::equal(items, items + n, o.items);
}

size_t Pickle::TupleHash::operator()(const TupleKey& k) const {
  uint64_t h = k.n;
  for (size_t i = 0; i < k.n; ++i)
    h = (h ^ reinterpret_cast<uintptr_t>(k.items[i])) * 0x9e3779b97f4a7c15ull;
  return static_cast<size_t>(h ^ (h >> 29));
}

Value* Pickle::shared_tuple(Value* const* items, size_t n, uint64_t offset) {
  TupleKey key{};
  std::copy(items, items + n, key.items);
  key.n = n;
  auto it = tuples_.find(key);
  if (it != tuples_.end()) return it->second;
  charge(n * sizeof(Value*) + 64, offset);  // the map's entry
  Value* t = make(Kind::Tuple, offset);
  charge_items(n, offset);
  t->items.assign(items, items + n);
  t->shared = true;
  tuples_.emplace(key, t);
  return t;
}

}  // namespace ptscope
