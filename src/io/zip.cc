#include "zip.h"

#include <zlib.h>

#include <algorithm>
#include <numeric>

#include "ptscope/error.h"
#include "little_endian.h"
#include "region_labels.h"

namespace ptscope {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50,
                   kEndSig = 0x06054b50, kEnd64Sig = 0x06064b50,
                   kLocator64Sig = 0x07064b50, kDescriptorSig = 0x08074b50;
constexpr uint16_t kZip64Extra = 0x0001, kPaddingExtra = 0x4246;  // "FB"
constexpr uint64_t kCentralBytes = 46, kLocalBytes = 30, kEndBytes = 22;

// Fields of a record already read into b; callers check the length first.
uint16_t u16(std::string_view b, size_t at) { return load_le<uint16_t>(b.data() + at); }
uint32_t u32(std::string_view b, size_t at) { return load_le<uint32_t>(b.data() + at); }
uint64_t u64(std::string_view b, size_t at) { return load_le<uint64_t>(b.data() + at); }

// Finds the end-of-central-directory record: the last signature in the
// final 64 KiB + 22 bytes whose comment length reaches the end exactly.
uint64_t find_end_record(const ByteSource& src) {
  uint64_t size = src.size();
  if (size < kEndBytes) throw Error("zip: file too small for an end of central directory record", 0);
  uint64_t span = std::min<uint64_t>(size, kEndBytes + 0xffff);
  std::string tail = src.read_string(size - span, span, "zip end of central directory");
  for (uint64_t i = span - kEndBytes + 1; i-- > 0;) {
    if (u32(tail, i) == kEndSig && i + kEndBytes + u16(tail, i + 20) == span)
      return size - span + i;
  }
  throw Error("zip: no end of central directory record", size - span);
}

struct Zip64Fields {
  uint64_t* size;
  uint64_t* compressed;
  uint64_t* offset;
};

// Walks extra fields; fills the 64-bit values the 32-bit fields defer to and
// returns the bytes taken by torch's alignment padding field.
uint64_t parse_extra(std::string_view extra, Zip64Fields z, uint64_t at) {
  uint64_t padding = 0;
  size_t i = 0;
  while (i + 4 <= extra.size()) {
    uint16_t id = u16(extra, i), len = u16(extra, i + 2);
    if (i + 4 + len > extra.size())
      throw Error("zip: extra field runs past its header", at + i);
    if (id == kPaddingExtra) padding += 4u + len;
    if (id == kZip64Extra) {
      size_t p = i + 4, end = i + 4 + len;
      for (uint64_t* field : {z.size, z.compressed, z.offset}) {
        if (!field || *field != 0xffffffffu) continue;
        if (p + 8 > end) throw Error("zip: zip64 extra field too short", at + i);
        *field = u64(extra, p);
        p += 8;
      }
    }
    i += 4u + len;
  }
  return padding;
}

void read_end_records(const ByteSource& src, ZipArchive& zip, uint64_t& count) {
  uint64_t eocd = find_end_record(src);
  std::string e = src.read_string(eocd, kEndBytes, "zip end of central directory");
  count = u16(e, 10);
  zip.cd_size = u32(e, 12);
  zip.cd_offset = u32(e, 16);
  zip.end_offset = eocd;
  if (eocd >= 20 && src.read_u32(eocd - 20, "zip64 locator") == kLocator64Sig) {
    uint64_t rec = src.read_u64(eocd - 20 + 8, "zip64 locator");
    if (rec > eocd - 20 || src.read_u32(rec, "zip64 end record") != kEnd64Sig)
      throw Error("zip: zip64 locator points at no zip64 end record", eocd - 20);
    std::string r = src.read_string(rec, 56, "zip64 end record");
    count = u64(r, 32);
    zip.cd_size = u64(r, 40);
    zip.cd_offset = u64(r, 48);
    zip.end_offset = rec;
  }
  if (zip.cd_offset > zip.end_offset || zip.cd_size > zip.end_offset - zip.cd_offset)
    throw Error("zip: central directory (" + std::to_string(zip.cd_size) +
                    " bytes) lies outside the file",
                zip.cd_offset);
  if (count > zip.cd_size / kCentralBytes || count > UINT32_MAX)
    throw Error("zip: " + std::to_string(count) + " entries cannot fit in a " +
                    std::to_string(zip.cd_size) + "-byte central directory",
                eocd);
}

void read_local_header(const ByteSource& src, const ZipArchive& zip, ZipEntry& e) {
  // One read usually covers header, name and extra field (torch's padding
  // is under 64 bytes); a second only when they are longer.
  // The read goes to the stack and covers about what the central entry
  // predicts: an archive of 100k records reads each header once, small.
  char buf[kLocalBytes + 512];
  uint64_t want = std::min<uint64_t>({kLocalBytes + std::min<uint64_t>(e.name.size() + 128, 512),
                                      zip.cd_offset - e.header_offset});
  if (want < kLocalBytes)
    throw Error("zip: local header of '" + e.name + "' runs into the central directory",
                e.header_offset);
  src.read(e.header_offset, buf, static_cast<size_t>(want), "zip local header");
  std::string_view h(buf, static_cast<size_t>(want));
  if (u32(h, 0) != kLocalSig)
    throw Error("zip: bad local header signature for '" + e.name + "'", e.header_offset);
  uint16_t flags = u16(h, 6);
  uint64_t name_len = u16(h, 26), extra_len = u16(h, 28);
  // Views of h, or of reads past it when the first read missed them.
  std::string far_extra, far_name;
  std::string_view extra, local_name;
  if (kLocalBytes + name_len + extra_len <= h.size()) {
    extra = std::string_view(h).substr(kLocalBytes + name_len, extra_len);
  } else {
    far_extra = src.read_string(e.header_offset + kLocalBytes + name_len, extra_len, "zip local extra field");
    extra = far_extra;
  }
  if (kLocalBytes + name_len <= h.size()) {
    local_name = std::string_view(h).substr(kLocalBytes, name_len);
  } else {
    far_name = src.read_string(e.header_offset + kLocalBytes, name_len, "zip local name");
    local_name = far_name;
  }
  if (local_name != e.name) e.local_name = std::string(local_name);
  uint64_t local_size = u32(h, 22), local_comp = u32(h, 18);
  bool zip64 = local_size == 0xffffffffu || local_comp == 0xffffffffu;
  e.padding_bytes = parse_extra(extra, {&local_size, &local_comp, nullptr},
                                e.header_offset + kLocalBytes + name_len);
  e.header_bytes = kLocalBytes + name_len + extra_len - e.padding_bytes;
  e.data_offset = e.header_offset + kLocalBytes + name_len + extra_len;
  if (e.data_offset > zip.cd_offset || e.compressed_size > zip.cd_offset - e.data_offset)
    throw Error("zip: data of '" + e.name + "' (" + std::to_string(e.compressed_size) +
                    " bytes) runs into the central directory",
                e.data_offset);
  if (e.compressed_size >= 2 && kLocalBytes + name_len + extra_len + 2 <= h.size()) {
    e.head_known = true;
    e.head[0] = static_cast<uint8_t>(h[kLocalBytes + name_len + extra_len]);
    e.head[1] = static_cast<uint8_t>(h[kLocalBytes + name_len + extra_len + 1]);
  }
  e.has_descriptor = flags & 0x8;
  e.zip64_sizes = zip64;
}

// A descriptor is 12 or 20 bytes, plus an optional 4-byte signature. The
// gap before the next record usually says which without a read; reading
// its first word is the fallback.
void size_descriptors(const ByteSource& src, ZipArchive& zip) {
  std::vector<ZipEntry*> by_offset;
  for (ZipEntry& e : zip.entries) by_offset.push_back(&e);
  // Stable: entries at one offset keep central order, so an overlap error
  // names the same two entries every time.
  std::stable_sort(by_offset.begin(), by_offset.end(),
                   [](const ZipEntry* a, const ZipEntry* b) { return a->header_offset < b->header_offset; });
  for (size_t i = 0; i < by_offset.size(); ++i) {
    ZipEntry& e = *by_offset[i];
    if (!e.has_descriptor) continue;
    uint64_t at = e.data_offset + e.compressed_size;
    uint64_t next = i + 1 < by_offset.size() ? by_offset[i + 1]->header_offset : zip.cd_offset;
    uint64_t bare = 4 + (e.zip64_sizes ? 16 : 8);
    uint64_t gap = next >= at ? next - at : 0;
    if (gap == bare || gap == bare + 4) {
      e.descriptor_bytes = gap;
      continue;
    }
    bool sig = at + 4 <= zip.cd_offset && src.read_u32(at, "zip data descriptor") == kDescriptorSig;
    e.descriptor_bytes = (sig ? 4 : 0) + bare;
  }
  // Each record ends before the next begins: one set of bytes, one entry.
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const ZipEntry& a = *by_offset[i - 1];
    const ZipEntry& b = *by_offset[i];
    if (a.data_offset + a.compressed_size + a.descriptor_bytes > b.header_offset)
      throw Error("zip: records '" + a.name + "' and '" + b.name + "' overlap",
                  b.header_offset);
  }
}

}  // namespace

bool looks_like_zip(const ByteSource& src) {
  if (src.size() < 4) return false;
  uint32_t sig = src.read_u32(0, "zip signature");
  return sig == kLocalSig || sig == kEndSig;
}

ZipArchive read_zip(const ByteSource& src) {
  ZipArchive zip;
  uint64_t count = 0;
  read_end_records(src, zip, count);
  std::string cd = src.read_string(zip.cd_offset, zip.cd_size, "zip central directory");
  size_t p = 0;
  zip.entries.reserve(static_cast<size_t>(count));
  for (uint64_t n = 0; n < count; ++n) {
    uint64_t at = zip.cd_offset + p;
    if (p + kCentralBytes > cd.size() || u32(cd, p) != kCentralSig)
      throw Error("zip: central directory entry " + std::to_string(n) + " is malformed", at);
    uint64_t name_len = u16(cd, p + 28), extra_len = u16(cd, p + 30),
             comment_len = u16(cd, p + 32);
    if (p + kCentralBytes + name_len + extra_len + comment_len > cd.size())
      throw Error("zip: central directory entry " + std::to_string(n) +
                      " runs past the central directory",
                  at);
    ZipEntry e;
    e.central_offset = at;
    e.flags = u16(cd, p + 8);
    e.method = u16(cd, p + 10);
    e.crc32 = u32(cd, p + 16);
    e.compressed_size = u32(cd, p + 20);
    e.size = u32(cd, p + 24);
    e.header_offset = u32(cd, p + 42);
    e.name = cd.substr(p + kCentralBytes, name_len);
    parse_extra(std::string_view(cd).substr(p + kCentralBytes + name_len, extra_len),
                {&e.size, &e.compressed_size, &e.header_offset}, at + kCentralBytes + name_len);
    if (e.header_offset >= zip.cd_offset)
      throw Error("zip: local header of '" + e.name + "' lies past the records",
                  at + 42);
    read_local_header(src, zip, e);
    if (e.method == 0 && e.size != e.compressed_size)
      throw Error("zip: stored record '" + e.name + "' has " +
                      std::to_string(e.compressed_size) + " bytes but declares " +
                      std::to_string(e.size),
                  at);
    zip.entries.push_back(std::move(e));
    p += kCentralBytes + name_len + extra_len + comment_len;
  }
  size_descriptors(src, zip);
  if (!zip.entries.empty()) {
    const std::string& first = zip.entries[0].name;
    size_t slash = first.find('/');
    if (slash != std::string::npos) {
      zip.prefix = first.substr(0, slash + 1);
      for (const ZipEntry& e : zip.entries)
        if (e.name.compare(0, zip.prefix.size(), zip.prefix) != 0) zip.prefix.clear();
    }
  }
  // Lookups by name are per storage: O(log n) each for 100k records.
  zip.by_name.resize(zip.entries.size());
  std::iota(zip.by_name.begin(), zip.by_name.end(), uint32_t{0});
  std::stable_sort(zip.by_name.begin(), zip.by_name.end(), [&](uint32_t a, uint32_t b) {
    return zip.entries[a].name < zip.entries[b].name;
  });
  return zip;
}

std::vector<uint32_t> ZipArchive::first_of_names() const {
  std::vector<uint32_t> first(entries.size());
  // by_name is stable: a run of one name starts with its first entry.
  for (size_t k = 0; k < by_name.size(); ++k)
    first[by_name[k]] = k > 0 && entries[by_name[k]].name == entries[by_name[k - 1]].name
                            ? first[by_name[k - 1]]
                            : by_name[k];
  return first;
}

const ZipEntry* ZipArchive::find(std::string_view wanted) const {
  // Every name starts with the prefix: compare what follows it.
  auto tail = [&](uint32_t i) { return rel(entries[i]); };
  auto it = std::lower_bound(by_name.begin(), by_name.end(), wanted,
                             [&](uint32_t i, std::string_view r) { return tail(i) < r; });
  return it != by_name.end() && tail(*it) == wanted ? &entries[*it] : nullptr;
}

InflateBudget::InflateBudget(uint64_t file_bytes)
    : left_(limits::kInflateFloor +
            std::min(file_bytes, UINT64_MAX / 4 / limits::kInflatePerFileByte) *
                limits::kInflatePerFileByte),
      total_(left_) {}

void InflateBudget::take(uint64_t n, const ZipEntry& e) {
  if (n > left_)
    throw Error("zip: records inflate to more than " + std::to_string(total_) +
                    " bytes in all, at '" + e.name + "'",
                e.data_offset);
  left_ -= n;
}

std::string read_zip_record(const ByteSource& src, const ZipEntry& e, uint64_t limit,
                            InflateBudget& budget) {
  if (e.size > limit)
    throw Error("zip: record '" + e.name + "' declares " + std::to_string(e.size) +
                    " bytes, more than the " + std::to_string(limit) + " allowed",
                e.header_offset);
  if (e.method == 0) {
    if (e.compressed_size != e.size)
      throw Error("zip: stored record '" + e.name + "' has different sizes", e.header_offset);
    return src.read_string(e.data_offset, e.size, "zip record");
  }
  if (e.method != 8)
    throw Error("zip: record '" + e.name + "' uses unsupported compression method " +
                    std::to_string(e.method),
                e.header_offset);
  if (e.compressed_size > 0xffffffffu)
    throw Error("zip: deflated record '" + e.name + "' is too large to inflate", e.header_offset);
  std::string in = src.read_string(e.data_offset, e.compressed_size, "zip record");
  // Inflated a chunk at a time: the output grows with what the data
  // proves, and stops one byte past what the header declares.
  constexpr size_t kChunk = 1 << 16;
  std::string out;
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) throw Error("zip: cannot start inflate");
  z.next_in = reinterpret_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK && out.size() <= e.size) {
    size_t have = out.size();
    out.resize(have + kChunk);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + have);
    z.avail_out = static_cast<uInt>(kChunk);
    rc = inflate(&z, Z_NO_FLUSH);
    out.resize(have + kChunk - z.avail_out);
    try {
      budget.take(out.size() - have, e);
    } catch (...) {
      inflateEnd(&z);
      throw;
    }
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END || out.size() != e.size)
    throw Error("zip: record '" + e.name + "' does not inflate to its declared " +
                    std::to_string(e.size) + " bytes",
                e.data_offset);
  return out;
}

uint64_t zip_archive_start(const ByteSource& src) {
  uint64_t eocd = find_end_record(src);
  std::string e = src.read_string(eocd, kEndBytes, "zip end of central directory");
  uint64_t cd_size = u32(e, 12), cd_offset = u32(e, 16), end = eocd;
  // A zip64 end record without extensible data lies right before its
  // locator; the locator's own offset is relative, so it is not followed.
  if (eocd >= 20 + 56 && src.read_u32(eocd - 20, "zip64 locator") == kLocator64Sig &&
      src.read_u32(eocd - 20 - 56, "zip64 end record") == kEnd64Sig) {
    std::string r = src.read_string(eocd - 20 - 56, 56, "zip64 end record");
    cd_size = u64(r, 40);
    cd_offset = u64(r, 48);
    end = eocd - 20 - 56;
  }
  if (cd_size > end || cd_offset > end - cd_size)
    throw Error("zip: central directory (" + std::to_string(cd_size) + " bytes at " +
                    std::to_string(cd_offset) + ") does not fit before its end records",
                eocd);
  return end - cd_size - cd_offset;
}

uint32_t zip_record_crc32(const ByteSource& src, const ZipEntry& e) {
  constexpr uint64_t kChunk = 1 << 20;
  uLong crc = crc32(0L, Z_NULL, 0);
  std::string in;
  if (e.method == 0) {
    for (uint64_t done = 0; done < e.compressed_size; done += in.size()) {
      in = src.read_string(e.data_offset + done, std::min(kChunk, e.compressed_size - done), "zip record");
      crc = crc32(crc, reinterpret_cast<const Bytef*>(in.data()), static_cast<uInt>(in.size()));
    }
    return static_cast<uint32_t>(crc);
  }
  if (e.method != 8)
    throw Error("zip: record '" + e.name + "' uses unsupported compression method " +
                    std::to_string(e.method),
                e.header_offset);
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) throw Error("zip: cannot start inflate");
  std::string out(kChunk, '\0');
  int rc = Z_OK;
  uint64_t done = 0;
  while (rc != Z_STREAM_END) {
    if (z.avail_in == 0) {
      if (done == e.compressed_size) break;
      in = src.read_string(e.data_offset + done, std::min(kChunk, e.compressed_size - done), "zip record");
      done += in.size();
      z.next_in = reinterpret_cast<Bytef*>(in.data());
      z.avail_in = static_cast<uInt>(in.size());
    }
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    crc = crc32(crc, reinterpret_cast<const Bytef*>(out.data()),
                static_cast<uInt>(out.size() - z.avail_out));
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END)
    throw Error("zip: record '" + e.name + "' does not inflate", e.data_offset);
  return static_cast<uint32_t>(crc);
}

void add_zip_regions(const ZipArchive& zip, std::vector<Region>& out,
                     const std::function<Region(const ZipEntry&)>& label_data) {
  size_t n = out.size() + 2;
  for (const ZipEntry& e : zip.entries) n += 2 + (e.padding_bytes != 0) + (e.descriptor_bytes != 0);
  out.reserve(n);
  for (const ZipEntry& e : zip.entries) {
    out.push_back({e.header_offset, e.header_bytes, label::kZipLocalHeaders, -1});
    if (e.padding_bytes)
      out.push_back({e.data_offset - e.padding_bytes, e.padding_bytes, label::kAlignmentPadding, -1});
    Region data = label_data(e);
    data.offset = e.data_offset;
    data.size = e.compressed_size;
    out.push_back(data);
    if (e.descriptor_bytes)
      out.push_back({e.data_offset + e.compressed_size, e.descriptor_bytes,
                     label::kZipDataDescriptors, -1});
  }
  out.push_back({zip.cd_offset, zip.cd_size, label::kZipCentralDirectory, -1});
  out.push_back({zip.end_offset, UINT64_MAX, label::kZipEndRecords, -1});  // to end of file
}

}  // namespace ptscope
