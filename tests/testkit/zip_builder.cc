#include "zip_builder.h"

#include <zlib.h>

#include "little_endian.h"

namespace ptscope::test {

ZipBuilder& ZipBuilder::add(const std::string& name, const std::string& data) {
  return add_raw(name, data, 0, data.size(), data);
}

ZipBuilder& ZipBuilder::add_deflated(const std::string& name, const std::string& data) {
  return add_raw(name, deflate_raw(data), 8, data.size(), data);
}

ZipBuilder& ZipBuilder::add_raw(const std::string& name, const std::string& payload,
                                uint16_t method, uint64_t size, const std::string& plain) {
  recs_.push_back({name, payload, method, size,
                   static_cast<uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(plain.data()),
                                                 static_cast<uInt>(plain.size())))});
  return *this;
}

std::string ZipBuilder::build() {
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

std::string ZipBuilder::deflate_raw(const std::string& data) {
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

}  // namespace ptscope::test
