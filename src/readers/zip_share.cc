#include "zip_share.h"

#include <algorithm>
#include <string_view>

#include "affixes.h"

namespace ptscope {

// A state_dict has about one tensor per data/ record. Never more than the
// pickle's bytes in the file could describe (torch's pickler spends over 64
// on each tensor), so neither many empty records nor a deflated record's
// declared size makes us reserve what the file does not hold.
size_t expected_tensors(const ZipArchive& zip, const ZipEntry& pkl) {
  size_t records = 0;
  for (const ZipEntry& e : zip.entries)
    if (starts_with(zip.rel(e), "data/")) ++records;
  return static_cast<size_t>(std::min<uint64_t>(records, std::min(pkl.size, pkl.compressed_size) / 64));
}

uint64_t pickle_begin(const ZipEntry& e) { return e.method == 0 ? e.data_offset : 0; }

PickleHooks* ZipShare::hooks_for(const ZipArchive& zip, const ZipEntry& entry) {
  // The scan parses a stored record where it lies and inflates a deflated
  // one, as the reader does; a record stored with two sizes it reads
  // otherwise, and is left to each.
  bool stored = entry.method == 0 && entry.compressed_size == entry.size;
  if (shared_ || (!stored && entry.method != 8)) return nullptr;
  shared_ = std::make_unique<TorchPickle>(TorchHooks::Flavor::Zip);
  shared_->hooks.expect(expected_tensors(zip, entry));
  entry_ = static_cast<size_t>(&entry - zip.entries.data());
  return &shared_->hooks;
}

void ZipShare::completed(std::unique_ptr<Pickle> pickle) { shared_->pickle = std::move(pickle); }

void ZipShare::failed() { shared_.reset(); }

void ZipShare::archive(ZipArchive zip) { zip_ = std::move(zip); }

std::optional<ZipArchive> ZipShare::take_archive() {
  std::optional<ZipArchive> out = std::move(zip_);
  zip_.reset();
  return out;
}

std::unique_ptr<TorchPickle> ZipShare::take_pickle(const ZipArchive& zip, const ZipEntry& entry) {
  if (!shared_ || !shared_->pickle || static_cast<size_t>(&entry - zip.entries.data()) != entry_)
    return nullptr;
  return std::move(shared_);
}

}  // namespace ptscope
