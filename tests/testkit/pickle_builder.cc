#include "pickle_builder.h"

#include "little_endian.h"

namespace ptscope::test {

PickleAsm& PickleAsm::put(uint8_t code) {
  b_.push_back(static_cast<char>(code));
  return *this;
}

PickleAsm& PickleAsm::put(std::initializer_list<uint8_t> codes) {
  for (uint8_t c : codes) put(c);
  return *this;
}

PickleAsm& PickleAsm::u8(uint64_t v) { put_le(b_, v, 1); return *this; }
PickleAsm& PickleAsm::u16(uint64_t v) { put_le(b_, v, 2); return *this; }
PickleAsm& PickleAsm::u32(uint64_t v) { put_le(b_, v, 4); return *this; }
PickleAsm& PickleAsm::u64(uint64_t v) { put_le(b_, v, 8); return *this; }
PickleAsm& PickleAsm::raw(const std::string& s) { b_ += s; return *this; }

PickleAsm& PickleAsm::line(const std::string& s) {
  b_ += s;
  b_ += '\n';
  return *this;
}

PickleAsm& PickleAsm::proto(int v) { return put(op::PROTO).u8(static_cast<uint64_t>(v)); }

PickleAsm& PickleAsm::str(const std::string& s) {
  return put(op::BINUNICODE).u32(s.size()).raw(s);
}

PickleAsm& PickleAsm::global(const std::string& module, const std::string& name) {
  return put(op::GLOBAL).line(module).line(name);
}

PickleAsm& PickleAsm::integer(int64_t v) {
  if (v >= 0 && v < 0x100) return put(op::BININT1).u8(static_cast<uint64_t>(v));
  if (v >= 0 && v < 0x10000) return put(op::BININT2).u16(static_cast<uint64_t>(v));
  if (v >= INT32_MIN && v <= INT32_MAX) return put(op::BININT).u32(static_cast<uint32_t>(v));
  return put(op::LONG1).u8(8).u64(static_cast<uint64_t>(v));
}

PickleAsm& PickleAsm::stop() { return put(op::STOP); }

}  // namespace ptscope::test
