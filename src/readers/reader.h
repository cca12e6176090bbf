// One reader per on-disk format behind one small interface. The loader asks
// each in turn whether the first bytes are its magic; the legacy reader comes
// last and takes anything, as torch.load does.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "byte_source.h"
#include "ptscope/checkpoint.h"
#include "ptscope/load.h"

namespace ptscope {

class Reader {
 public:
  virtual ~Reader() = default;
  virtual bool accepts(const ByteSource& src) const = 0;
  // Fills storages, tensors, regions, groups and globals; throws Error.
  virtual Checkpoint read(const ByteSource& src) const = 0;
};

std::unique_ptr<Reader> make_zip_reader();          // torch.save zip and TorchScript
std::unique_ptr<Reader> make_safetensors_reader();
std::unique_ptr<Reader> make_legacy_reader();

// Picks the reader, reads, and classifies roles. Errors name `path`.
Checkpoint read_checkpoint(const ByteSource& src, const std::string& path);

}  // namespace ptscope
