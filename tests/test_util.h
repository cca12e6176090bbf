// Helpers shared by the tests: fixture paths, whole-file reads, little-endian
// byte builders.
#pragma once

#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

namespace ptscope::test {

inline std::string source_path(const std::string& rel) {
  return std::string(PTSCOPE_SOURCE_DIR) + "/" + rel;
}
inline std::string fixture(const std::string& name) { return source_path("fixtures/" + name); }

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Overwrites `bytes` little-endian bytes of `out` at `at`.
inline void poke_le(std::string& out, uint64_t at, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out[static_cast<size_t>(at) + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

// Caps the address space of this process at what it uses now plus `slack`
// bytes, so an allocation of the size a corrupt header declares fails with
// bad_alloc instead of quietly succeeding. Only for death-test children.
inline void limit_address_space(uint64_t slack) {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0;
  statm >> pages;
  rlimit r;
  r.rlim_cur = r.rlim_max =
      static_cast<rlim_t>(pages * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) + slack);
  ::setrlimit(RLIMIT_AS, &r);
}

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

// Hand assembly of pickles: PickleAsm().proto(2).put(op::EMPTY_LIST).stop().
class PickleAsm {
 public:
  PickleAsm& put(uint8_t code) { b_.push_back(static_cast<char>(code)); return *this; }
  PickleAsm& put(std::initializer_list<uint8_t> codes) {
    for (uint8_t c : codes) put(c);
    return *this;
  }
  PickleAsm& u8(uint64_t v) { put_le(b_, v, 1); return *this; }
  PickleAsm& u16(uint64_t v) { put_le(b_, v, 2); return *this; }
  PickleAsm& u32(uint64_t v) { put_le(b_, v, 4); return *this; }
  PickleAsm& u64(uint64_t v) { put_le(b_, v, 8); return *this; }
  PickleAsm& raw(const std::string& s) { b_ += s; return *this; }
  PickleAsm& line(const std::string& s) { b_ += s; b_ += '\n'; return *this; }

  PickleAsm& proto(int v) { return put(op::PROTO).u8(static_cast<uint64_t>(v)); }
  PickleAsm& str(const std::string& s) { return put(op::BINUNICODE).u32(s.size()).raw(s); }
  PickleAsm& global(const std::string& module, const std::string& name) {
    return put(op::GLOBAL).line(module).line(name);
  }
  // The shortest binary form of v, as pickle writes it.
  PickleAsm& integer(int64_t v) {
    if (v >= 0 && v < 0x100) return put(op::BININT1).u8(static_cast<uint64_t>(v));
    if (v >= 0 && v < 0x10000) return put(op::BININT2).u16(static_cast<uint64_t>(v));
    if (v >= INT32_MIN && v <= INT32_MAX) return put(op::BININT).u32(static_cast<uint32_t>(v));
    return put(op::LONG1).u8(8).u64(static_cast<uint64_t>(v));
  }
  PickleAsm& stop() { return put(op::STOP); }

  uint64_t size() const { return b_.size(); }
  const std::string& bytes() const { return b_; }

 private:
  std::string b_;
};

// An in-memory zip writer shaped like PyTorch's: stored records, optional
// "FB" padding that puts data on 64-byte boundaries, optional data
// descriptors (flag bit 3, with signature) and optional zip64 records.
class ZipBuilder {
 public:
  struct Options {
    bool align = false;
    bool descriptors = false;
    bool zip64 = false;
    std::string comment;  // end of central directory comment
  };
  // Where build() put things, for assertions and for tampering.
  struct Layout {
    std::vector<uint64_t> header_offset, data_offset;
    uint64_t cd_offset = 0, cd_size = 0;
    uint64_t zip64_end_offset = 0, eocd_offset = 0;
    uint64_t end_offset = 0;  // first end record: zip64 end record or EOCD
  };

  ZipBuilder() = default;
  explicit ZipBuilder(Options o) : o_(std::move(o)) {}

  ZipBuilder& add(const std::string& name, const std::string& data) {
    return add_raw(name, data, 0, data.size(), data);
  }
  // A deflated record (raw deflate, as zip stores it).
  ZipBuilder& add_deflated(const std::string& name, const std::string& data) {
    return add_raw(name, deflate_raw(data), 8, data.size(), data);
  }
  // Any payload, declared with `method` and uncompressed `size`.
  ZipBuilder& add_raw(const std::string& name, const std::string& payload, uint16_t method,
                      uint64_t size, const std::string& plain = "") {
    recs_.push_back({name, payload, method, size,
                     static_cast<uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(plain.data()),
                                                   static_cast<uInt>(plain.size())))});
    return *this;
  }

  std::string build() {
    std::string out;
    layout_ = Layout();
    const bool z64 = o_.zip64;
    const uint16_t version = z64 ? 45 : 20;
    const uint16_t flags = o_.descriptors ? 0x8 : 0;
    for (const Rec& r : recs_) {
      uint64_t at = out.size();
      layout_.header_offset.push_back(at);
      std::string extra;
      if (z64) {
        put_le(extra, 1, 2);
        put_le(extra, 16, 2);
        put_le(extra, r.size, 8);
        put_le(extra, r.payload.size(), 8);
      }
      if (o_.align) {
        uint64_t unpadded = at + 30 + r.name.size() + extra.size() + 4;
        uint64_t need = (64 - unpadded % 64) % 64;
        extra += "FB";
        put_le(extra, need, 2);
        extra += std::string(static_cast<size_t>(need), 'Z');
      }
      bool sizes_later = o_.descriptors;
      put_le(out, 0x04034b50, 4);
      put_le(out, version, 2);
      put_le(out, flags, 2);
      put_le(out, r.method, 2);
      put_le(out, 0, 2);  // time
      put_le(out, 0x21, 2);  // date: 1980-01-01
      put_le(out, sizes_later ? 0 : r.crc, 4);
      put_le(out, z64 ? 0xffffffffu : sizes_later ? 0 : r.payload.size(), 4);
      put_le(out, z64 ? 0xffffffffu : sizes_later ? 0 : r.size, 4);
      put_le(out, r.name.size(), 2);
      put_le(out, extra.size(), 2);
      out += r.name;
      out += extra;
      layout_.data_offset.push_back(out.size());
      out += r.payload;
      if (o_.descriptors) {
        put_le(out, 0x08074b50, 4);
        put_le(out, r.crc, 4);
        put_le(out, r.payload.size(), z64 ? 8 : 4);
        put_le(out, r.size, z64 ? 8 : 4);
      }
    }
    layout_.cd_offset = out.size();
    for (size_t i = 0; i < recs_.size(); ++i) {
      const Rec& r = recs_[i];
      std::string extra;
      if (z64) {
        put_le(extra, 1, 2);
        put_le(extra, 24, 2);
        put_le(extra, r.size, 8);
        put_le(extra, r.payload.size(), 8);
        put_le(extra, layout_.header_offset[i], 8);
      }
      put_le(out, 0x02014b50, 4);
      put_le(out, version, 2);  // made by
      put_le(out, version, 2);  // needed
      put_le(out, flags, 2);
      put_le(out, r.method, 2);
      put_le(out, 0, 2);
      put_le(out, 0x21, 2);
      put_le(out, r.crc, 4);
      put_le(out, z64 ? 0xffffffffu : r.payload.size(), 4);
      put_le(out, z64 ? 0xffffffffu : r.size, 4);
      put_le(out, r.name.size(), 2);
      put_le(out, extra.size(), 2);
      put_le(out, 0, 2);  // comment
      put_le(out, 0, 2);  // disk
      put_le(out, 0, 2);  // internal attributes
      put_le(out, 0, 4);  // external attributes
      put_le(out, z64 ? 0xffffffffu : layout_.header_offset[i], 4);
      out += r.name;
      out += extra;
    }
    layout_.cd_size = out.size() - layout_.cd_offset;
    layout_.end_offset = out.size();
    if (z64) {
      layout_.zip64_end_offset = out.size();
      put_le(out, 0x06064b50, 4);
      put_le(out, 44, 8);
      put_le(out, 45, 2);
      put_le(out, 45, 2);
      put_le(out, 0, 4);
      put_le(out, 0, 4);
      put_le(out, recs_.size(), 8);
      put_le(out, recs_.size(), 8);
      put_le(out, layout_.cd_size, 8);
      put_le(out, layout_.cd_offset, 8);
      put_le(out, 0x07064b50, 4);  // locator
      put_le(out, 0, 4);
      put_le(out, layout_.zip64_end_offset, 8);
      put_le(out, 1, 4);
    }
    layout_.eocd_offset = out.size();
    put_le(out, 0x06054b50, 4);
    put_le(out, 0, 2);
    put_le(out, 0, 2);
    put_le(out, z64 ? 0xffff : recs_.size(), 2);
    put_le(out, z64 ? 0xffff : recs_.size(), 2);
    put_le(out, z64 ? 0xffffffffu : layout_.cd_size, 4);
    put_le(out, z64 ? 0xffffffffu : layout_.cd_offset, 4);
    put_le(out, o_.comment.size(), 2);
    out += o_.comment;
    return out;
  }

  const Layout& layout() const { return layout_; }

  // Raw deflate (no zlib header), as zip records hold it.
  static std::string deflate_raw(const std::string& data) {
    z_stream z{};
    ::deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    std::string out(::deflateBound(&z, static_cast<uLong>(data.size())), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    ::deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    ::deflateEnd(&z);
    return out;
  }

 private:
  struct Rec {
    std::string name, payload;
    uint16_t method;
    uint64_t size;
    uint32_t crc;
  };
  Options o_;
  std::vector<Rec> recs_;
  Layout layout_;
};

// safetensors bytes: 8-byte header length, the JSON header, the data.
inline std::string safetensors_bytes(const std::string& header, const std::string& data) {
  std::string out;
  put_le(out, header.size(), 8);
  return out + header + data;
}

}  // namespace ptscope::test
