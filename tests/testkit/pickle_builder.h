// Pickles assembled opcode by opcode, for inputs Python would never write
// (truncated arguments, memo references before their PUT, 4 GiB lengths)
// as well as ordinary ones. Layout: what `pickle` writes, an optional
// PROTO, opcodes each followed by its argument (little-endian binary, or a
// text line ending in '\n'), a final STOP.
//
//   PickleAsm().proto(2).put(op::EMPTY_LIST).integer(300).put(op::APPEND).stop()
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

namespace ptscope::test {

// Pickle opcodes, named as in Python's pickletools.
namespace op {
constexpr uint8_t MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2',
                  FLOAT = 'F', INT = 'I', BININT = 'J', BININT1 = 'K', LONG = 'L',
                  BININT2 = 'M', NONE = 'N', PERSID = 'P', BINPERSID = 'Q', REDUCE = 'R',
                  STRING = 'S', BINSTRING = 'T', SHORT_BINSTRING = 'U', UNICODE = 'V',
                  BINUNICODE = 'X', APPEND = 'a', BUILD = 'b', GLOBAL = 'c', DICT = 'd',
                  EMPTY_DICT = '}', APPENDS = 'e', GET = 'g', BINGET = 'h', INST = 'i',
                  LONG_BINGET = 'j', LIST = 'l', EMPTY_LIST = ']', OBJ = 'o', PUT = 'p',
                  BINPUT = 'q', LONG_BINPUT = 'r', SETITEM = 's', TUPLE = 't',
                  EMPTY_TUPLE = ')', SETITEMS = 'u', BINFLOAT = 'G', BINBYTES = 'B',
                  SHORT_BINBYTES = 'C', PROTO = 0x80, NEWOBJ = 0x81, EXT1 = 0x82,
                  EXT2 = 0x83, EXT4 = 0x84, TUPLE1 = 0x85, TUPLE2 = 0x86, TUPLE3 = 0x87,
                  NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8a, LONG4 = 0x8b,
                  SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e,
                  EMPTY_SET = 0x8f, ADDITEMS = 0x90, FROZENSET = 0x91, NEWOBJ_EX = 0x92,
                  STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95, BYTEARRAY8 = 0x96,
                  NEXT_BUFFER = 0x97, READONLY_BUFFER = 0x98;
}  // namespace op

// Appends exactly what it is told; nothing is checked, so any malformed
// pickle can be written. size() is the offset the next opcode will have,
// which tests use for the "at byte N" of an expected error.
class PickleAsm {
 public:
  PickleAsm& put(uint8_t code);
  PickleAsm& put(std::initializer_list<uint8_t> codes);
  // Little-endian arguments of 1, 2, 4 and 8 bytes.
  PickleAsm& u8(uint64_t v);
  PickleAsm& u16(uint64_t v);
  PickleAsm& u32(uint64_t v);
  PickleAsm& u64(uint64_t v);
  PickleAsm& raw(const std::string& s);
  // A text argument: `s` and a newline.
  PickleAsm& line(const std::string& s);

  PickleAsm& proto(int v);
  // BINUNICODE: a 4-byte length and the UTF-8 bytes.
  PickleAsm& str(const std::string& s);
  // GLOBAL: "module\nname\n".
  PickleAsm& global(const std::string& module, const std::string& name);
  // The shortest binary form of v, as pickle writes it.
  PickleAsm& integer(int64_t v);
  PickleAsm& stop();

  uint64_t size() const { return b_.size(); }
  const std::string& bytes() const { return b_; }

 private:
  std::string b_;
};

}  // namespace ptscope::test
