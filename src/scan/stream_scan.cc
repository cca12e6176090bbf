// torch.load's path for anything that does not start with a zip local
// header (torch/serialization.py, _legacy_load): it unpickles from byte 0,
// and only then checks what it got. So the first pickle of any such file
// runs, whatever the file is called:
//
//   pickle 1  magic number 0x1950a86a20f9469cfc6c   (else: "Invalid magic number")
//   pickle 2  protocol version 1001
//   pickle 3  sys_info
//   pickle 4  the object, storages as persistent ids
//   pickle 5  the storage keys, then raw storage data
//
// A bare pickle (.pkl) is pickle 1 and nothing else. Before torch 0.4 the
// file was a tar (members sys_info, pickle, tensors, storages), tried first.
#include <cstring>

#include "file_scan.h"
#include "ptscope/error.h"
#include "zip.h"

namespace ptscope {
namespace {

const char* kMagic = "0x1950a86a20f9469cfc6c";

// Whether a pickle could start here: Python's Unpickler takes any opcode
// first, but data that begins with none of the usual first opcodes cannot
// reach a call before failing (checked anyway: the scan reports what ran).
const char* kStages[] = {"pickle 1 (magic number)", "pickle 2 (protocol version)",
                         "pickle 3 (sys_info)", "pickle 4 (the object)",
                         "pickle 5 (storage keys)"};

// A zip archive behind the pickle: zip tools see it, torch.load does not.
void scan_trailing_zip(FileScan& f, const Place& where) {
  if (!where.in_file || where.src.size() < 22) return;
  try {
    uint32_t tail = where.src.read_u32(where.src.size() - 22, "zip end record");
    if (tail != 0x06054b50) return;
    f.note(Severity::Warning, "polyglot", where.record, where.at(0),
           "the file also ends like a zip archive: zip tools read an archive, torch.load "
           "unpickles from byte 0");
    scan_zip(f, where, false);
  } catch (const Error&) {
    // Not an archive after all: the end record was a coincidence.
  }
}

}  // namespace

std::string scan_pickle_stream(FileScan& f, const Place& where) {
  uint64_t size = where.src.size();
  if (size == 0) {
    f.note(Severity::Info, "empty", where.record, where.at(0), "an empty file: torch.load fails at once");
    return "empty file";
  }
  uint64_t pos = 0;
  std::string format;
  for (size_t stage = 0; stage < 5; ++stage) {
    PickleScan ps = f.pickle(where, pos, size, kStages[stage], "torch.load");
    if (!ps.complete) {
      if (stage == 0 && !ps.ran_anything) {
        // torch.load fails on the first bytes; nothing ran. Not a pickle.
        f.drop_last_pickle();
        format = "not a checkpoint (torch.load fails at byte " + std::to_string(ps.error_at) + ")";
      } else {
        f.note(Severity::Warning, "pickle-malformed", kStages[stage], where.at(ps.error_at),
               "the pickle breaks here (" + ps.error +
                   "): Python has already run everything before this byte");
        if (format.empty()) format = stage == 0 ? "pickle (malformed)" : "legacy torch.save (malformed)";
      }
      break;
    }
    pos = ps.end;
    if (stage == 0) {
      if (ps.root_int != kMagic) {
        format = "pickle (torch.load unpickles it while looking for the legacy magic number)";
        if (pos < size)
          f.note(Severity::Info, "trailing-bytes", where.record, where.at(pos),
                 std::to_string(size - pos) + " bytes follow the pickle; torch.load stops after it");
        break;
      }
      format = "legacy torch.save";
    }
    if (stage == 4) break;  // raw storage data follows
  }
  scan_trailing_zip(f, where);
  return format;
}

// ustar: 512-byte headers, name at 0 (100 bytes), size in octal at 124
// (12 bytes), type at 156, "ustar" at 257; data padded to 512.
bool looks_like_tar(const ByteSource& src) {
  if (src.size() < 512) return false;
  std::string magic = src.read_string(257, 5, "tar header");
  return magic == "ustar";
}

std::string scan_tar(FileScan& f, const Place& where) {
  // torch's legacy_load unpickles the members 'storages' (a count, then per
  // storage a pickle and raw data), 'tensors' and 'pickle'; their first
  // pickles are scanned, and any other member that starts like one.
  uint64_t pos = 0, size = where.src.size();
  int members = 0;
  while (pos + 512 <= size && members < 100000) {
    std::string h = where.src.read_string(pos, 512, "tar header");
    if (h[0] == '\0') break;  // end of archive
    std::string name(h.data(), strnlen(h.data(), 100));
    uint64_t length = 0;
    for (size_t i = 124; i < 136 && h[i] >= '0' && h[i] <= '7'; ++i) length = length * 8 + static_cast<uint64_t>(h[i] - '0');
    uint64_t data = pos + 512;
    if (length > size - data) {
      f.note(Severity::Warning, "tar-truncated", name, where.at(pos), "the member runs past the end of the file");
      break;
    }
    if (length >= 2) {
      std::string head = where.src.read_string(data, 2, "tar member");
      bool read = name == "storages" || name == "tensors" || name == "pickle" || name == "sys_info";
      if (read || (static_cast<uint8_t>(head[0]) == 0x80 && static_cast<uint8_t>(head[1]) <= 5)) {
        SliceSource member(where.src, data, length);
        Place inner{member, where.base + data, where.in_file, where.record, where.depth};
        PickleScan ps = f.pickle(inner, 0, length, "tar member " + name,
                                 read ? "torch.load (pre-0.4 tar format)" : "nothing");
        if (!ps.complete && !ps.ran_anything) f.drop_last_pickle();
        if (read && (name == "storages" || name == "tensors") && ps.complete && ps.end < length)
          f.note(Severity::NeedsCode, "not-scanned", "tar member " + name, where.at(data + ps.end),
                 "the member's further pickles, between raw storage data, are not scanned: "
                 "ptscope cannot vouch for them");
      }
    }
    pos = data + (length + 511) / 512 * 512;
    ++members;
  }
  return "tar archive (torch.save before 0.4)";
}

std::string scan_torch_load(FileScan& f, const Place& where) {
  if (where.src.size() >= 4 && where.src.read_u32(0, "zip signature") == 0x04034b50)
    return scan_zip(f, where, true);
  if (looks_like_tar(where.src)) return scan_tar(f, where);
  return scan_pickle_stream(f, where);
}

}  // namespace ptscope
