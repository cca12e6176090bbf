// One pickle, interpreted exactly as Python's Unpickler would run it, with
// every name and call it would import or make reported as a Finding, and
// every step torch's weights_only unpickler would refuse. What ran before a
// malformed byte is reported too: Python has run it by the time it fails.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "byte_source.h"
#include "pickle.h"
#include "ptscope/scan.h"

namespace ptscope {

// The scanner reports through a delegate, as it finds things; the caller
// decides what they add up to.
class FindingSink {
 public:
  virtual ~FindingSink() = default;
  virtual void add(Finding f) = 0;
};

struct PickleSite {
  std::string record;     // names the pickle in findings: "data.pkl"
  uint64_t base = 0;      // file offset of the source's byte 0
  bool in_file = true;    // false: the source is an inflated record, offsets are the record's
  int depth = 0;          // nesting: a pickle found inside a pickle's bytes argument
  // Bytes that a call would load as another pickle (pickle.loads) or as a
  // torch.save file (torch.storage._load_from_bytes): the caller scans them.
  std::function<void(const std::string& bytes, const std::string& record, int depth,
                     bool torch_file)>
      nested;
};

struct PickleScan {
  bool complete = false;  // reached STOP
  uint64_t end = 0;       // just past STOP, in the source
  int protocol = 0;
  std::string error;      // why it stopped short, with `error_at`
  uint64_t error_at = 0;  // in the source
  bool ran_anything = false;  // a name or call was seen before the end
  std::string root_int;       // the value when the pickle is one integer (legacy magic)
  std::vector<std::string> storage_keys;  // ('storage', type, KEY, ...) persistent ids
};

// A reader's hooks run beside the scan's (pickle_tap.h). The scanner sees
// what the scan's own hooks would have made: a value a reader's hook made
// carries the call that made it, and its arguments where the scan keeps
// them. The pass is shared only when it reaches STOP, asks for no nested
// scan, and neither side stops it; otherwise the findings it made are
// dropped and the pickle is scanned again alone.
struct ReadAlong {
  PickleHooks* hooks = nullptr;
  std::unique_ptr<Pickle> pickle;  // the shared pass, when it completed
};

PickleScan scan_pickle(const ByteSource& src, uint64_t begin, uint64_t end,
                       const PickleSite& site, FindingSink& sink, ReadAlong* along = nullptr);

// "REDUCE", "STACK_GLOBAL", ... for an opcode byte; "0x.." when unknown.
std::string opcode_name(uint8_t op);

}  // namespace ptscope
