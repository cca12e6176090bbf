// Opcode interpreter. Python's pickletools documents every opcode; the
// grouping below follows it. Nothing here looks a name up or calls it; the
// values it makes live in pickle_values.cc.
#include "pickle.h"

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "memo_reads.h"
#include "memo_slots.h"
#include "pickle_cursor.h"
#include "ptscope/error.h"
#include "keyed_hash.h"

namespace ptscope {

class Unpickler {
 public:
  Unpickler(Pickle& p, PickleCursor& in, PickleHooks* hooks, PickleLimits limits,
            PickleObserver* observer, MemoReads reads)
      : p_(p), in_(in), hooks_(hooks), limits_(limits), observer_(observer), memo_(limits.max_memo),
        read_(std::move(reads)) {
    p_.max_values_ = limits.max_values;
    uint64_t span = in.remaining();
    p_.max_graph_bytes_ = limits.graph_floor +
                          std::min<uint64_t>(span, UINT64_MAX / 2 / std::max<uint64_t>(limits.graph_per_byte, 1)) *
                              limits.graph_per_byte;
  }

  Value* run() {
    for (;;) {
      op_at_ = in_.pos();
      uint8_t op = in_.byte();
      if (observer_) observer_->opcode(op, op_at_);
      if (op == '.') {
        settle();
        if (stack_.size() != 1)
          fail(stack_.empty() ? "STOP with an empty stack"
                              : "STOP leaves " + std::to_string(stack_.size()) +
                                    " values on the stack");
        return stack_.back();
      }
      // The opcodes a torch pickle is mostly made of run here, without the
      // cost of entering step(), the whole switch; none of them gives up a
      // reference, so there is nothing to settle.
      switch (op) {
        case 'K': push_int(static_cast<int64_t>(in_.uint_le(1))); continue;
        case 'q': memo_put(op, in_.uint_le(1)); break;
        case 'r': memo_put(op, in_.uint_le(4)); break;
        case 'h': memo_get(in_.uint_le(1)); continue;
        default: step(op); break;
      }
      settle();
    }
  }

 private:
  [[noreturn]] void fail(const std::string& m) { in_.fail(m, op_at_); }
  // Literal messages: out of line, so the hot paths that may fail stay small.
  [[noreturn]] __attribute__((noinline, cold)) void fail(const char* m) { fail(std::string(m)); }

  Value* make(Kind k) { return p_.make(k, op_at_); }
  // References: the stack, containers and read memo slots hold what they
  // point to (Pickle::hold); one given up is only let go of once the opcode
  // has run, so that the opcode, its hooks and the observer see every value
  // it popped.
  static void hold(Value* v) { Pickle::hold(v); }
  void let_go(Value* v) { dropped_.push_back(v); }
  void hold_all(const std::vector<Value*>& vs) {
    for (Value* v : vs) hold(v);
  }
  // A value made for one opcode and kept by nothing once it has run.
  void transient(Value* v) {
    hold(v);
    let_go(v);
  }
  void settle() {
    for (Value* v : dropped_)
      if (!v->shared && v->refs != UINT32_MAX && --v->refs == 0) p_.release(v, observer_);
    dropped_.clear();
  }
  void push(Value* v) {
    if (stack_.size() >= limits_.max_stack) fail("pickle stack deeper than the limit");
    stack_.push_back(v);
    hold(v);
  }
  Value* pop() {
    if (stack_.size() <= mark_floor()) fail("stack underflow");
    Value* v = stack_.back();
    stack_.pop_back();
    let_go(v);
    return v;
  }
  Value* top() {
    if (stack_.size() <= mark_floor()) fail("stack underflow");
    return stack_.back();
  }
  size_t mark_floor() const { return marks_.empty() ? 0 : marks_.back(); }
  // The values above the last MARK, taken off the stack with the stack's
  // references to them: the caller passes these on to the container it
  // makes of them (push_seq), or lets them go (pop_mark).
  std::vector<Value*> take_mark() {
    if (marks_.empty()) fail("no MARK to pop to");
    size_t m = marks_.back();
    marks_.pop_back();
    std::vector<Value*> items(stack_.begin() + static_cast<ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  std::vector<Value*> pop_mark() {
    std::vector<Value*> items = take_mark();
    for (Value* v : items) let_go(v);
    return items;
  }

  void push_int(int64_t v) {
    if (v >= 0 && static_cast<uint64_t>(v) < Pickle::kSmallInts) return push(p_.atom(Kind::Int, v, op_at_));
    Value* x = make(Kind::Int);
    x->i = v;
    push(x);
  }
  void push_str(Kind k, std::string s) {
    Value* x = make(k);
    x->s = std::move(s);
    push(x);
  }
  // A container of `items`, which holds the references take_mark() took
  // off the stack (a shared tuple needs none: its items are shared too).
  void push_seq(Kind k, std::vector<Value*> items) {
    if (k == Kind::Tuple && shareable(items.data(), items.size()))
      return push_tuple(items.data(), items.size());
    Value* x = make(k);
    p_.charge_items(items.size(), op_at_);
    x->items = std::move(items);
    push(x);
  }
  // TUPLE, TUPLE1-3: most are shapes of small ints, shared, and need no
  // vector of their own.
  static bool shareable(Value* const* items, size_t n) {
    return n <= Pickle::kMaxSharedTuple &&
           std::all_of(items, items + n, [](const Value* v) { return v->shared; });
  }
  void push_tuple(Value* const* items, size_t n) {
    if (n == 0) return push(p_.atom(Kind::Tuple, 0, op_at_));
    if (shareable(items, n)) return push(p_.shared_tuple(items, n, op_at_));
    Value* x = make(Kind::Tuple);
    p_.charge_items(n, op_at_);
    for (size_t i = 0; i < n; ++i) hold(items[i]);
    x->items.assign(items, items + n);
    push(x);
  }

  // Little-endian two's complement of any length; wider than 64 bits keeps
  // only its size, since no torch field needs the value.
  void push_long(const std::string& bytes) {
    Value* x = make(Kind::Int);
    if (bytes.size() > 64) {
      x->s = "<" + std::to_string(bytes.size()) + "-byte integer>";
    } else if (bytes.size() > 8) {  // hex, most significant first: "0x1950a8..."
      static const char* digits = "0123456789abcdef";
      x->s = "0x";
      for (size_t i = bytes.size(); i-- > 0;) {
        auto b = static_cast<uint8_t>(bytes[i]);
        x->s += digits[b >> 4];
        x->s += digits[b & 15];
      }
    } else if (!bytes.empty()) {
      uint64_t u = 0;
      for (size_t i = 0; i < bytes.size(); ++i)
        u |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (8 * i);
      if (bytes.size() < 8 && (static_cast<uint8_t>(bytes.back()) & 0x80))
        u |= ~uint64_t{0} << (8 * bytes.size());
      x->i = static_cast<int64_t>(u);
    }
    push(x);
  }

  void push_text_int(const std::string& text, bool is_long) {
    std::string t = text;
    if (is_long && !t.empty() && t.back() == 'L') t.pop_back();
    if (!is_long && t == "00") return push_bool(false);
    if (!is_long && t == "01") return push_bool(true);
    errno = 0;
    char* endp = nullptr;
    long long v = std::strtoll(t.c_str(), &endp, 10);
    if (t.empty() || *endp != '\0') fail("malformed integer '" + t + "'");
    Value* x = make(Kind::Int);
    if (errno == ERANGE)
      x->s = "<" + t + ">";
    else
      x->i = v;
    push(x);
  }

  void push_bool(bool b) { push(p_.atom(Kind::Bool, b, op_at_)); }

  void push_global(uint8_t op, std::string module, std::string name) {
    if (observer_) observer_->global(op, module, name, op_at_);
    Value* g = make(Kind::Global);
    g->s = module + "." + name;
    if (seen_globals_.emplace(g->s, true).second) p_.globals_.push_back(g->s);
    push(g);
  }

  void memo_put(uint8_t op, uint64_t key) {
    bool replaced = memo_.written(key);
    if (memo_count_ >= limits_.max_memo && !replaced)
      fail("memo holds more than " + std::to_string(limits_.max_memo) + " entries");
    p_.charge(memo_.growth(key), op_at_);
    memo_.mark_written(key);
    if (read_.is_read(key)) {
      Value* v = top();
      bool fresh;
      Value*& slot = memo_.keep(key, fresh);
      if (fresh) p_.charge(MemoSlots::kKeptEntry, op_at_);
      else let_go(slot);  // the value it replaces
      slot = v;
      hold(v);
    }
    if (!replaced) ++memo_count_;
    if (observer_) observer_->memo_put(op, key, replaced, op_at_);
  }
  void memo_get(uint64_t key) {
    if (!memo_.written(key)) fail("memo key " + std::to_string(key) + " was never stored");
    Value* v = memo_.kept(key);
    // The pre-pass saw every GET: a key it missed is a bug here, not the file's.
    if (!v) fail("memo key " + std::to_string(key) + " was read but not kept");
    push(v);
  }
  static uint64_t parse_memo_key(PickleCursor& in, const std::string& text,
                                 uint64_t at) {
    char* endp = nullptr;
    unsigned long long v = std::strtoull(text.c_str(), &endp, 10);
    if (text.empty() || *endp != '\0') in.fail("malformed memo key '" + text + "'", at);
    return v;
  }

  // op 0: the caller tells the observer itself. A result that keeps the
  // arguments (an opaque Object) holds them; a hook's typed value does not,
  // and they go once the opcode has run.
  void call(uint8_t op, Value* callable, Value* args) {
    Value* result = hooks_ ? hooks_->call(p_, callable, args) : nullptr;
    if (!result) result = default_call(callable, args);
    push(result);
    if (observer_ && op) observer_->call(op, callable, args, result, op_at_);
  }
  // Python's Unpickler calls append, extend, add or __setitem__ on the
  // target, which None, a bool, a number, a string and a tuple do not have.
  void check_mutable(const Value* target, const char* what) {
    switch (target->kind) {
      case Kind::None: case Kind::Bool: case Kind::Int: case Kind::Float:
      case Kind::Str: case Kind::Bytes: case Kind::Tuple:
        fail(std::string(what) + " on " + kind_name(target->kind) + ", which Python refuses");
      default: break;
    }
  }
  static const char* kind_name(Kind k) {
    switch (k) {
      case Kind::None: return "None";
      case Kind::Bool: return "a bool";
      case Kind::Int: return "an int";
      case Kind::Float: return "a float";
      case Kind::Str: return "a string";
      case Kind::Bytes: return "bytes";
      case Kind::Tuple: return "a tuple";
      default: return "a value";
    }
  }
  void add_items(uint8_t op, Value* target, const std::vector<Value*>& items) {
    check_mutable(target, op == 's' || op == 'u' ? "SETITEM" : op == 0x90 ? "ADDITEMS" : "APPEND");
    set_items(target, items);
    if (observer_) observer_->add_items(op, target, op_at_);
  }

  // s == text, the lengths compared first: most calls are to names of
  // other lengths.
  template <size_t N>
  static bool is(const std::string& s, const char (&text)[N]) {
    return s.size() == N - 1 && std::memcmp(s.data(), text, N - 1) == 0;
  }
  // The few builtins whose result is plain data; everything else stays opaque.
  Value* default_call(Value* callable, Value* args) {
    if (callable->kind == Kind::Global) {
      const std::string& n = callable->s;
      if (is(n, "collections.OrderedDict") || is(n, "builtins.dict") ||
          is(n, "__builtin__.dict")) {
        Value* d = make(Kind::Dict);
        if (args && !args->items.empty() && args->items[0]->kind == Kind::List)
          for (Value* pair : args->items[0]->items)
            if (pair->kind == Kind::Tuple && pair->items.size() == 2) {
              p_.charge_items(2, op_at_);
              d->items.push_back(pair->items[0]);
              d->items.push_back(pair->items[1]);
              hold(pair->items[0]);
              hold(pair->items[1]);
            }
        return d;
      }
      if (is(n, "builtins.set") || is(n, "builtins.frozenset") || is(n, "__builtin__.set")) {
        Value* s = make(Kind::Set);
        if (args && !args->items.empty()) {
          p_.charge_items(args->items[0]->items.size(), op_at_);
          s->items = args->items[0]->items;
          hold_all(s->items);
        }
        return s;
      }
    }
    Value* o = make(Kind::Object);
    o->callable = callable;
    o->args = args;
    hold(callable);
    if (args) hold(args);
    return o;
  }

  void set_items(Value* target, const std::vector<Value*>& kv) {
    p_.charge_items(kv.size(), op_at_);
    target->items.insert(target->items.end(), kv.begin(), kv.end());
    hold_all(kv);
  }

  void step(uint8_t op) {
    switch (op) {
      // Framing and protocol.
      case 0x80: {  // PROTO
        int proto = static_cast<int>(in_.byte());
        if (proto > 5) fail("unsupported pickle protocol " + std::to_string(proto));
        p_.protocol_ = proto;
        return;
      }
      case 0x95: in_.uint_le(8); return;  // FRAME: a read-ahead hint only
      case '(': marks_.push_back(stack_.size());
        if (marks_.size() > limits_.max_stack) fail("too many open MARKs");
        return;
      case '0': pop(); return;
      case '1': pop_mark(); return;
      case '2': push(top()); return;

      // Scalars.
      case 'N': return push(p_.atom(Kind::None, 0, op_at_));
      case 0x88: return push_bool(true);
      case 0x89: return push_bool(false);
      case 'I': return push_text_int(in_.line(), false);
      case 'L': return push_text_int(in_.line(), true);
      case 'J': return push_int(static_cast<int32_t>(in_.uint_le(4)));
      case 'K': return push_int(static_cast<int64_t>(in_.uint_le(1)));  // run() has it first
      case 'M': return push_int(static_cast<int64_t>(in_.uint_le(2)));
      case 0x8a: return push_long(in_.take(in_.uint_le(1)));
      case 0x8b: return push_long(in_.take(in_.uint_le(4)));
      case 'F': {
        std::string t = in_.line();
        Value* x = make(Kind::Float);
        x->f = std::strtod(t.c_str(), nullptr);
        return push(x);
      }
      case 'G': {
        uint64_t be = 0;
        for (int i = 0; i < 8; ++i) be = (be << 8) | in_.byte();
        Value* x = make(Kind::Float);
        std::memcpy(&x->f, &be, 8);
        return push(x);
      }

      // Strings and bytes.
      case 'S': return push_str(Kind::Str, unquote(in_.line()));
      case 'V': return push_str(Kind::Str, in_.line());
      case 'T': return push_str(Kind::Str, in_.take(in_.uint_le(4)));
      case 'U': return push_str(Kind::Str, in_.take(in_.uint_le(1)));
      case 'X': return push_str(Kind::Str, in_.take(in_.uint_le(4)));
      case 0x8c: return push_str(Kind::Str, in_.take(in_.uint_le(1)));
      case 0x8d: return push_str(Kind::Str, in_.take(in_.uint_le(8)));
      case 'B': return push_str(Kind::Bytes, in_.take(in_.uint_le(4)));
      case 'C': return push_str(Kind::Bytes, in_.take(in_.uint_le(1)));
      case 0x8e: return push_str(Kind::Bytes, in_.take(in_.uint_le(8)));
      case 0x96: return push_str(Kind::Bytes, in_.take(in_.uint_le(8)));

      // Containers.
      case ')': return push_tuple(nullptr, 0);
      case 't': return push_seq(Kind::Tuple, take_mark());
      case 0x85: { Value* a[1]; a[0] = pop(); return push_tuple(a, 1); }
      case 0x86: { Value* a[2]; a[1] = pop(); a[0] = pop(); return push_tuple(a, 2); }
      case 0x87: { Value* a[3]; a[2] = pop(); a[1] = pop(); a[0] = pop(); return push_tuple(a, 3); }
      case ']': return push_seq(Kind::List, {});
      case 'l': return push_seq(Kind::List, take_mark());
      case '}': return push_seq(Kind::Dict, {});
      case 'd': {
        auto kv = take_mark();
        if (kv.size() % 2) fail("DICT with an odd number of items");
        return push_seq(Kind::Dict, std::move(kv));
      }
      case 0x8f: return push_seq(Kind::Set, {});
      case 0x91: return push_seq(Kind::Set, take_mark());
      case 'a': { Value* v = pop(); return add_items(op, top(), {v}); }
      case 'e': case 0x90: {
        auto vs = pop_mark();
        return add_items(op, top(), vs);
      }
      case 's': {
        Value* v = pop(); Value* k = pop();
        return add_items(op, top(), {k, v});
      }
      case 'u': {
        auto kv = pop_mark();
        if (kv.size() % 2) fail("SETITEMS with an odd number of items");
        return add_items(op, top(), kv);
      }

      // Memo.
      case 'p': { uint64_t at = in_.pos(); return memo_put(op, parse_memo_key(in_, in_.line(), at)); }
      case 'q': return memo_put(op, in_.uint_le(1));
      case 'r': return memo_put(op, in_.uint_le(4));
      case 0x94: return memo_put(op, memo_count_);
      case 'g': { uint64_t at = in_.pos(); return memo_get(parse_memo_key(in_, in_.line(), at)); }
      case 'h': return memo_get(in_.uint_le(1));
      case 'j': return memo_get(in_.uint_le(4));

      // Names and calls: recorded, never resolved.
      case 'c': {
        std::string module = in_.line();
        std::string name = in_.line();
        return push_global(op, std::move(module), std::move(name));
      }
      case 0x93: {
        Value* name = pop(); Value* module = pop();
        if (name->kind != Kind::Str || module->kind != Kind::Str)
          fail("STACK_GLOBAL needs two strings");
        return push_global(op, module->s, name->s);
      }
      case 'R': { Value* args = pop(); Value* f = pop(); return call(op, f, args); }
      case 0x81: { Value* args = pop(); Value* cls = pop(); return call(op, cls, args); }
      case 0x92: {
        Value* kwargs = pop(); Value* args = pop(); Value* cls = pop();
        call(0, cls, args);
        if (!top()->shared) set_items(top(), kwargs->items);
        if (observer_) {  // it sees the keywords as a last argument
          Value* all = make(Kind::Tuple);
          p_.charge_items(args->items.size() + 1, op_at_);
          all->items = args->items;
          all->items.push_back(kwargs);
          hold_all(all->items);
          transient(all);
          observer_->call(op, cls, all, top(), op_at_);
        }
        return;
      }
      case 'i': {
        std::string module = in_.line();
        std::string name = in_.line();
        Value* args = make(Kind::Tuple);
        args->items = pop_mark();
        p_.charge_items(args->items.size(), op_at_);
        hold_all(args->items);
        transient(args);
        push_global(op, std::move(module), std::move(name));
        Value* cls = pop();
        return call(op, cls, args);
      }
      case 'o': {
        auto items = pop_mark();
        if (items.empty()) fail("OBJ without a class");
        Value* args = make(Kind::Tuple);
        p_.charge_items(items.size() - 1, op_at_);
        args->items.assign(items.begin() + 1, items.end());
        hold_all(args->items);
        transient(args);
        return call(op, items[0], args);
      }
      case 'b': {
        Value* state = pop();
        Value* target = top();
        check_mutable(target, "BUILD");
        if (target->state) let_go(target->state);
        hold(state);
        target->state = state;
        if (observer_) observer_->build(target, state, op_at_);
        return;
      }
      case 'P': {
        Value* pid = make(Kind::Str);
        pid->s = in_.line();
        transient(pid);
        return persistent(pid);
      }
      case 'Q': return persistent(pop());
      case 0x82: case 0x83: case 0x84:
        fail("extension-registry opcode (EXT1/2/4) is not supported");
      case 0x97: fail("NEXT_BUFFER needs out-of-band buffers, which a file cannot carry");
      case 0x98: return;  // READONLY_BUFFER: no effect on what we report
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", op);
        fail(std::string("unknown opcode ") + hex);
      }
    }
  }

  void persistent(Value* pid) {
    if (observer_) observer_->persistent_id(pid, op_at_);
    Value* v = hooks_ ? hooks_->persistent_load(p_, pid) : nullptr;
    if (!v) fail("persistent id that this file format does not define");
    push(v);
  }

  // Protocol-0 STRING arguments are Python reprs: 'text' or "text".
  static std::string unquote(const std::string& s) {
    if (s.size() >= 2 && (s[0] == '\'' || s[0] == '"') && s.back() == s[0])
      return s.substr(1, s.size() - 2);
    return s;
  }

  Pickle& p_;
  PickleCursor& in_;
  PickleHooks* hooks_;
  PickleLimits limits_;
  PickleObserver* observer_;
  uint64_t op_at_ = 0;
  std::vector<Value*> stack_;
  std::vector<size_t> marks_;
  MemoSlots memo_;
  uint64_t memo_count_ = 0;
  MemoReads read_;         // the memo keys some GET reads
  std::vector<Value*> dropped_;  // references given up by the opcode running
  std::unordered_map<std::string, bool, KeyedHash> seen_globals_;
};

std::unique_ptr<Pickle> Pickle::parse(const ByteSource& src, uint64_t begin,
                                      uint64_t end, const std::string& what,
                                      PickleHooks* hooks, PickleLimits limits,
                                      PickleObserver* observer) {
  auto p = std::unique_ptr<Pickle>(new Pickle());
  PickleCursor in(src, begin, end, what);
  Unpickler u(*p, in, hooks, limits, observer,
              MemoReads::of(src, begin, end, what, limits.max_memo));
  p->root_ = u.run();
  p->end_ = in.pos();
  return p;
}

}  // namespace ptscope
