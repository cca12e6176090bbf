// A zip archive read as torch reads it (caffe2's PyTorchStreamReader over
// miniz), not as Python's zipfile does, which is where scanners were fooled:
//
//   - records are found through the central directory; the local header's
//     name is never compared, and only its name and extra lengths are used;
//   - the archive's folder is the first central entry's name up to '/',
//     and torch.load unpickles FOLDER/data.pkl; torch.jit.load (chosen when
//     FOLDER/constants.pkl exists) unpickles data.pkl and constants.pkl and
//     compiles code/;
//   - FOLDER/data/KEY holds the storage a persistent id names.
//
// Everything a reviewer would want to know even where torch would not mind
// is a finding: names that differ, wrong CRCs, overlapping records, bytes no
// record covers, pickles torch never reads, records nothing reads.
#include <algorithm>
#include <cstdio>
#include <iterator>
#include <string_view>
#include <vector>

#include "affixes.h"
#include "file_scan.h"
#include "flat_set.h"
#include "keyed_hash.h"
#include "one_line.h"
#include "ptscope/error.h"
#include "zip.h"

namespace ptscope {
namespace {

constexpr uint64_t kMaxUnreadInflate = 64ull << 20;  // records torch never reads

std::string hex32(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", v);
  return b;
}


// The bytes of a record as a source: a window of the file when stored,
// inflated into memory when deflated.
struct RecordBytes {
  std::unique_ptr<ByteSource> owned;
  std::optional<Place> place;
  bool owned_inflated = false;  // else a window of where.src
};

RecordBytes record_bytes(const Place& where, const ZipEntry& e, const std::string& record,
                         InflateBudget& budget) {
  RecordBytes r;
  if (e.method == 0 && e.compressed_size == e.size) {
    r.owned = std::make_unique<SliceSource>(where.src, e.data_offset, e.size);
    r.place.emplace(Place{*r.owned, where.base + e.data_offset, where.in_file, where.name(record), where.depth});
    return r;
  }
  r.owned = std::make_unique<MemorySource>(read_zip_record(where.src, e, limits::kMaxPickleRecord, budget));
  r.owned_inflated = true;
  r.place.emplace(Place{*r.owned, 0, false, where.name(record), where.depth});
  return r;
}

void check_crc(FileScan& f, const Place& where, const ZipEntry& e) {
  uint32_t crc = zip_record_crc32(where.src, e);
  if (crc != e.crc32)
    f.note(Severity::Warning, "zip-crc", where.name(e.name), where.at(e.header_offset),
           "CRC-32 recorded " + hex32(e.crc32) + ", computed " + hex32(crc) +
               ": Python's zipfile refuses to read the record, so scanners built on it skip it");
}

bool starts_like_pickle(const ByteSource& src, const ZipEntry& e) {
  if (e.compressed_size < 2) return false;
  if (e.method != 0) return true;  // only inflating tells; record_bytes bounds it
  uint8_t head[2];
  if (e.head_known) std::copy(e.head, e.head + 2, head);
  else src.read(e.data_offset, head, 2, "zip record");
  return head[0] == 0x80 && head[1] <= 5;
}

}  // namespace

namespace {

// Archives back to back, as torch.distributed.checkpoint's FileSystemWriter
// writes a .distcp data file (one torch.save per item; the reader hands each
// item's byte range to torch.load). Split from the last, by end records.
std::vector<std::pair<uint64_t, uint64_t>> split_archives(const ByteSource& src) {
  std::vector<std::pair<uint64_t, uint64_t>> parts;  // [begin, end)
  uint64_t end = src.size();
  while (end > 0 && parts.size() < 1000000) {
    SliceSource head(src, 0, end);
    uint64_t start = zip_archive_start(head);
    if (start >= end) throw Error("zip: an archive ends where it starts", end);
    parts.emplace_back(start, end);
    end = start;
  }
  std::reverse(parts.begin(), parts.end());
  return parts;
}

std::string scan_one_zip(FileScan& f, const Place& where, bool torch_reads, const ZipArchive& zip);

}  // namespace

std::string scan_zip(FileScan& f, const Place& where, bool torch_reads) {
  ZipArchive zip;
  try {
    zip = read_zip(where.src);
  } catch (const Error& whole) {
    // Not one archive: several back to back, or a broken one.
    std::vector<std::pair<uint64_t, uint64_t>> parts;
    try {
      parts = split_archives(where.src);
    } catch (const Error&) {
      throw whole;
    }
    if (parts.size() < 2) throw whole;
    for (const auto& [begin, end] : parts) {
      SliceSource part(where.src, begin, end - begin);
      Place inner{part, where.base + begin, where.in_file, where.name("archive at byte " + std::to_string(begin)),
                  where.depth};
      scan_one_zip(f, inner, torch_reads, read_zip(part));
    }
    return std::to_string(parts.size()) +
           " torch.save zip archives back to back (a torch.distributed.checkpoint data file: "
           "torch.load reads each)";
  }
  std::string format = scan_one_zip(f, where, torch_reads, zip);
  if (f.tap() && where.whole_file()) f.tap()->archive(std::move(zip));
  return format;
}

namespace {

std::string scan_one_zip(FileScan& f, const Place& where, bool torch_reads, const ZipArchive& zip) {
  if (zip.entries.empty()) return "zip archive (empty)";

  // torch's folder: the first central entry's name up to its first '/'.
  const std::string& first = zip.entries[0].name;
  std::string folder = first.find('/') == std::string::npos ? "" : first.substr(0, first.find('/') + 1);
  auto rel = [&](const ZipEntry& e) {
    std::string_view name(e.name);
    return !folder.empty() && name.substr(0, folder.size()) == folder ? name.substr(folder.size())
                                                                      : std::string_view();
  };
  bool torchscript = false, has_data_pkl = false, npz = true;
  InflateBudget budget(where.src.size());
  for (const ZipEntry& e : zip.entries) {
    std::string_view r = rel(e);
    if (r == "constants.pkl") torchscript = true;
    if (r == "data.pkl") has_data_pkl = true;
    if (!ends_with(e.name, ".npy")) npz = false;
  }
  std::string format = torchscript     ? "TorchScript archive"
                       : has_data_pkl  ? "torch.save zip archive"
                       : npz           ? "NumPy .npz archive (numpy.load reads it; torch.load finds no data.pkl)"
                                       : "zip archive (no data.pkl: torch.load refuses it)";
  if (!torch_reads) format += ", not read by torch.load";
  if (torchscript && torch_reads)
    f.note(Severity::NeedsCode, "torchscript", where.record, where.at(0),
           "torch.load hands TorchScript archives to torch.jit.load, which compiles and runs "
           "the archive's code/; torch.load(weights_only=True) refuses them (torch >= 2.6)");

  // Container findings first: they say which bytes the rest is about.
  // Names in order: a repeated one is a run in the archive's name index.
  for (size_t k = 0; k < zip.by_name.size();) {
    const std::string& name = zip.entries[zip.by_name[k]].name;
    size_t n = 1;
    while (k + n < zip.by_name.size() && zip.entries[zip.by_name[k + n]].name == name) ++n;
    if (n > 1)
      f.note(Severity::Warning, "zip-duplicate-name", where.record, std::nullopt,
             std::to_string(n) + " records are named '" + one_line(name) +
                 "': which one a reader takes depends on the reader");
    k += n;
  }
  std::vector<const ZipEntry*> by_offset;
  for (const ZipEntry& e : zip.entries) {
    by_offset.push_back(&e);
    if (e.local_name)
      f.note(Severity::Warning, "zip-name-mismatch", where.name(e.name), where.at(e.header_offset),
             "the local header names '" + one_line(*e.local_name) + "', the central directory '" +
                 one_line(e.name) + "': Python's zipfile refuses the record, torch reads it by the central name");
    if (e.flags & 0x1)
      f.note(Severity::Warning, "zip-flags", where.name(e.name), where.at(e.central_offset),
             "the record is marked encrypted (flag bit 0): Python's zipfile refuses it, torch ignores the flag");
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const ZipEntry* a, const ZipEntry* b) { return a->header_offset < b->header_offset; });
  uint64_t covered = 0;
  for (const ZipEntry* e : by_offset) {
    uint64_t end = e->data_offset + e->compressed_size + e->descriptor_bytes;
    if (e->header_offset < covered)
      f.note(Severity::Warning, "zip-overlap", where.name(e->name), where.at(e->header_offset),
             "the record overlaps the one before it: two names for the same bytes");
    else if (e->header_offset > covered)
      f.note(Severity::Warning, "zip-unaccounted", where.record, where.at(covered),
             std::to_string(e->header_offset - covered) + " bytes before '" + one_line(e->name) +
                 "' belong to no record");
    covered = std::max(covered, end);
  }
  if (covered < zip.cd_offset)
    f.note(Severity::Warning, "zip-unaccounted", where.record, where.at(covered),
           std::to_string(zip.cd_offset - covered) +
               " bytes between the last record and the central directory belong to no record");

  // The pickles: the ones torch reads, then any other record that holds one.
  std::vector<std::string> storage_keys;
  std::vector<bool> crc_checked(zip.entries.size());
  bool read_storages = false, tapped = false;
  for (const ZipEntry& e : zip.entries) {
    std::string_view r = rel(e);
    bool is_npy = npz && !torchscript && !has_data_pkl;
    std::string reader;
    if (torch_reads && (r == "data.pkl" || (torchscript && r == "constants.pkl")))
      reader = torchscript ? "torch.jit.load" : "torch.load";
    else if (torch_reads && torchscript && starts_with(r, "code/") && ends_with(r, ".debug_pkl"))
      reader = "torch.jit.load, for source ranges";
    if (is_npy) {
      RecordBytes b = record_bytes(where, e, e.name, budget);
      scan_npy(f, *b.place);
      continue;
    }
    bool pickle_like = reader.empty() ? starts_like_pickle(where.src, e) : true;
    if (!pickle_like) continue;
    if (reader.empty() && e.method != 0 && e.size > kMaxUnreadInflate) {
      f.note(Severity::Info, "not-scanned", where.name(e.name), where.at(e.header_offset),
             "a deflated record of " + std::to_string(e.size) +
                 " bytes that torch never reads was not inflated to look for a pickle");
      continue;
    }
    RecordBytes b = record_bytes(where, e, e.name, budget);
    if (reader.empty() && b.owned_inflated) {
      // An inflated record's first bytes are known only now
      // (starts_like_pickle asked a stored one's already).
      std::string head = b.place->src.read_string(0, std::min<uint64_t>(2, b.place->src.size()), "zip record");
      if (head.size() < 2 || static_cast<uint8_t>(head[0]) != 0x80 || static_cast<uint8_t>(head[1]) > 5) continue;
    }
    check_crc(f, where, e);
    crc_checked[static_cast<size_t>(&e - zip.entries.data())] = true;
    // A stored record in the file is parsed where it lies, so that its
    // values have the file offsets a reader's own parse gives them.
    bool in_place = where.in_file && !b.owned_inflated;
    Place inner = in_place ? Place{where.src, where.base, true, where.record, where.depth}
                           : Place{b.place->src, b.place->base, b.place->in_file, where.record, where.depth};
    uint64_t begin = in_place ? e.data_offset : 0;
    // The object pickle torch.load reads, shared with a reader that asked.
    ReadAlong along;
    if (f.tap() && where.whole_file() && !tapped && !reader.empty() && r == "data.pkl") {
      tapped = true;
      along.hooks = f.tap()->hooks_for(zip, e);
    }
    PickleScan ps = f.pickle(inner, begin, begin + b.place->src.size(), e.name,
                             reader.empty() ? "nothing: torch.load never unpickles it" : reader,
                             along.hooks ? &along : nullptr);
    if (along.hooks && along.pickle) f.tap()->completed(std::move(along.pickle));
    else if (along.hooks) f.tap()->failed();
    if (!reader.empty()) {
      read_storages = reader == "torch.load";
      storage_keys.insert(storage_keys.end(), std::make_move_iterator(ps.storage_keys.begin()),
                          std::make_move_iterator(ps.storage_keys.end()));
    } else if (!ps.complete && !ps.ran_anything) {
      f.drop_last_pickle();  // storage bytes that happen to start like a pickle
    } else {
      f.note(Severity::Warning, "pickle-outside-data-pkl", where.name(e.name), where.at(e.data_offset),
             "a pickle outside data.pkl: torch.load never unpickles it, but a tool or a later "
             "pickle.load might");
    }
  }

  // Records nothing reads, and CRCs of the rest when asked.
  FlatSet<std::string_view, KeyedHash, std::equal_to<>> read_keys;
  read_keys.reserve(storage_keys.size());
  for (const std::string& k : storage_keys) read_keys.insert(k);
  for (const ZipEntry& e : zip.entries) {
    std::string_view r = rel(e);
    if (read_storages && starts_with(r, "data/") && !read_keys.contains(r.substr(5)))
      f.note(Severity::Warning, "zip-unread", where.name(e.name), where.at(e.header_offset),
             "no persistent id in data.pkl names this storage: nothing reads it");
    if (f.options().crc && !crc_checked[static_cast<size_t>(&e - zip.entries.data())]) check_crc(f, where, e);
  }
  if (torch_reads && !has_data_pkl && !torchscript && !npz)
    f.note(Severity::Info, "no-data-pkl", where.record, where.at(0),
           "no " + folder + "data.pkl: torch.load stops before unpickling anything");
  return format;
}

}  // namespace

}  // namespace ptscope
