// One pass over a torch file's object pickle for two readers. `inspect`
// scans a file and then reads it: both interpret the zip archive's data.pkl,
// the scan with hooks that keep storages opaque, the reader with hooks that
// record tensors. A tap lets the scan run the reader's hooks beside its own
// and hand over the parsed pickle, so the pickle is interpreted once.
//
// The scan gives the tap a pass only when it completed without an error
// from either side; otherwise it says so and scans the pickle again alone,
// and the reader parses on its own. Verdicts never depend on the tap.
#pragma once

#include <memory>

#include "pickle.h"
#include "zip.h"

namespace ptscope {

class PickleTap {
 public:
  virtual ~PickleTap() = default;
  // The hooks to run beside the scan's over `entry` of `zip`, the archive
  // the whole file is (the record torch.load unpickles), or nullptr.
  virtual PickleHooks* hooks_for(const ZipArchive& zip, const ZipEntry& entry) = 0;
  // The pass over that entry reached STOP: the pickle is the tap's.
  virtual void completed(std::unique_ptr<Pickle> pickle) = 0;
  // It did not: whatever the hooks recorded is to be dropped.
  virtual void failed() = 0;
  // The scan is done with the archive's directory.
  virtual void archive(ZipArchive zip) = 0;
};

}  // namespace ptscope
