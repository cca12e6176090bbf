// The safe pickle reader, opcode by opcode: hand-assembled pickles of
// protocols 0 to 5, pickles Python wrote, and every way a pickle can be
// malformed. Values are compared through a Python-like rendering, so a
// case reads as "these bytes mean this object".
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "ptscope/error.h"
#include "pickle.h"
#include "memo_reads.h"
#include "address_space.h"
#include "pickle_builder.h"

namespace ptscope {
namespace {

using test::PickleAsm;
namespace op = test::op;

// Python-like text for a value tree. Objects print as
// obj(<callable>, args[, state=...][, items=[...]]), globals as <module.name>.
std::string render(const Value* v, int depth = 0) {
  if (!v) return "null";
  if (depth > 20) return "...";
  auto seq = [&](const std::vector<Value*>& items, const char* sep) {
    std::string s;
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) s += sep;
      s += render(items[i], depth + 1);
    }
    return s;
  };
  auto pairs = [&](const std::vector<Value*>& items) {
    std::string s;
    for (size_t i = 0; i + 1 < items.size(); i += 2) {
      if (i) s += ", ";
      s += render(items[i], depth + 1) + ": " + render(items[i + 1], depth + 1);
    }
    return s;
  };
  switch (v->kind) {
    case Kind::None: return "None";
    case Kind::Bool: return v->b ? "True" : "False";
    case Kind::Int: return v->s.empty() ? std::to_string(v->i) : v->s;
    case Kind::Float: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", v->f);
      return buf;
    }
    case Kind::Str: return "'" + v->s + "'";
    case Kind::Bytes: {
      std::string s = "b'";
      for (unsigned char c : v->s) {
        if (c >= 0x20 && c < 0x7f) {
          s += static_cast<char>(c);
        } else {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          s += buf;
        }
      }
      return s + "'";
    }
    case Kind::Tuple:
      return v->items.size() == 1 ? "(" + render(v->items[0], depth + 1) + ",)"
                                  : "(" + seq(v->items, ", ") + ")";
    case Kind::List: return "[" + seq(v->items, ", ") + "]";
    case Kind::Dict: {
      std::string s = "{" + pairs(v->items) + "}";
      if (v->state) s += " state=" + render(v->state, depth + 1);
      return s;
    }
    case Kind::Set: return v->items.empty() ? "set()" : "{" + seq(v->items, ", ") + "}";
    case Kind::Global: return "<" + v->s + ">";
    case Kind::Object: {
      std::string s = "obj(" + render(v->callable, depth + 1) + ", " +
                      render(v->args, depth + 1);
      if (v->state) s += ", state=" + render(v->state, depth + 1);
      if (!v->items.empty()) s += ", items=[" + seq(v->items, ", ") + "]";
      return s + ")";
    }
    case Kind::Tensor: return "tensor#" + std::to_string(v->i);
    case Kind::Storage: return "storage#" + std::to_string(v->i);
  }
  return "?";
}

std::unique_ptr<Pickle> parse(const std::string& bytes, PickleHooks* hooks = nullptr,
                              PickleLimits limits = {}) {
  MemorySource src(bytes);
  return Pickle::parse(src, 0, src.size(), "t.pkl", hooks, limits);
}

std::string parse_render(const std::string& bytes) { return render(parse(bytes)->root()); }

// describe() of the error parsing `bytes` throws, or "no error".
std::string parse_error(const std::string& bytes, PickleLimits limits = {},
                        PickleHooks* hooks = nullptr) {
  try {
    parse(bytes, hooks, limits);
  } catch (const Error& e) {
    return e.describe();
  }
  return "no error";
}

std::string unhex(const char* hex) {
  std::string out;
  for (const char* p = hex; p[0] && p[1]; p += 2)
    out.push_back(static_cast<char>(std::strtoul(std::string(p, 2).c_str(), nullptr, 16)));
  return out;
}

struct Case {
  const char* name;
  std::string pickle;
  const char* expected;
};

void check_cases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    try {
      EXPECT_EQ(c.expected, parse_render(c.pickle));
    } catch (const Error& e) {
      ADD_FAILURE() << e.describe();
    }
  }
}

void check_errors(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.expected, parse_error(c.pickle));
  }
}

PickleAsm P(int protocol = 2) { return std::move(PickleAsm().proto(protocol)); }

TEST(PickleTest, Integers) {
  check_cases({
      {"BININT1", P().put(op::BININT1).u8(255).stop().bytes(), "255"},
      {"BININT2", P().put(op::BININT2).u16(0xffff).stop().bytes(), "65535"},
      {"BININT positive", P().put(op::BININT).u32(100000).stop().bytes(), "100000"},
      {"BININT is signed", P().put(op::BININT).u32(0xfffffff9).stop().bytes(), "-7"},
      {"LONG1 empty is zero", P().put(op::LONG1).u8(0).stop().bytes(), "0"},
      {"LONG1 -1", P().put(op::LONG1).u8(1).u8(0xff).stop().bytes(), "-1"},
      {"LONG1 255 needs a sign byte", P().put(op::LONG1).u8(2).u16(0x00ff).stop().bytes(),
       "255"},
      {"LONG1 -32768", P().put(op::LONG1).u8(2).u16(0x8000).stop().bytes(), "-32768"},
      {"LONG1 2**40", P().put(op::LONG1).u8(6).u32(0).u16(0x100).stop().bytes(),
       "1099511627776"},
      {"LONG1 8 bytes", P().put(op::LONG1).u8(8).u64(0x7fffffffffffffff).stop().bytes(),
       "9223372036854775807"},
      {"LONG1 8 bytes negative", P().put(op::LONG1).u8(8).u64(~uint64_t{0}).stop().bytes(),
       "-1"},
      {"LONG1 9 bytes is kept as hex",
       P().put(op::LONG1).u8(9).u64(0).u8(1).stop().bytes(), "0x010000000000000000"},
      {"torch legacy magic number",
       P().put(op::LONG1).u8(10).raw(unhex("6cfc9c46f9206aa85019")).stop().bytes(),
       "0x1950a86a20f9469cfc6c"},
      {"LONG4 small", P().put(op::LONG4).u32(2).u16(0xff01).stop().bytes(), "-255"},
      {"LONG4 over 64 bytes keeps only its size",
       P().put(op::LONG4).u32(65).raw(std::string(65, '\x01')).stop().bytes(),
       "<65-byte integer>"},
      {"NEWTRUE", P().put({op::NEWTRUE, op::STOP}).bytes(), "True"},
      {"NEWFALSE", P().put({op::NEWFALSE, op::STOP}).bytes(), "False"},
      {"NONE", P().put({op::NONE, op::STOP}).bytes(), "None"},
      {"INT text", PickleAsm().put(op::INT).line("-42").stop().bytes(), "-42"},
      {"INT 01 is True", PickleAsm().put(op::INT).line("01").stop().bytes(), "True"},
      {"INT 00 is False", PickleAsm().put(op::INT).line("00").stop().bytes(), "False"},
      {"INT past 64 bits keeps its digits",
       PickleAsm().put(op::INT).line("99999999999999999999").stop().bytes(),
       "<99999999999999999999>"},
      {"LONG text with L", PickleAsm().put(op::LONG).line("123L").stop().bytes(), "123"},
  });
}

TEST(PickleTest, TheMagicNumberIsAStringNotAnInt) {
  auto p = parse(P().put(op::LONG1).u8(10).raw(unhex("6cfc9c46f9206aa85019")).stop().bytes());
  EXPECT_EQ(Kind::Int, p->root()->kind);
  EXPECT_EQ("0x1950a86a20f9469cfc6c", p->root()->s);
  EXPECT_EQ(0, p->root()->i);
}

TEST(PickleTest, Floats) {
  check_cases({
      {"BINFLOAT is big-endian",
       P().put(op::BINFLOAT).raw(unhex("3ff8000000000000")).stop().bytes(), "1.5"},
      {"BINFLOAT negative", P().put(op::BINFLOAT).raw(unhex("c000000000000000")).stop().bytes(),
       "-2"},
      {"FLOAT text", PickleAsm().put(op::FLOAT).line("2.5").stop().bytes(), "2.5"},
  });
}

TEST(PickleTest, StringsAndBytes) {
  check_cases({
      {"SHORT_BINUNICODE", P(4).put(op::SHORT_BINUNICODE).u8(3).raw("abc").stop().bytes(),
       "'abc'"},
      {"BINUNICODE utf-8", P().put(op::BINUNICODE).u32(3).raw("h\xc3\xa9").stop().bytes(),
       "'h\xc3\xa9'"},
      {"BINUNICODE empty", P().put(op::BINUNICODE).u32(0).stop().bytes(), "''"},
      {"BINUNICODE8", P(4).put(op::BINUNICODE8).u64(4).raw("long").stop().bytes(), "'long'"},
      {"STRING single quotes", PickleAsm().put(op::STRING).line("'abc'").stop().bytes(),
       "'abc'"},
      {"STRING double quotes", PickleAsm().put(op::STRING).line("\"it's\"").stop().bytes(),
       "'it's'"},
      {"UNICODE", PickleAsm().put(op::UNICODE).line("text").stop().bytes(), "'text'"},
      {"SHORT_BINSTRING", P().put(op::SHORT_BINSTRING).u8(2).raw("py").stop().bytes(), "'py'"},
      {"BINSTRING", P().put(op::BINSTRING).u32(2).raw("py").stop().bytes(), "'py'"},
      {"SHORT_BINBYTES", P(3).put(op::SHORT_BINBYTES).u8(2).raw(std::string("\0\1", 2)).stop()
                             .bytes(),
       "b'\\x00\\x01'"},
      {"BINBYTES", P(3).put(op::BINBYTES).u32(3).raw("xyz").stop().bytes(), "b'xyz'"},
      {"BINBYTES8", P(4).put(op::BINBYTES8).u64(1).raw("\xff").stop().bytes(), "b'\\xff'"},
      {"BYTEARRAY8", P(5).put(op::BYTEARRAY8).u64(2).raw("ok").stop().bytes(), "b'ok'"},
  });
}

TEST(PickleTest, Tuples) {
  auto one = [] { return P().put(op::BININT1).u8(1); };
  check_cases({
      {"EMPTY_TUPLE", P().put({op::EMPTY_TUPLE, op::STOP}).bytes(), "()"},
      {"TUPLE1", one().put({op::TUPLE1, op::STOP}).bytes(), "(1,)"},
      {"TUPLE2", one().put(op::BININT1).u8(2).put({op::TUPLE2, op::STOP}).bytes(), "(1, 2)"},
      {"TUPLE3",
       one().put(op::BININT1).u8(2).put(op::BININT1).u8(3).put({op::TUPLE3, op::STOP}).bytes(),
       "(1, 2, 3)"},
      {"TUPLE with MARK",
       P().put(op::MARK).integer(1).put(op::NONE).str("s").integer(4).put({op::TUPLE, op::STOP})
           .bytes(),
       "(1, None, 's', 4)"},
      {"empty TUPLE with MARK", P().put({op::MARK, op::TUPLE, op::STOP}).bytes(), "()"},
      {"nested", one().put(op::EMPTY_TUPLE).put({op::TUPLE2, op::TUPLE1, op::STOP}).bytes(),
       "((1, ()),)"},
  });
}

TEST(PickleTest, Lists) {
  check_cases({
      {"EMPTY_LIST", P().put({op::EMPTY_LIST, op::STOP}).bytes(), "[]"},
      {"APPEND", P().put(op::EMPTY_LIST).integer(7).put(op::APPEND).str("x").put(op::APPEND)
                     .stop().bytes(),
       "[7, 'x']"},
      {"APPENDS", P().put({op::EMPTY_LIST, op::MARK}).integer(1).integer(2).integer(3)
                      .put({op::APPENDS, op::STOP}).bytes(),
       "[1, 2, 3]"},
      {"APPENDS of nothing", P().put({op::EMPTY_LIST, op::MARK, op::APPENDS, op::STOP}).bytes(),
       "[]"},
      {"LIST with MARK",
       PickleAsm().put(op::MARK).put(op::INT).line("1").put(op::INT).line("2")
           .put({op::LIST, op::STOP}).bytes(),
       "[1, 2]"},
      {"APPEND then APPENDS",
       P().put(op::EMPTY_LIST).integer(0).put({op::APPEND, op::MARK}).integer(1)
           .put({op::APPENDS, op::STOP}).bytes(),
       "[0, 1]"},
  });
}

TEST(PickleTest, Dicts) {
  check_cases({
      {"EMPTY_DICT", P().put({op::EMPTY_DICT, op::STOP}).bytes(), "{}"},
      {"SETITEM", P().put(op::EMPTY_DICT).str("a").integer(1).put(op::SETITEM).str("b")
                      .put({op::NONE, op::SETITEM, op::STOP}).bytes(),
       "{'a': 1, 'b': None}"},
      {"SETITEMS", P().put({op::EMPTY_DICT, op::MARK}).str("a").integer(1).str("b").integer(2)
                       .put({op::SETITEMS, op::STOP}).bytes(),
       "{'a': 1, 'b': 2}"},
      {"DICT with MARK", P().put(op::MARK).integer(5).str("five").put({op::DICT, op::STOP})
                             .bytes(),
       "{5: 'five'}"},
      {"keys keep their order",
       P().put({op::EMPTY_DICT, op::MARK}).str("z").integer(1).str("a").integer(2)
           .put({op::SETITEMS, op::STOP}).bytes(),
       "{'z': 1, 'a': 2}"},
  });
}

TEST(PickleTest, Sets) {
  check_cases({
      {"EMPTY_SET", P(4).put({op::EMPTY_SET, op::STOP}).bytes(), "set()"},
      {"ADDITEMS", P(4).put({op::EMPTY_SET, op::MARK}).integer(1).integer(2)
                       .put({op::ADDITEMS, op::STOP}).bytes(),
       "{1, 2}"},
      {"FROZENSET", P(4).put(op::MARK).str("a").put({op::FROZENSET, op::STOP}).bytes(),
       "{'a'}"},
      {"builtins.set REDUCE",
       P().global("builtins", "set").put(op::EMPTY_LIST).integer(3).put(op::APPEND)
           .put({op::TUPLE1, op::REDUCE, op::STOP}).bytes(),
       "{3}"},
  });
}

TEST(PickleTest, StackManipulation) {
  check_cases({
      {"POP", P().integer(1).integer(2).put({op::POP, op::STOP}).bytes(), "1"},
      {"POP_MARK", P().integer(1).put(op::MARK).integer(2).integer(3)
                       .put({op::POP_MARK, op::STOP}).bytes(),
       "1"},
      {"DUP", P().integer(1).put({op::DUP, op::TUPLE2, op::STOP}).bytes(), "(1, 1)"},
      {"FRAME is a hint", P(4).put(op::FRAME).u64(3).integer(9).stop().bytes(), "9"},
      {"READONLY_BUFFER changes nothing",
       P(5).put(op::SHORT_BINBYTES).u8(1).raw("r").put({op::READONLY_BUFFER, op::STOP})
           .bytes(),
       "b'r'"},
  });
}

TEST(PickleTest, ProtocolIsRecorded) {
  for (int proto = 0; proto <= 5; ++proto) {
    SCOPED_TRACE(proto);
    auto p = parse(PickleAsm().proto(proto).put({op::NONE, op::STOP}).bytes());
    EXPECT_EQ(proto, p->protocol());
    EXPECT_EQ(4u, p->end());
  }
  EXPECT_EQ(0, parse(PickleAsm().put({op::NONE, op::STOP}).bytes())->protocol());
}

TEST(PickleTest, EndIsJustPastStop) {
  // Legacy files put pickles back to back; parsing one must stop at its STOP.
  std::string two = P().integer(1).stop().bytes() + P().integer(2).stop().bytes();
  MemorySource src(two);
  auto first = Pickle::parse(src, 0, src.size(), "first");
  EXPECT_EQ(5u, first->end());
  auto second = Pickle::parse(src, first->end(), src.size(), "second");
  EXPECT_EQ(2, second->root()->i);
  EXPECT_EQ(10u, second->end());
  EXPECT_EQ(7u, second->root()->offset);  // offsets are positions in the source
}

TEST(PickleTest, MemoPutAndGet) {
  check_cases({
      {"BINPUT/BINGET", P().str("s").put(op::BINPUT).u8(3).put(op::BINGET).u8(3)
                            .put({op::TUPLE2, op::STOP}).bytes(),
       "('s', 's')"},
      {"LONG_BINPUT/LONG_BINGET",
       P().integer(1).put(op::LONG_BINPUT).u32(70000).put(op::LONG_BINGET).u32(70000)
           .put({op::TUPLE2, op::STOP}).bytes(),
       "(1, 1)"},
      {"PUT/GET text", PickleAsm().put(op::NONE).put(op::PUT).line("12").put(op::GET)
                           .line("12").put({op::TUPLE2, op::STOP}).bytes(),
       "(None, None)"},
      {"MEMOIZE numbers from 0",
       P(4).put(op::MARK).integer(5).put(op::MEMOIZE).integer(6).put(op::MEMOIZE)
           .put(op::BINGET).u8(0).put(op::BINGET).u8(1).put({op::TUPLE, op::STOP}).bytes(),
       "(5, 6, 5, 6)"},
      {"PUT overwrites", P().integer(1).put(op::BINPUT).u8(0).integer(2).put(op::BINPUT).u8(0)
                             .put(op::BINGET).u8(0).put({op::TUPLE3, op::STOP}).bytes(),
       "(1, 2, 2)"},
  });
}

TEST(PickleTest, MemoGetReturnsTheSameValue) {
  // [x, x] where x = [] : both items are one Value, as in Python.
  auto p = parse(P().put({op::EMPTY_LIST, op::EMPTY_LIST}).put(op::BINPUT).u8(0)
                     .put(op::APPEND).put(op::BINGET).u8(0).put({op::APPEND, op::STOP})
                     .bytes());
  const Value* root = p->root();
  ASSERT_EQ(2u, root->items.size());
  EXPECT_EQ(root->items[0], root->items[1]);
  EXPECT_EQ(Kind::List, root->items[0]->kind);
}

TEST(PickleTest, ACycleIsKept) {
  // l = []; l.append(l)
  auto p = parse(P().put(op::EMPTY_LIST).put(op::BINPUT).u8(0).put(op::BINGET).u8(0)
                     .put({op::APPEND, op::STOP}).bytes());
  ASSERT_EQ(1u, p->root()->items.size());
  EXPECT_EQ(p->root(), p->root()->items[0]);
}

// --- Released values ---------------------------------------------------------
//
// A hook that turns m.make(...) into a fresh value, as the torch hooks turn
// _rebuild_tensor_v2(...) into a Tensor, and m.first(x, ...) into x, as they
// unwrap _rebuild_from_type_v2; any other call stays an opaque Object.
class TypedCalls : public PickleHooks {
 public:
  Value* persistent_load(Pickle& p, Value*) override { return p.make(Kind::Storage, 0); }
  Value* call(Pickle& p, Value* callable, Value* args) override {
    if (callable->s == "m.make") {
      Value* v = p.make(Kind::Str, callable->offset);
      v->s = "made";
      return v;
    }
    if (callable->s == "m.first" && !args->items.empty()) return args->items[0];
    return nullptr;
  }
};

// What was released, in order, as the observer is told: a call's arguments
// (and what only they held) before its callable, as REDUCE pops them.
class Releases : public PickleObserver {
 public:
  std::string kinds;
  void released(const Value* v) override {
    if (!kinds.empty()) kinds += " ";
    kinds += v->kind == Kind::Tuple ? "tuple" : v->kind == Kind::Int ? "int"
           : v->kind == Kind::Global ? "global" : v->kind == Kind::List ? "list"
           : v->kind == Kind::Str ? "str" : v->kind == Kind::Storage ? "storage" : "other";
  }
};

TEST(PickleTest, ValuesNothingHoldsAreReleased) {
  struct Row {
    const char* name;
    std::string pickle;
    const char* root;
    const char* released;  // kinds, in the order released
  };
  auto make = [] { return P().global("m", "make"); };
  std::vector<Row> rows = {
      {"a hook's value does not hold the call's arguments",
       make().integer(1000).put({op::TUPLE1, op::REDUCE, op::STOP}).bytes(), "'made'",
       "tuple int global"},
      {"a memo slot no GET reads keeps nothing",
       make().integer(1000).put(op::BINPUT).u8(0).put({op::TUPLE1, op::REDUCE, op::STOP}).bytes(),
       "'made'", "tuple int global"},
      {"a memo slot a GET reads keeps its value",
       make().integer(1000).put(op::BINPUT).u8(0).put({op::TUPLE1, op::REDUCE})
           .put(op::BINGET).u8(0).put({op::TUPLE2, op::STOP}).bytes(),
       "('made', 1000)", "tuple global"},
      {"MEMOIZE's keys are counted as the interpreter counts them",
       P(4).global("m", "make").put(op::MEMOIZE).integer(1000).put(op::MEMOIZE)
           .put({op::TUPLE1, op::REDUCE}).put(op::BINGET).u8(1).put({op::TUPLE2, op::STOP}).bytes(),
       "('made', 1000)", "tuple global"},
      {"a memo slot written again lets the first value go",
       make().integer(1000).put(op::BINPUT).u8(0).put({op::TUPLE1, op::REDUCE})
           .integer(2000).put(op::BINPUT).u8(0).put(op::BINGET).u8(0)
           .put({op::TUPLE3, op::STOP}).bytes(),
       "('made', 2000, 2000)", "tuple global int"},
      {"a hook's result taken from the arguments stays",
       P().global("m", "first").put(op::EMPTY_LIST).integer(1000)
           .put({op::TUPLE2, op::REDUCE, op::STOP}).bytes(),
       "[]", "tuple int global"},
      {"an opaque Object holds its callable and arguments",
       P().global("m", "other").integer(1000).put({op::TUPLE1, op::REDUCE, op::STOP}).bytes(),
       "obj(<m.other>, (1000,))", ""},
      {"a value in a container stays",
       P().put(op::EMPTY_LIST).integer(1000).put(op::DUP).put(op::POP).put(op::APPEND)
           .put(op::STOP).bytes(),
       "[1000]", ""},
      {"DUP is one more reference",
       make().integer(1000).put({op::TUPLE1, op::DUP, op::POP, op::REDUCE, op::STOP}).bytes(),
       "'made'", "tuple int global"},
      {"POP_MARK lets every value above the MARK go",
       P().put(op::NONE).put(op::MARK).integer(1000).str("s").put({op::POP_MARK, op::STOP}).bytes(),
       "None", "int str"},
      {"a list that holds itself is kept",
       P().put(op::EMPTY_LIST).put(op::BINPUT).u8(0).put(op::BINGET).u8(0)
           .put({op::APPEND, op::POP, op::NONE, op::STOP}).bytes(),
       "None", ""},
      {"BUILD replacing a state lets the first go",
       P().global("m", "other").put(op::EMPTY_TUPLE).put(op::REDUCE).integer(1000)
           .put(op::BUILD).integer(2000).put({op::BUILD, op::STOP}).bytes(),
       "obj(<m.other>, (), state=2000)", "int"},
      {"a persistent id is released once loaded",
       P().str("key").put({op::TUPLE1, op::BINPERSID, op::STOP}).bytes(), "storage#0",
       "tuple str"},
      {"a released slot is reused: nothing released is reachable",
       make().integer(1000).put({op::TUPLE1, op::REDUCE}).integer(3000).integer(4000)
           .put({op::TUPLE3, op::STOP}).bytes(),
       "('made', 3000, 4000)", "tuple int global"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    TypedCalls hooks;
    Releases seen;
    MemorySource src(row.pickle);
    try {
      auto p = Pickle::parse(src, 0, src.size(), "t.pkl", &hooks, {}, &seen);
      EXPECT_EQ(row.root, render(p->root()));
    } catch (const Error& e) {
      ADD_FAILURE() << e.describe();
    }
    EXPECT_EQ(row.released, seen.kinds);
  }
}

// A pickle the pass over the opcodes cannot follow keeps every memo value,
// and fails where it always did.
TEST(PickleTest, UnfollowablePicklesKeepTheMemo) {
  EXPECT_EQ("t.pkl: unknown opcode 0xff at byte 9",
            parse_error(P().integer(1000).put(op::BINPUT).u8(0).put(op::BINGET).u8(0)
                            .raw("\xff").bytes()));
  EXPECT_EQ("t.pkl: memo key 1 was never stored at byte 7",
            parse_error(P().integer(1000).put(op::BINPUT).u8(0).put(op::BINGET).u8(1)
                            .stop().bytes()));
}

TEST(PickleTest, GlobalsAreRecordedNotResolved) {
  auto p = parse(P(4).global("os", "system").put(op::SHORT_BINUNICODE).u8(8).raw("builtins")
                     .put(op::SHORT_BINUNICODE).u8(4).raw("eval").put(op::STACK_GLOBAL)
                     .global("os", "system").put({op::TUPLE3, op::STOP}).bytes());
  EXPECT_EQ("(<os.system>, <builtins.eval>, <os.system>)", render(p->root()));
  EXPECT_EQ((std::vector<std::string>{"os.system", "builtins.eval"}), p->globals());
  EXPECT_EQ(Kind::Global, p->root()->items[0]->kind);
  EXPECT_EQ(2u, p->root()->items[0]->offset);
}

TEST(PickleTest, CallsMakeOpaqueObjects) {
  check_cases({
      {"REDUCE", P().global("os", "system").str("rm -rf /").put({op::TUPLE1, op::REDUCE, op::STOP})
                     .bytes(),
       "obj(<os.system>, ('rm -rf /',))"},
      {"NEWOBJ", P().global("m", "C").integer(1).put({op::TUPLE1, op::NEWOBJ, op::STOP}).bytes(),
       "obj(<m.C>, (1,))"},
      {"NEWOBJ then BUILD",
       P().global("m", "C").put({op::EMPTY_TUPLE, op::NEWOBJ, op::EMPTY_DICT}).str("x")
           .integer(1).put({op::SETITEM, op::BUILD, op::STOP}).bytes(),
       "obj(<m.C>, (), state={'x': 1})"},
      {"BUILD with a (dict, slots) state",
       P().global("m", "C").put({op::EMPTY_TUPLE, op::NEWOBJ, op::NONE, op::EMPTY_DICT})
           .put({op::TUPLE2, op::BUILD, op::STOP}).bytes(),
       "obj(<m.C>, (), state=(None, {}))"},
      {"NEWOBJ_EX keeps kwargs",
       P(4).global("m", "C").put(op::EMPTY_TUPLE).put(op::EMPTY_DICT).str("k").integer(2)
           .put({op::SETITEM, op::NEWOBJ_EX, op::STOP}).bytes(),
       "obj(<m.C>, (), items=['k', 2])"},
      {"INST", PickleAsm().put(op::MARK).put(op::INT).line("1").put(op::INST).line("m")
                   .line("C").stop().bytes(),
       "obj(<m.C>, (1,))"},
      {"OBJ", P().put(op::MARK).global("m", "C").integer(1).integer(2).put({op::OBJ, op::STOP})
                  .bytes(),
       "obj(<m.C>, (1, 2))"},
      {"a call of a call", P().global("m", "f").put({op::EMPTY_TUPLE, op::REDUCE, op::EMPTY_TUPLE})
                               .put({op::REDUCE, op::STOP}).bytes(),
       "obj(obj(<m.f>, ()), ())"},
      {"BUILD on a dict sets its state",
       P().put({op::EMPTY_DICT, op::NONE, op::BUILD, op::STOP}).bytes(), "{} state=None"},
  });
}

TEST(PickleTest, OrderedDictReduceGivesADict) {
  check_cases({
      {"empty, then SETITEMS (what protocol 2 writes)",
       P().global("collections", "OrderedDict").put({op::EMPTY_TUPLE, op::REDUCE, op::MARK})
           .str("w").integer(1).put({op::SETITEMS, op::STOP}).bytes(),
       "{'w': 1}"},
      {"from a list of pairs",
       P().global("collections", "OrderedDict").put(op::EMPTY_LIST).str("a").integer(1)
           .put({op::TUPLE2, op::APPEND}).str("b").integer(2)
           .put({op::TUPLE2, op::APPEND, op::TUPLE1, op::REDUCE, op::STOP}).bytes(),
       "{'a': 1, 'b': 2}"},
      {"builtins.dict", P().global("builtins", "dict").put({op::EMPTY_TUPLE, op::REDUCE, op::STOP})
                            .bytes(),
       "{}"},
  });
}

TEST(PickleTest, CallsAreOfferedToHooks) {
  struct Hooks : PickleHooks {
    std::vector<std::string> called;
    Value* persistent_load(Pickle& p, Value* pid) override {
      Value* v = p.make(Kind::Storage, pid->offset);
      v->i = static_cast<int64_t>(pid->s.size());
      return v;
    }
    Value* call(Pickle& p, Value* callable, Value* args) override {
      called.push_back(callable->s);
      if (callable->s != "torch.t") return nullptr;  // the default: an Object
      Value* v = p.make(Kind::Tensor, callable->offset);
      v->i = static_cast<int64_t>(args->items.size());
      return v;
    }
  } hooks;
  auto p = parse(P().put(op::MARK).global("torch", "t").integer(1).integer(2)
                     .put({op::TUPLE2, op::REDUCE})
                     .global("m", "C").put({op::EMPTY_TUPLE, op::NEWOBJ})
                     .put(op::PERSID).line("abc")
                     .str("key").put(op::BINPERSID)
                     .put({op::TUPLE, op::STOP}).bytes(),
                 &hooks);
  EXPECT_EQ("(tensor#2, obj(<m.C>, ()), storage#3, storage#3)", render(p->root()));
  EXPECT_EQ((std::vector<std::string>{"torch.t", "m.C"}), hooks.called);
}

TEST(PickleTest, Protocol0TextPickle) {
  // Hand-written protocol 0: every argument is a line of text.
  std::string text =
      "(dp0\n"
      "S'name'\n"
      "p1\n"
      "Vconv\n"
      "p2\n"
      "sS'sizes'\n"
      "p3\n"
      "(lp4\n"
      "I3\n"
      "aL40000000000L\n"
      "aF0.25\n"
      "asS'alias'\n"
      "g2\n"
      "sS'obj'\n"
      "(I7\n"
      "imymod\n"
      "Thing\n"
      "s.";
  EXPECT_EQ("{'name': 'conv', 'sizes': [3, 40000000000, 0.25], 'alias': 'conv', "
            "'obj': obj(<mymod.Thing>, (7,))}",
            parse_render(text));
}

// Real pickles, written by Python 3.11's pickle.dumps.
TEST(PickleTest, PythonProtocol0) {
  // pickle.dumps({'a': 1, 'b': [2.5, 'x', None], 'c': (True, False)}, protocol=0)
  const char* hex =
      "286470300a56610a70310a49310a7356620a70320a286c70330a46322e350a6156780a70340a614e617356"
      "630a70350a284930310a4930300a7470360a732e";
  auto p = parse(unhex(hex));
  EXPECT_EQ("{'a': 1, 'b': [2.5, 'x', None], 'c': (True, False)}", render(p->root()));
  EXPECT_EQ(0, p->protocol());
}

TEST(PickleTest, PythonProtocol2OrderedDict) {
  // pickle.dumps(collections.OrderedDict([('w', [1, 2, 3]), ('n', -7)]), protocol=2)
  const char* hex =
      "800263636f6c6c656374696f6e730a4f726465726564446963740a7100295271012858010000007771025d"
      "7103284b014b024b036558010000006e71044af9ffffff752e";
  auto p = parse(unhex(hex));
  EXPECT_EQ("{'w': [1, 2, 3], 'n': -7}", render(p->root()));
  EXPECT_EQ(Kind::Dict, p->root()->kind);
  EXPECT_EQ((std::vector<std::string>{"collections.OrderedDict"}), p->globals());
  EXPECT_EQ(2, p->protocol());
}

TEST(PickleTest, PythonProtocol2Object) {
  // class Point: x = 1; y = [2] (instance attributes), in __main__:
  // pickle.dumps(Point(), protocol=2)
  const char* hex =
      "8002635f5f6d61696e5f5f0a506f696e740a7100298171017d71022858010000007871034b01580100000079"
      "71045d71054b026175622e";
  EXPECT_EQ("obj(<__main__.Point>, (), state={'x': 1, 'y': [2]})", parse_render(unhex(hex)));
}

TEST(PickleTest, PythonProtocol0Object) {
  // The same Point with protocol=0: copy_reg._reconstructor, REDUCE, DICT, BUILD.
  const char* hex =
      "63636f70795f7265670a5f7265636f6e7374727563746f720a70300a28635f5f6d61696e5f5f0a506f696e"
      "740a70310a635f5f6275696c74696e5f5f0a6f626a6563740a70320a4e7470330a5270340a286470350a56"
      "780a70360a49310a7356790a70370a286c70380a49320a6173622e";
  auto p = parse(unhex(hex));
  EXPECT_EQ("obj(<copy_reg._reconstructor>, (<__main__.Point>, <__builtin__.object>, None), "
            "state={'x': 1, 'y': [2]})",
            render(p->root()));
  EXPECT_EQ((std::vector<std::string>{"copy_reg._reconstructor", "__main__.Point",
                                      "__builtin__.object"}),
            p->globals());
}

TEST(PickleTest, PythonProtocol4) {
  // pickle.dumps({'k': b'\x00\x01', 's': 'h\u00e9', 'big': 2**70, 'set': {1},
  //               'fs': frozenset([2])}, protocol=4)
  const char* hex =
      "8004953f000000000000007d94288c016b9443020001948c0173948c0368c3a9948c03626967948a090000"
      "000000000000408c03736574948f94284b01908c02667394284b029194752e";
  auto p = parse(unhex(hex));
  EXPECT_EQ("{'k': b'\\x00\\x01', 's': 'h\xc3\xa9', 'big': 0x400000000000000000, 'set': {1}, "
            "'fs': {2}}",
            render(p->root()));
  EXPECT_EQ(4, p->protocol());
}

TEST(PickleTest, PythonProtocol4Object) {
  // The same Point with protocol=4: FRAME, STACK_GLOBAL, MEMOIZE.
  const char* hex =
      "8004952d000000000000008c085f5f6d61696e5f5f948c05506f696e749493942981947d94288c0178944b01"
      "8c0179945d944b026175622e";
  auto p = parse(unhex(hex));
  EXPECT_EQ("obj(<__main__.Point>, (), state={'x': 1, 'y': [2]})", render(p->root()));
  EXPECT_EQ((std::vector<std::string>{"__main__.Point"}), p->globals());
}

TEST(PickleTest, PythonProtocol5) {
  // pickle.dumps([1, (2, 3), {'a': 1}], protocol=5)
  const char* hex =
      "80059516000000000000005d94284b014b024b0386947d948c0161944b0173652e";
  auto p = parse(unhex(hex));
  EXPECT_EQ("[1, (2, 3), {'a': 1}]", render(p->root()));
  EXPECT_EQ(5, p->protocol());
}

TEST(PickleTest, OffsetsPointAtTheOpcode) {
  auto p = parse(P().put(op::EMPTY_LIST).integer(300).put({op::APPEND, op::STOP}).bytes());
  EXPECT_EQ(2u, p->root()->offset);
  EXPECT_EQ(3u, p->root()->items[0]->offset);
}

// None, bools, ints 0 to 255, the empty tuple and tuples of those are one
// value each however often the pickle makes them: a state_dict's shapes and
// offsets would otherwise cost a Value per occurrence.
TEST(PickleTest, ImmutableValuesAreShared) {
  auto p = parse(P().put(op::MARK)
                     .put({op::NONE, op::NONE, op::NEWFALSE, op::NEWFALSE})
                     .integer(8).integer(8).integer(300).integer(300)
                     .integer(8).integer(1).put(op::TUPLE2).integer(8).integer(1).put(op::TUPLE2)
                     .integer(300).put(op::TUPLE1).integer(300).put(op::TUPLE1)
                     .put({op::EMPTY_TUPLE, op::EMPTY_TUPLE})
                     .put(op::TUPLE).stop().bytes());
  const auto& v = p->root()->items;
  ASSERT_EQ(14u, v.size());
  EXPECT_EQ(v[0], v[1]);    // None
  EXPECT_EQ(v[2], v[3]);    // False
  EXPECT_EQ(v[4], v[5]);    // 8
  EXPECT_NE(v[6], v[7]);    // 300: made each time
  EXPECT_EQ(300, v[7]->i);
  EXPECT_EQ(v[8], v[9]);    // (8, 1)
  EXPECT_EQ(1, v[9]->items[1]->i);
  EXPECT_NE(v[10], v[11]);  // (300,)
  EXPECT_EQ(v[12], v[13]);  // ()
  EXPECT_TRUE(v[0]->shared && v[8]->shared && !v[10]->shared && !p->root()->shared);
  EXPECT_FALSE(v[0]->where());
  EXPECT_EQ(std::optional<uint64_t>(v[6]->offset), v[6]->where());
}

// Python's Unpickler calls append, __setitem__ or __setstate__ on the
// target: None, numbers, strings and tuples have none, so it fails there.
// So does this one, which also keeps a shared value from being changed.
TEST(PickleErrors, ImmutableTargets) {
  struct Case { const char* name; std::string pickle; const char* expected; };
  const Case cases[] = {
      {"APPEND to a tuple", P().integer(1).put(op::TUPLE1).integer(2).put(op::APPEND).stop().bytes(),
       "t.pkl: APPEND on a tuple, which Python refuses at byte 7"},
      {"APPENDS to the empty tuple", P().put({op::EMPTY_TUPLE, op::MARK, op::NONE, op::APPENDS}).stop().bytes(),
       "t.pkl: APPEND on a tuple, which Python refuses at byte 5"},
      {"SETITEM on an int", P().integer(300).put({op::NONE, op::NONE, op::SETITEM}).stop().bytes(),
       "t.pkl: SETITEM on an int, which Python refuses at byte 7"},
      {"BUILD on None", P().put({op::NONE, op::EMPTY_DICT, op::BUILD}).stop().bytes(),
       "t.pkl: BUILD on None, which Python refuses at byte 4"},
      {"BUILD on a string", P().str("x").put({op::EMPTY_DICT, op::BUILD}).stop().bytes(),
       "t.pkl: BUILD on a string, which Python refuses at byte 9"},
      {"BUILD on a list", P().put({op::EMPTY_LIST, op::EMPTY_DICT, op::BUILD}).stop().bytes(), "no error"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.expected, parse_error(c.pickle, {}));
  }
}

TEST(PickleTest, DeepNestingIsIterative) {
  // 100000 lists, each inside the next: [[[...]]]. The parser and the
  // arena's destructor must not recurse.
  const size_t depth = 100000;
  std::string b = "\x80\x02" + std::string(depth, ']') + std::string(depth - 1, 'a') + ".";
  auto p = parse(b);
  const Value* v = p->root();
  size_t levels = 1;
  while (!v->items.empty()) {
    v = v->items[0];
    ++levels;
  }
  EXPECT_EQ(depth, levels);
  p.reset();
}

TEST(PickleTest, DeepTupleNestingIsIterative) {
  const size_t depth = 100000;
  std::string b = std::string(depth, '(') + "N" + std::string(depth, 't') + ".";
  auto p = parse(b);
  EXPECT_EQ(Kind::Tuple, p->root()->kind);
}

TEST(PickleErrors, Malformed) {
  check_errors({
      {"unknown opcode", P().put(0xff).bytes(), "t.pkl: unknown opcode 0xff at byte 2"},
      {"unknown opcode 0x00", PickleAsm().put(0x00).bytes(), "t.pkl: unknown opcode 0x00 at byte 0"},
      {"POP on an empty stack", P().put(op::POP).bytes(), "t.pkl: stack underflow at byte 2"},
      {"APPEND with one value", P().put({op::EMPTY_LIST, op::APPEND}).bytes(),
       "t.pkl: stack underflow at byte 3"},
      {"TUPLE2 with one value", P().integer(1).put(op::TUPLE2).bytes(),
       "t.pkl: stack underflow at byte 4"},
      {"pop below a MARK", P().integer(1).put({op::MARK, op::POP}).bytes(),
       "t.pkl: stack underflow at byte 5"},
      {"STOP with an empty stack", P().stop().bytes(), "t.pkl: STOP with an empty stack at byte 2"},
      {"STOP with two values", P().put({op::NONE, op::NONE}).stop().bytes(),
       "t.pkl: STOP leaves 2 values on the stack at byte 4"},
      {"STOP inside a MARK", P().put({op::MARK, op::NONE}).stop().bytes(), "no error"},
      {"no STOP", P().put(op::NONE).bytes(), "t.pkl: pickle ends without a STOP opcode at byte 3"},
      {"empty input", "", "t.pkl: pickle ends without a STOP opcode at byte 0"},
      {"BINGET of a missing key", P().put(op::BINGET).u8(5).bytes(),
       "t.pkl: memo key 5 was never stored at byte 2"},
      {"LONG_BINGET of a missing key", P().integer(0).put(op::LONG_BINPUT).u32(1)
                                           .put(op::LONG_BINGET).u32(70000).bytes(),
       "t.pkl: memo key 70000 was never stored at byte 9"},
      {"GET of a missing key", PickleAsm().put(op::GET).line("7").bytes(),
       "t.pkl: memo key 7 was never stored at byte 0"},
      {"GET with a malformed key", PickleAsm().put(op::GET).line("x1").bytes(),
       "t.pkl: malformed memo key 'x1' at byte 1"},
      {"PUT on an empty stack", P().put(op::BINPUT).u8(0).bytes(),
       "t.pkl: stack underflow at byte 2"},
      {"TUPLE without a MARK", P().put({op::NONE, op::NONE, op::TUPLE}).bytes(),
       "t.pkl: no MARK to pop to at byte 4"},
      {"POP_MARK without a MARK", P().put(op::POP_MARK).bytes(), "t.pkl: no MARK to pop to at byte 2"},
      {"SETITEMS with an odd count",
       P().put({op::EMPTY_DICT, op::MARK}).str("k").put(op::SETITEMS).bytes(),
       "t.pkl: SETITEMS with an odd number of items at byte 10"},
      {"DICT with an odd count", P().put({op::MARK, op::NONE, op::DICT}).bytes(),
       "t.pkl: DICT with an odd number of items at byte 4"},
      {"SETITEMS on an empty stack", P().put({op::MARK, op::SETITEMS}).bytes(),
       "t.pkl: stack underflow at byte 3"},
      {"OBJ without a class", P().put({op::MARK, op::OBJ}).bytes(),
       "t.pkl: OBJ without a class at byte 3"},
      {"STACK_GLOBAL of non-strings", P(4).integer(1).integer(2).put(op::STACK_GLOBAL).bytes(),
       "t.pkl: STACK_GLOBAL needs two strings at byte 6"},
      {"malformed INT", PickleAsm().put(op::INT).line("12a").bytes(),
       "t.pkl: malformed integer '12a' at byte 0"},
      {"empty INT", PickleAsm().put(op::INT).line("").bytes(),
       "t.pkl: malformed integer '' at byte 0"},
      {"text argument without a newline", PickleAsm().put(op::UNICODE).raw("abc").bytes(),
       "t.pkl: text argument has no end of line at byte 1"},
      {"GLOBAL without a name line", PickleAsm().put(op::GLOBAL).line("os").raw("sys").bytes(),
       "t.pkl: text argument has no end of line at byte 4"},
  });
}

TEST(PickleErrors, Lengths) {
  check_errors({
      {"BINUNICODE declaring 4 GiB with 3 bytes left",
       P().put(op::BINUNICODE).u32(0xffffffff).raw("abc").bytes(),
       "t.pkl: argument of 4294967295 bytes runs past the end (3 left) at byte 7"},
      {"BINUNICODE8 declaring 2**64-1",
       P(4).put(op::BINUNICODE8).u64(~uint64_t{0}).bytes(),
       "t.pkl: argument of 18446744073709551615 bytes runs past the end (0 left) at byte 11"},
      {"BINBYTES8 one byte short", P(4).put(op::BINBYTES8).u64(4).raw("abc").bytes(),
       "t.pkl: argument of 4 bytes runs past the end (3 left) at byte 11"},
      {"SHORT_BINUNICODE past the end", P(4).put(op::SHORT_BINUNICODE).u8(10).raw("ab").bytes(),
       "t.pkl: argument of 10 bytes runs past the end (2 left) at byte 4"},
      {"LONG4 past the end", P().put(op::LONG4).u32(100).bytes(),
       "t.pkl: argument of 100 bytes runs past the end (0 left) at byte 7"},
      {"truncated 4-byte length", P().put(op::BINUNICODE).u16(1).bytes(),
       "t.pkl: truncated 4-byte argument at byte 3"},
      {"truncated 8-byte FRAME", P(4).put(op::FRAME).u32(1).bytes(),
       "t.pkl: truncated 8-byte argument at byte 3"},
      {"truncated BINFLOAT", P().put(op::BINFLOAT).u32(0).bytes(),
       "t.pkl: pickle ends without a STOP opcode at byte 7"},
      {"truncated PROTO", PickleAsm().put(op::PROTO).bytes(),
       "t.pkl: pickle ends without a STOP opcode at byte 1"},
  });
}

TEST(PickleErrors, AHugeLengthIsNotAllocated) {
  // In a child whose address space can grow by 256 MiB only: reserving the
  // 4 GiB the opcode declares would throw bad_alloc, not Error.
  std::string b = P().put(op::BINUNICODE).u32(0xffffffff).raw("abc").bytes();
  EXPECT_EXIT(
      {
        test::limit_address_space(256u << 20);
        std::exit(parse_error(b) ==
                          "t.pkl: argument of 4294967295 bytes runs past the end (3 left) at "
                          "byte 7"
                      ? 0
                      : 1);
      },
      testing::ExitedWithCode(0), "");
}

TEST(PickleErrors, Unsupported) {
  check_errors({
      {"EXT1", P().put(op::EXT1).u8(1).bytes(),
       "t.pkl: extension-registry opcode (EXT1/2/4) is not supported at byte 2"},
      {"EXT2", P().put(op::EXT2).u16(1).bytes(),
       "t.pkl: extension-registry opcode (EXT1/2/4) is not supported at byte 2"},
      {"EXT4", P().put(op::EXT4).u32(1).bytes(),
       "t.pkl: extension-registry opcode (EXT1/2/4) is not supported at byte 2"},
      {"NEXT_BUFFER", P(5).put(op::NEXT_BUFFER).bytes(),
       "t.pkl: NEXT_BUFFER needs out-of-band buffers, which a file cannot carry at byte 2"},
      {"PERSID without hooks", PickleAsm().put(op::PERSID).line("0").stop().bytes(),
       "t.pkl: persistent id that this file format does not define at byte 0"},
      {"BINPERSID without hooks", P().str("0").put(op::BINPERSID).stop().bytes(),
       "t.pkl: persistent id that this file format does not define at byte 8"},
      {"BINPERSID on an empty stack", P().put(op::BINPERSID).bytes(),
       "t.pkl: stack underflow at byte 2"},
      {"protocol 6", PickleAsm().proto(6).put(op::NONE).stop().bytes(),
       "t.pkl: unsupported pickle protocol 6 at byte 0"},
      {"protocol 255", PickleAsm().proto(255).bytes(),
       "t.pkl: unsupported pickle protocol 255 at byte 0"},
  });
}

TEST(PickleErrors, Limits) {
  struct LimitCase {
    const char* name;
    PickleLimits limits;
    std::string pickle;
    const char* expected;
  };
  auto limits = [](size_t stack, size_t values, size_t memo) {
    PickleLimits l;
    l.max_stack = stack;
    l.max_values = values;
    l.max_memo = memo;
    return l;
  };
  const LimitCase cases[] = {
      {"stack", limits(3, 100, 100), P().put({op::NONE, op::NONE, op::NONE, op::NONE}).bytes(),
       "t.pkl: pickle stack deeper than the limit at byte 5"},
      {"stack exactly at the limit", limits(3, 100, 100),
       P().put({op::NONE, op::NONE, op::NONE, op::TUPLE3, op::STOP}).bytes(), "no error"},
      {"marks", limits(2, 100, 100), P().put({op::MARK, op::MARK, op::MARK}).bytes(),
       "t.pkl: too many open MARKs at byte 4"},
      {"DUP counts against the stack", limits(2, 100, 100),
       P().put({op::NONE, op::DUP, op::DUP}).bytes(),
       "t.pkl: pickle stack deeper than the limit at byte 4"},
      // The value limit comes from the arena, which does not know the record's name.
      // None and small ints are shared, made once: these are not.
      {"values", limits(100, 2, 100), P().put({op::EMPTY_LIST, op::EMPTY_LIST, op::EMPTY_LIST}).bytes(),
       "pickle makes more than 2 values at byte 4"},
      {"shared values are made once", limits(100, 2, 100),
       P().put({op::NONE, op::NONE, op::NONE, op::TUPLE3, op::STOP}).bytes(), "no error"},
      {"memo", limits(100, 100, 1),
       P().put(op::NONE).put(op::BINPUT).u8(0).put(op::BINPUT).u8(0).put(op::BINPUT).u8(1)
           .bytes(),
       "t.pkl: memo holds more than 1 entries at byte 7"},
      {"MEMOIZE", limits(100, 100, 2),
       P(4).put({op::NONE, op::MEMOIZE, op::MEMOIZE, op::MEMOIZE}).bytes(),
       "t.pkl: memo holds more than 2 entries at byte 5"},
  };
  for (const LimitCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.expected, parse_error(c.pickle, c.limits));
  }
}

TEST(PickleErrors, DeepNestingHitsTheStackLimit) {
  PickleLimits l;
  l.max_stack = 1000;
  std::string b = "\x80\x02" + std::string(5000, ']');
  EXPECT_EQ("t.pkl: pickle stack deeper than the limit at byte 1002", parse_error(b, l));
}

TEST(PickleErrors, ErrorsCarryTheOffsetSeparately) {
  try {
    MemorySource src(std::string(10, 'N') + P().put(op::POP).bytes());
    Pickle::parse(src, 10, src.size(), "data.pkl");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ("data.pkl: stack underflow", e.message());
    EXPECT_EQ(12u, e.offset());
    EXPECT_EQ("", e.file());
  }
}

TEST(PickleErrors, TheEndBoundsThePickle) {
  // A STOP at or past `end` is not seen.
  std::string b = P().put(op::NONE).stop().bytes();
  MemorySource src(b);
  try {
    Pickle::parse(src, 0, 3, "p");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ("p: pickle ends without a STOP opcode at byte 3", e.describe());
  }
  EXPECT_EQ(4u, Pickle::parse(src, 0, 4, "p")->end());
  try {
    Pickle::parse(src, 5, 5, "p");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ("p: pickle starts past the end of its record at byte 5", e.describe());
  }
}

// The cursor reads the pickle in 64 KiB chunks and reads each argument in
// place when it lies inside the chunk: every argument kind, and the opcode
// itself, placed across the chunk's edge at every byte, reads as it does
// anywhere else.
TEST(PickleTest, ArgumentsAcrossTheReadChunksEdge) {
  constexpr size_t kChunk = 64 * 1024;
  // MARK, BINBYTES padding, then the arguments under test.
  auto body = [](PickleAsm a) {
    return std::move(a.integer(0x12345678).put(op::BININT2).u16(0x4321)
                         .put(op::BINFLOAT).raw(std::string("\x3f\xf8\0\0\0\0\0\0", 8))
                         .str("a string of some length").global("mod.ule", "name")
                         .put(op::LONG1).u8(9).raw(std::string("\1\0\0\0\0\0\0\0\0", 9))
                         .put(op::BINGET).u8(0).put(op::LONG_BINGET).u32(0)
                         .put({op::TUPLE, op::STOP}));
  };
  // The GETs read what the pass over the opcodes saw read, in place or not.
  const char* expected =
      "(b'', 305419896, 17185, 1.5, 'a string of some length', <mod.ule.name>, "
      "0x000000000000000001, b'', b'')";
  for (size_t pad = kChunk - 64; pad < kChunk + 4; ++pad) {
    SCOPED_TRACE(pad);
    PickleAsm a = P().put(op::MARK).put(op::BINBYTES).u32(0).put(op::BINPUT).u8(0);
    a.put(op::BINBYTES).u32(pad).raw(std::string(pad, 'x')).put(op::POP);
    std::string b = body(std::move(a)).bytes();
    EXPECT_EQ(expected, parse_render(b));
  }
}

// Pickles cut short fail with the messages and offsets of a reader that
// reads byte by byte, wherever the chunk's edge falls.
TEST(PickleErrors, TruncatedArgumentsAtTheReadChunksEdge) {
  constexpr size_t kChunk = 64 * 1024;
  auto padded = [&](size_t pad) {
    return P().put(op::BINBYTES).u32(pad).raw(std::string(pad, 'x')).put(op::POP);
  };
  for (size_t pad : {kChunk - 12, kChunk - 9, kChunk - 8, kChunk - 7, kChunk - 6, kChunk}) {
    SCOPED_TRACE(pad);
    size_t at = padded(pad).size();  // where the opcode under test starts
    std::string bin = padded(pad).put(op::BININT).u32(7).bytes();
    EXPECT_EQ("t.pkl: truncated 4-byte argument at byte " + std::to_string(at + 1),
              parse_error(bin.substr(0, at + 3)));
    std::string str = padded(pad).str("abcdef").bytes();
    EXPECT_EQ("t.pkl: argument of 6 bytes runs past the end (3 left) at byte " +
                  std::to_string(at + 5),
              parse_error(str.substr(0, str.size() - 3)));
    std::string glob = padded(pad).global("module", "name").bytes();
    EXPECT_EQ("t.pkl: text argument has no end of line at byte " + std::to_string(at + 8),
              parse_error(glob.substr(0, glob.size() - 1)));
    EXPECT_EQ("t.pkl: pickle ends without a STOP opcode at byte " + std::to_string(at),
              parse_error(padded(pad).put(op::NONE).bytes().substr(0, at)));
  }
}

// The pass that finds the memo keys some GET reads keeps keys near the ones
// seen in a bit vector and far ones in a list; a key first far, then
// reached by the vector's growth, is still read, and a key only written is
// not.
TEST(PickleTest, MemoReadsNearAndFarKeys) {
  auto parse_keys = [](const std::vector<uint64_t>& reads, uint64_t max_keys) {
    PickleAsm a = P().put(op::MARK);
    for (uint64_t k : {5000u, 1000u, 3000u, 9u, 1u << 30})
      a.integer(static_cast<int64_t>(k) + 1).put(op::LONG_BINPUT).u32(k);
    for (uint64_t k : reads) a.put(op::LONG_BINGET).u32(k);
    std::string b = a.put({op::TUPLE, op::STOP}).bytes();
    MemorySource src(b);
    return MemoReads::of(src, 0, src.size(), "t.pkl", max_keys);
  };
  MemoReads r = parse_keys({5000, 1000, 3000, 5000, 1u << 30, 9}, 100);
  for (uint64_t k : {5000u, 1000u, 3000u, 9u, 1u << 30}) EXPECT_TRUE(r.is_read(k)) << k;
  for (uint64_t k : {0u, 8u, 10u, 999u, 4999u, 5001u, 6001u, 70000u, (1u << 30) + 1})
    EXPECT_FALSE(r.is_read(k)) << k;
  // More distinct keys read than allowed: every key counts as read.
  MemoReads all = parse_keys({5000, 1000, 3000}, 2);
  EXPECT_TRUE(all.is_read(4999));
  // Repeats are one key each.
  MemoReads repeats = parse_keys({5000, 1000, 5000, 1000, 5000, 1000}, 2);
  EXPECT_FALSE(repeats.is_read(3000));
  EXPECT_TRUE(repeats.is_read(1000));
  // And the interpreter reads them back.
  PickleAsm a = P().put(op::MARK);
  for (uint64_t k : {5000u, 1000u, 3000u})
    a.integer(static_cast<int64_t>(k)).put(op::LONG_BINPUT).u32(k);
  for (uint64_t k : {5000u, 1000u, 3000u, 5000u}) a.put(op::LONG_BINGET).u32(k);
  EXPECT_EQ("(5000, 1000, 3000, 5000, 1000, 3000, 5000)",
            parse_render(a.put({op::TUPLE, op::STOP}).bytes()));
}

}  // namespace
}  // namespace ptscope
