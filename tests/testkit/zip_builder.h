// Zip archives in memory, shaped like the ones PyTorch's writer makes
// (torch.save, torch.jit.save): stored records, optional "FB" padding that
// puts data on 64-byte boundaries, optional data descriptors (flag bit 3,
// with signature), optional zip64 records. Layout of build()'s bytes:
//
//   per record:  local header, name, extra (zip64 sizes, FB padding),
//                data, [data descriptor]
//   central directory: one entry per record
//   [zip64 end record, zip64 locator]
//   end of central directory record, comment
//
// layout() says where each of these landed, for assertions and tampering.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ptscope::test {

class ZipBuilder {
 public:
  struct Options {
    bool align = false;
    bool descriptors = false;
    bool zip64 = false;
    std::string comment;  // end of central directory comment
  };
  // Where build() put things.
  struct Layout {
    std::vector<uint64_t> header_offset, data_offset;
    uint64_t cd_offset = 0, cd_size = 0;
    uint64_t zip64_end_offset = 0, eocd_offset = 0;
    uint64_t end_offset = 0;  // first end record: zip64 end record or EOCD
  };

  ZipBuilder() = default;
  explicit ZipBuilder(Options o) : o_(std::move(o)) {}

  // A stored record.
  ZipBuilder& add(const std::string& name, const std::string& data);
  // A deflated record (raw deflate, as zip stores it).
  ZipBuilder& add_deflated(const std::string& name, const std::string& data);
  // Any payload, declared with `method` and uncompressed `size`; the CRC is
  // that of `plain`.
  ZipBuilder& add_raw(const std::string& name, const std::string& payload, uint16_t method,
                      uint64_t size, const std::string& plain = "");

  std::string build();
  const Layout& layout() const { return layout_; }

  // Raw deflate (no zlib header), as zip records hold it.
  static std::string deflate_raw(const std::string& data);

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

}  // namespace ptscope::test
