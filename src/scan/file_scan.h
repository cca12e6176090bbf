// What the format scanners share: the file, the findings, and one way to
// scan a pickle inside it. Each format has its own scanner, tried by content
// in the order torch.load itself decides (scanner.cc).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "byte_source.h"
#include "pickle_scan.h"
#include "pickle_tap.h"
#include "ptscope/scan.h"

namespace ptscope {

// Where some bytes lie: a window of the file (offsets add `base`), or bytes
// that had to be inflated or were a pickle's argument (offsets are their own).
struct Place {
  const ByteSource& src;
  uint64_t base = 0;
  bool in_file = true;
  std::string record;  // "" for the file itself; else what holds these bytes
  int depth = 0;       // nesting of pickles inside pickles

  std::optional<uint64_t> at(uint64_t offset) const {
    return in_file ? std::optional<uint64_t>(base + offset) : std::nullopt;
  }
  std::string name(const std::string& inner) const { return record.empty() ? inner : record + " > " + inner; }
  // The file itself, not a part of it or bytes found inside it.
  bool whole_file() const { return in_file && base == 0 && depth == 0 && record.empty(); }
};

class FileScan : public FindingSink {
 public:
  FileScan(const std::string& path, ScanResult& result, const ScanOptions& options,
           PickleTap* tap = nullptr)
      : path_(path), result_(result), options_(options), tap_(tap) {}

  void add(Finding f) override { result_.findings.push_back(std::move(f)); }
  void note(Severity s, const std::string& kind, const std::string& record,
            std::optional<uint64_t> offset, const std::string& detail);
  const ScanOptions& options() const { return options_; }
  const std::string& path() const { return path_; }
  // A reader sharing the pass over the file's object pickle, or nullptr.
  PickleTap* tap() const { return tap_; }

  // Scans the pickle at [begin, end) of `where`; `reader` says who unpickles
  // it ("torch.load", "nothing"). Listed in the result's pickles. `along`:
  // a reader's hooks to run beside the scan's (pickle_scan.h).
  PickleScan pickle(const Place& where, uint64_t begin, uint64_t end, const std::string& record,
                    const std::string& reader, ReadAlong* along = nullptr);
  // Forgets the last pickle and its findings: bytes that turned out not to
  // be a pickle at all (torch.load fails on them before anything runs).
  void drop_last_pickle();

 private:
  std::string path_;
  ScanResult& result_;
  const ScanOptions& options_;
  PickleTap* tap_;
  std::map<std::string, size_t> per_kind_;
  std::pair<size_t, size_t> last_mark_{0, 0};  // pickles, findings before the last pickle
  static constexpr int kMaxNestingDepth = 4;
  static constexpr size_t kMaxNestedScans = 256;
  static constexpr uint64_t kMaxNestedBytes = 256ull << 20;
  size_t nested_scans_ = 0;
  uint64_t nested_bytes_ = 0;
};

// What torch.load does with these bytes: a zip archive (torch.save since
// 1.6, TorchScript) when they start with a local header, else the legacy
// path, which unpickles from byte 0 (a tar of the pre-0.4 format, or
// pickles back to back). Returns the format it found.
std::string scan_torch_load(FileScan& f, const Place& where);

// The formats, each in its own file. `torch_reads`: torch.load reads this
// archive (false for one found behind a pickle, or an .npz).
std::string scan_zip(FileScan& f, const Place& where, bool torch_reads);
std::string scan_pickle_stream(FileScan& f, const Place& where);
std::string scan_tar(FileScan& f, const Place& where);
bool looks_like_tar(const ByteSource& src);
bool looks_like_npy(const ByteSource& src);
std::string scan_npy(FileScan& f, const Place& where);
bool looks_like_safetensors(const ByteSource& src);
std::string scan_safetensors(FileScan& f, const Place& where);

}  // namespace ptscope
