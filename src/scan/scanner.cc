// scan_file picks the format by content, in the order torch.load decides
// (zip local header, else tar, else a pickle at byte 0), with the formats
// torch.load does not read (safetensors, NumPy) recognised first by their
// magic. The verdict is the worst finding; container findings never move it.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include "file_scan.h"
#include "ptscope/error.h"
#include "scan_source.h"

namespace ptscope {

namespace fs = std::filesystem;

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::Safe: return "safe";
    case Verdict::NeedsCode: return "needs-code";
    case Verdict::Dangerous: return "dangerous";
  }
  return "?";
}

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::Info: return "info";
    case Severity::Warning: return "warning";
    case Severity::NeedsCode: return "needs-code";
    case Severity::Dangerous: return "dangerous";
  }
  return "?";
}

void FileScan::note(Severity s, const std::string& kind, const std::string& record,
                    std::optional<uint64_t> offset, const std::string& detail) {
  // A hostile container can repeat one problem a million times: past 50 of
  // a kind, the last one counts the rest.
  if (++per_kind_[kind] > 50) {
    for (auto it = result_.findings.rbegin(); it != result_.findings.rend(); ++it)
      if (it->kind == kind) {
        ++it->count;
        return;
      }
  }
  Finding f;
  f.severity = s;
  f.kind = kind;
  f.record = record;
  f.offset = offset;
  f.detail = detail;
  add(std::move(f));
}

PickleScan FileScan::pickle(const Place& where, uint64_t begin, uint64_t end, const std::string& record,
                            const std::string& reader, ReadAlong* along) {
  PickleSite site;
  site.record = where.name(record);
  site.base = where.base;
  site.in_file = where.in_file;
  site.depth = where.depth;
  site.nested = [this](const std::string& bytes, const std::string& rec, int depth, bool torch_file) {
    if (depth > kMaxNestingDepth) {
      note(Severity::Dangerous, "nesting", rec, std::nullopt,
           "pickles nested more than 4 deep inside pickles: only an attack needs this");
      return;
    }
    // One bytes object loaded a million times from the memo must not be
    // scanned a million times: a budget over the whole file.
    if (++nested_scans_ > kMaxNestedScans || bytes.size() > kMaxNestedBytes - nested_bytes_) {
      note(Severity::Dangerous, "nesting", rec, std::nullopt,
           "more nested pickles than ptscope scans in one file (" + std::to_string(kMaxNestedScans) +
               ", or " + std::to_string(kMaxNestedBytes >> 20) + " MiB): only an attack needs this many");
      return;
    }
    nested_bytes_ += bytes.size();
    MemorySource inner(bytes);
    Place p{inner, 0, false, rec, depth};
    if (torch_file) scan_torch_load(*this, p);
    else this->pickle(p, 0, inner.size(), "nested pickle", "the call that holds it");
  };
  last_mark_ = {result_.pickles.size(), result_.findings.size()};
  result_.pickles.push_back(site.record + " at byte " +
                            (where.in_file ? std::to_string(where.base + begin)
                                           : std::to_string(begin) + " of the record") +
                            " (read by " + reader + ")");
  return scan_pickle(where.src, begin, end, site, *this, along);
}

void FileScan::drop_last_pickle() {
  result_.pickles.resize(last_mark_.first);
  result_.findings.resize(last_mark_.second);
}

namespace {

std::string extension(const std::string& path) {
  std::string e = fs::path(path).extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e;
}

// Extensions that promise a format; a file whose content is another is
// reported, since tools choose their reader by the name.
void check_extension(FileScan& f, const std::string& path, const std::string& format) {
  std::string ext = extension(path);
  auto is = [&](const char* prefix) { return format.compare(0, std::strlen(prefix), prefix) == 0; };
  bool torch = is("torch.save") || is("legacy torch.save") || is("TorchScript") || is("pickle") || is("tar");
  std::string promise;
  if (ext == ".safetensors" && !is("safetensors")) promise = "safetensors";
  else if ((ext == ".npy") && !is("NumPy .npy")) promise = "a NumPy array";
  else if (ext == ".npz" && !is("NumPy .npz")) promise = "a NumPy .npz archive";
  else if ((ext == ".pt" || ext == ".pth" || ext == ".ckpt") && !torch && !is("zip")) promise = "a torch checkpoint";
  else if ((ext == ".txt" || ext == ".json" || ext == ".md" || ext == ".yaml" || ext == ".yml" ||
            ext == ".csv") && !is("not a checkpoint") && !is("empty"))
    promise = "text";
  if (promise.empty()) return;
  f.note(Severity::Warning, "format-extension", "", 0,
         "the name promises " + promise + ", the content is " + format +
             ": tools that choose their reader by the name are misled");
}

bool looks_like_pickle(const ByteSource& src) {
  return src.read_string(0, 1, "first byte") == "\x80";
}

Verdict verdict_of(const std::vector<Finding>& findings) {
  Verdict v = Verdict::Safe;
  for (const Finding& f : findings) {
    if (f.severity == Severity::Dangerous) return Verdict::Dangerous;
    if (f.severity == Severity::NeedsCode) v = Verdict::NeedsCode;
  }
  return v;
}

}  // namespace

namespace {

ScanResult failed_scan(const std::string& path, const Error& e) {
  ScanResult failed;
  failed.path = path;
  failed.error = e.in_file(path).describe();
  return failed;
}

}  // namespace

ScanResult scan_source(const ByteSource& src, const std::string& path, const ScanOptions& options,
                       PickleTap* tap) {
  ScanResult r;
  r.path = path;
  try {
    FileScan f(path, r, options, tap);
    Place file{src, 0, true, "", 0};
    if (looks_like_safetensors(src)) {
      r.format = scan_safetensors(f, file);
    } else if (looks_like_npy(src)) {
      r.format = scan_npy(f, file);
    } else if (fs::path(path).filename() == ".metadata" && src.size() && looks_like_pickle(src)) {
      // torch.distributed.checkpoint's FileSystemReader: pickle.load(f).
      f.pickle(file, 0, src.size(), ".metadata", "pickle.load in torch.distributed.checkpoint");
      r.format = "torch.distributed.checkpoint .metadata (a pickle)";
    } else {
      r.format = scan_torch_load(f, file);
    }
    check_extension(f, path, r.format);
  } catch (const Error& e) {
    return failed_scan(path, e);
  } catch (const std::exception& e) {  // a library below us; still one line, still named
    return failed_scan(path, Error(std::string("unexpected failure: ") + e.what()));
  }
  std::stable_sort(r.findings.begin(), r.findings.end(), [](const Finding& a, const Finding& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    if (a.offset != b.offset) return a.offset.value_or(UINT64_MAX) < b.offset.value_or(UINT64_MAX);
    return a.record_offset.value_or(UINT64_MAX) < b.record_offset.value_or(UINT64_MAX);
  });
  r.verdict = verdict_of(r.findings);
  return r;
}

ScanResult scan_file(const std::string& path, const ScanOptions& options) {
  std::unique_ptr<ByteSource> src;
  try {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
      throw Error(fs::exists(path, ec) ? "not a regular file" : "no such file");
    src = open_file(path);
  } catch (const Error& e) {
    return failed_scan(path, e);
  }
  return scan_source(*src, path, options, nullptr);
}

std::vector<ScanResult> scan_paths(const std::vector<std::string>& paths, const ScanOptions& options) {
  std::vector<std::string> files;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
      files.push_back(p);
      continue;
    }
    std::vector<std::string> inside;
    for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->is_regular_file(ec) && !it->is_symlink(ec)) inside.push_back(it->path().string());
    std::sort(inside.begin(), inside.end());
    files.insert(files.end(), inside.begin(), inside.end());
  }
  std::vector<ScanResult> out(files.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next++) < files.size();) out[i] = scan_file(files[i], options);
  };
  size_t n = std::min<size_t>(files.size(), std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  for (size_t t = 1; t < n; ++t) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  return out;
}

}  // namespace ptscope
