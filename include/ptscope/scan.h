// Is a checkpoint safe to load? ptscope interprets every pickle that
// torch.load (or numpy.load, or pickle.load for DCP metadata) would unpickle,
// exactly as Python's Unpickler would, and runs none of it. What is plain data
// torch's weights_only unpickler accepts is "safe"; everything else is code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ptscope {

enum class Verdict {
  Safe,       // only what torch.load(weights_only=True) of torch 2.x accepts
  NeedsCode,  // loads only by trusting the file (weights_only=False, jit.load)
  Dangerous,  // a known-dangerous callable, a dotted path, an attack's structure
};

// A finding's weight: the first two leave the verdict alone.
enum class Severity { Info, Warning, NeedsCode, Dangerous };

const char* verdict_name(Verdict v);    // "safe", "needs-code", "dangerous"
const char* severity_name(Severity s);  // "info", "warning", "needs-code", "dangerous"

struct Finding {
  Severity severity = Severity::Info;
  std::string kind;    // "call", "global", "weights-only", "zip-name-mismatch", ...
  std::string global;  // "os.system" where a name is involved
  std::string record;  // "data.pkl", "pickle 1 (magic number)", "" for the file
  std::optional<uint64_t> offset;         // in the file, where the byte lies in it
  std::optional<uint64_t> record_offset;  // else within `record`: inflated, or a pickle's argument
  std::string detail;  // one line, control characters escaped
  uint64_t count = 1;  // occurrences folded into this one (first offset kept)
};

struct ScanResult {
  std::string path;
  std::string format;  // what the content is, never the extension
  Verdict verdict = Verdict::Safe;
  std::vector<std::string> pickles;  // "data.pkl at byte 64 (torch.load)", one per pickle read
  std::vector<Finding> findings;     // most severe first, then by offset
  std::string error;  // set when the file could not be read; the rest is then empty
};

struct ScanOptions {
  bool crc = false;  // check every zip record's CRC-32, not only the pickles'
};

// One file, by content. Never throws for what is in the file: a file that
// cannot be read at all comes back with `error` set.
ScanResult scan_file(const std::string& path, const ScanOptions& options = {});

// Files and folders (recursively, symbolic links not followed), each file on
// its own, on all cores; results in the order given, folders' files sorted.
std::vector<ScanResult> scan_paths(const std::vector<std::string>& paths,
                                   const ScanOptions& options = {});

}  // namespace ptscope
