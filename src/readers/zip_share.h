// What the scan of a torch zip file hands the read of the same open file
// (pickle_tap.h): the archive's directory, and data.pkl interpreted once
// with the torch hooks beside the scan's. `inspect` scans, then reads.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>

#include "pickle_tap.h"
#include "torch_pickle.h"
#include "zip.h"

namespace ptscope {

// Room for this many tensors in the hooks' tables: about one per data/
// record, never more than data.pkl's bytes could describe.
size_t expected_tensors(const ZipArchive& zip, const ZipEntry& pkl);

// Where a record's pickle starts in the bytes it is parsed from: the file
// for a stored record, the inflated bytes for a deflated one.
uint64_t pickle_begin(const ZipEntry& e);

class ZipShare : public PickleTap {
 public:
  // The scan's side.
  PickleHooks* hooks_for(const ZipArchive& zip, const ZipEntry& entry) override;
  void completed(std::unique_ptr<Pickle> pickle) override;
  void failed() override;
  void archive(ZipArchive zip) override;

  // The reader's side, each taken once. The archive, when the scan read it.
  std::optional<ZipArchive> take_archive();
  // `entry` of `zip` parsed with the torch hooks and not yet walked, when it
  // is the record whose pass the scan shared; else nullptr.
  std::unique_ptr<TorchPickle> take_pickle(const ZipArchive& zip, const ZipEntry& entry);

 private:
  std::unique_ptr<TorchPickle> shared_;  // its pickle set once the pass completed
  size_t entry_ = 0;  // its index in the archive's entries
  std::optional<ZipArchive> zip_;
};

}  // namespace ptscope
