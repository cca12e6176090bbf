// The zip container torch.save and torch.jit.save write. Layout:
//
//   [local header 30 B | name | extra ("FB" field pads data to 64 B)]
//   [record data] [data descriptor, when flag bit 3 is set] ... repeated
//   [central directory: one 46 B entry + name + extra + comment per record]
//   [zip64 end record + zip64 locator, when sizes need 64 bits]
//   [end of central directory record, 22 B + comment]
//
// Only the central directory and the local headers are read; record data
// is read only for the small pickles and code files, on request.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "byte_source.h"
#include "ptscope/checkpoint.h"
#include "ptscope/limits.h"

namespace ptscope {

struct ZipEntry {
  std::string name;             // full name, prefix included
  uint64_t header_offset = 0;   // local header
  uint64_t header_bytes = 0;    // 30 + name + extra, padding excluded
  uint64_t padding_bytes = 0;   // the "FB" alignment extra field
  uint64_t data_offset = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;            // uncompressed
  uint64_t descriptor_bytes = 0;  // data descriptor after the data
  bool has_descriptor = false;    // flag bit 3
  bool zip64_sizes = false;       // the descriptor's sizes are 8 bytes
  uint16_t method = 0;          // 0 stored, 8 deflated
  uint16_t flags = 0;           // general-purpose bits, central directory's
  uint32_t crc32 = 0;           // as the central directory records it
  // The data's first two bytes, when the local header's read covered them:
  // a scan asks each record whether it starts like a pickle.
  bool head_known = false;
  uint8_t head[2] = {0, 0};
  uint64_t central_offset = 0;  // this entry's central directory record
  // The local header's spelling of the name, kept only where it differs
  // (torch never looks): a 100k-record archive need not hold every name twice.
  std::optional<std::string> local_name;
};

struct ZipArchive {
  std::vector<ZipEntry> entries;  // in central directory order
  std::string prefix;             // "archive/": the folder every name starts with
  uint64_t cd_offset = 0, cd_size = 0;
  uint64_t end_offset = 0;        // first byte of the end records
  // Entries ordered by name, for find(): 4 bytes an entry where a hash map
  // of name copies took ~100.
  std::vector<uint32_t> by_name;
  // The entry named prefix + rel, or nullptr; the first in central order
  // when names repeat.
  const ZipEntry* find(std::string_view rel) const;
  // Per entry, the index of the entry find() gives for its name: its own,
  // unless an earlier entry has the same name.
  std::vector<uint32_t> first_of_names() const;
  // rel name of an entry (its name without the prefix), a view of its name.
  std::string_view rel(const ZipEntry& e) const { return std::string_view(e.name).substr(prefix.size()); }
};

bool looks_like_zip(const ByteSource& src);
// Refuses what torch never writes and a reader could be fooled by: records
// that overlap (two central entries over the same bytes), and a stored
// record whose sizes differ (a zip64 size of 1 EiB over 4 bytes).
ZipArchive read_zip(const ByteSource& src);

// Inflated bytes one file may produce in all (ptscope/limits.h): the
// archive's readers share one, so neither many records nor many central
// entries can multiply a deflate bomb.
class InflateBudget {
 public:
  explicit InflateBudget(uint64_t file_bytes);
  // Takes n more bytes; throws Error naming the record when over.
  void take(uint64_t n, const ZipEntry& e);
  uint64_t total() const { return total_; }

 private:
  uint64_t left_, total_;
};

// The record's bytes, inflated if deflated. `limit` caps the size so a
// header cannot make us allocate more than the caller expects; inflated
// bytes are charged to `budget` as they come, and memory grows with what
// inflates, never with what the header declares.
std::string read_zip_record(const ByteSource& src, const ZipEntry& e, uint64_t limit,
                            InflateBudget& budget);

// Where the archive that ends at src's last byte starts, from its end
// records alone: the central directory ends where the end records begin, and
// its recorded offset is relative to the archive's first byte. Files of
// archives back to back (a DCP .distcp data file) are split this way, from
// the last. Throws Error when the end records are missing or inconsistent.
uint64_t zip_archive_start(const ByteSource& src);

// CRC-32 of the record's uncompressed bytes, read and inflated in chunks:
// memory stays constant whatever the record's size.
uint32_t zip_record_crc32(const ByteSource& src, const ZipEntry& e);

// Labels the archive's structure: local headers, padding, descriptors,
// central directory, end records. `label_data` labels each record's data.
void add_zip_regions(const ZipArchive& zip, std::vector<Region>& out,
                     const std::function<Region(const ZipEntry&)>& label_data);

}  // namespace ptscope
