// A pickle reader that interprets the opcodes of protocols 0 to 5 and never
// imports or calls anything: a GLOBAL is only a name, and calling it (REDUCE,
// NEWOBJ, BUILD) makes an opaque Object that remembers the name, arguments
// and state. Hooks let the torch layer turn the calls it knows
// (_rebuild_tensor_v2, persistent storages, ...) into typed values.
//
// Values live in an arena owned by the Pickle, so cyclic or deeply nested
// graphs built by a hostile file are freed without recursion. A value that
// nothing holds any more (a call's arguments once a hook turned them into a
// tensor, a popped value, a memo slot no GET reads) is released as soon as
// its opcode completes and its slot reused: torch's pickler memoizes
// everything but reads back almost nothing, and the arguments of each
// _rebuild_tensor_v2 call would otherwise be most of the graph.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <string>
#include <vector>

#include "byte_source.h"
#include "ptscope/limits.h"

namespace ptscope {

enum class Kind : uint8_t {
  None, Bool, Int, Float, Str, Bytes, Tuple, List, Dict, Set,
  Global,   // s = "module.name"
  Object,   // callable(args), then state and items; never run
  Tensor,   // index into the hook owner's tensor table
  Storage,  // index into the hook owner's storage table
};

struct Value {
  Kind kind = Kind::None;
  bool b = false;
  // One value stands for every occurrence (None, True, False, small ints,
  // the empty tuple, tuples of those): immutable, as in Python, so a BUILD
  // or an APPEND on it fails. Its offset is where it first appeared: say
  // where() in errors instead.
  bool shared = false;
  // References to this value from the stack, containers and memo slots a
  // later GET reads (Pickle::hold); at zero it is released and its slot
  // reused. Saturates: a value held 2**32 times is kept for good.
  uint32_t refs = 0;
  int64_t i = 0;        // Int; table index for Tensor and Storage
  double f = 0;
  std::string s;        // Str, Bytes, Global name, or the digits of a big Int
  std::vector<Value*> items;  // Tuple/List/Set; Dict and Object: k, v, k, v
  Value* callable = nullptr;  // Object: the Global it was made from
  Value* args = nullptr;      // Object: constructor arguments
  Value* state = nullptr;     // Object/Dict: what BUILD set
  uint64_t offset = 0;        // where the opcode that made it starts

  bool is_str(const char* text) const { return kind == Kind::Str && s == text; }
  // The byte that made this value, when only one did.
  std::optional<uint64_t> where() const { return shared ? std::nullopt : std::optional<uint64_t>(offset); }
  // Dict lookup by string key; nullptr when absent or not a dict.
  Value* get(const std::string& key) const;
};

class Pickle;

// What the torch layer plugs in. Each may return nullptr to fall back to
// the default (an opaque Object, or an error for persistent ids).
class PickleHooks {
 public:
  virtual ~PickleHooks() = default;
  virtual Value* persistent_load(Pickle& p, Value* pid) = 0;
  virtual Value* call(Pickle& p, Value* callable, Value* args) = 0;
};

// What a scanner watches while a pickle is interpreted: every name it
// refers to and every call it asks for, each as its opcode completes, so
// that what ran before a malformed byte is still seen (Python's Unpickler
// has run it by then). Values are the interpreter's, valid until the Pickle
// is destroyed or, for a value nothing holds any more, until released().
class PickleObserver {
 public:
  virtual ~PickleObserver() = default;
  // Every opcode, before it runs; `offset` is where it starts.
  virtual void opcode(uint8_t /*op*/, uint64_t /*offset*/) {}
  // GLOBAL, STACK_GLOBAL or INST named `module.name`.
  virtual void global(uint8_t /*op*/, const std::string& /*module*/,
                      const std::string& /*name*/, uint64_t /*offset*/) {}
  // REDUCE, NEWOBJ, NEWOBJ_EX, INST or OBJ asked to call `callable`;
  // `result` is what the interpreter pushed in its place.
  virtual void call(uint8_t /*op*/, const Value* /*callable*/, const Value* /*args*/,
                    const Value* /*result*/, uint64_t /*offset*/) {}
  // BUILD: Python calls target.__setstate__(state) when it has one, else
  // updates its __dict__.
  virtual void build(const Value* /*target*/, const Value* /*state*/, uint64_t /*offset*/) {}
  // APPEND(S), SETITEM(S), ADDITEMS on `target`.
  virtual void add_items(uint8_t /*op*/, const Value* /*target*/, uint64_t /*offset*/) {}
  // A memo slot written: `replaced` when it already held a value.
  virtual void memo_put(uint8_t /*op*/, uint64_t /*key*/, bool /*replaced*/, uint64_t /*offset*/) {}
  virtual void persistent_id(const Value* /*pid*/, uint64_t /*offset*/) {}
  // `v` is released: its address may stand for another value from now on,
  // so whatever was remembered about it must be forgotten.
  virtual void released(const Value* /*v*/) {}
};

// Defaults from ptscope/limits.h. The graph budget is the one that keeps
// memory in proportion to the pickle: values made and references held,
// charged at their size, against graph_floor + graph_per_byte * the bytes
// the pickle may span.
struct PickleLimits {
  size_t max_stack = limits::kMaxPickleStack;  // values on the stack at once
  size_t max_values = 50u << 20;               // values made in all
  size_t max_memo = limits::kMaxPickleMemo;    // distinct memo slots
  uint64_t graph_floor = limits::kPickleGraphFloor;
  uint64_t graph_per_byte = limits::kPickleGraphPerByte;
};

class Pickle {
 public:
  // Parses the pickle that starts at `begin` in `src` and ends at its STOP
  // opcode, which must come before `end`. Offsets in errors are positions
  // in `src`; `what` names the record ("data.pkl").
  static std::unique_ptr<Pickle> parse(const ByteSource& src, uint64_t begin,
                                       uint64_t end, const std::string& what,
                                       PickleHooks* hooks = nullptr,
                                       PickleLimits limits = {},
                                       PickleObserver* observer = nullptr);

  Value* root() const { return root_; }
  uint64_t end() const { return end_; }  // offset just past STOP
  int protocol() const { return protocol_; }
  // Ints 0 to kSmallInts - 1 are shared, and tuples of up to kMaxSharedTuple
  // shared items.
  static constexpr size_t kSmallInts = 256, kMaxSharedTuple = 8;
  Value* make(Kind k, uint64_t offset);
  // The one None, True, False, small int (0 to 255) or empty tuple.
  Value* atom(Kind k, int64_t i, uint64_t offset) {
    if (!atoms_) make_atoms(offset);
    switch (k) {
      case Kind::None: return &atoms_[0];
      case Kind::Bool: return &atoms_[i ? 2 : 1];
      case Kind::Tuple: return &atoms_[3];
      default: return &atoms_[4 + static_cast<size_t>(i)];
    }
  }
  // The one tuple of these n <= kMaxSharedTuple shared items, made now if
  // it is the first.
  Value* shared_tuple(Value* const* items, size_t n, uint64_t offset);
  // Charges `n` references added to a container made at `offset`.
  void charge_items(size_t n, uint64_t offset) { charge(n * sizeof(Value*), offset); }
  // One more reference to `v`: a hook that puts a value in another's items
  // holds it, or the value could be released while still reachable.
  static void hold(Value* v) {
    if (!v->shared && v->refs != UINT32_MAX) ++v->refs;
  }
  // Every GLOBAL named, in order of first appearance.
  const std::vector<std::string>& globals() const { return globals_; }

 private:
  friend class Unpickler;
  // Blocks of Values: few allocations, stable addresses, flat destruction.
  // Sizes double from kFirstBlock to kBlock, so the many tiny pickles of a
  // file (legacy headers, constants.pkl) do not each fault in a full block.
  static constexpr size_t kFirstBlock = 16, kBlock = 4096;
  std::vector<std::unique_ptr<Value[]>> blocks_;
  size_t count_ = 0;
  size_t block_begin_ = 0, block_end_ = 0;  // the values the last block holds
  size_t block_used_ = 0;                   // of which handed out
  std::vector<Value*> free_;  // released slots, reused by make()
  Value* root_ = nullptr;
  uint64_t end_ = 0;
  int protocol_ = 0;
  size_t max_values_ = 0;
  uint64_t graph_bytes_ = 0, max_graph_bytes_ = 0;
  void charge(uint64_t bytes, uint64_t offset) {
    graph_bytes_ += bytes;
    if (graph_bytes_ > max_graph_bytes_) over_budget(offset);
  }
  [[noreturn]] void over_budget(uint64_t offset) const;
  void make_atoms(uint64_t offset);
  // Frees `v`, whose last reference is gone, and whatever only it held.
  void release(Value* v, PickleObserver* observer);
  std::vector<std::string> globals_;
  // Shared values: most of a state_dict's pickle is small ints and the
  // same few shapes, which would otherwise cost a Value per occurrence.
  std::unique_ptr<Value[]> atoms_;  // kAtoms: None, False, True, (), 0..255
  struct TupleKey {
    Value* items[kMaxSharedTuple];
    size_t n;
    bool operator==(const TupleKey& o) const;
  };
  struct TupleHash {
    size_t operator()(const TupleKey& k) const;
  };
  std::unordered_map<TupleKey, Value*, TupleHash> tuples_;
  std::vector<Value*> release_work_;  // release()'s, kept to spare an allocation each
};

}  // namespace ptscope
