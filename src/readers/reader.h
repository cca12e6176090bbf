// One reader per on-disk format behind one small interface. The loader asks
// each in turn whether the first bytes are its magic; the legacy reader comes
// last and takes anything, as torch.load does.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "byte_source.h"
#include "ptscope/checkpoint.h"
#include "ptscope/load.h"

namespace ptscope {

struct Value;
class ZipShare;

// Sees the root of a torch file's object pickle (data.pkl, or the legacy
// format's object pickle) while it is alive, for folder readers that need
// values beside the tensors (a DeepSpeed folder's dp_world_size and
// param_shapes). Runs inside the reader: an Error it throws is the file's.
using RootVisitor = std::function<void(const Value& root)>;

class Reader {
 public:
  virtual ~Reader() = default;
  virtual bool accepts(const ByteSource& src) const = 0;
  // Fills storages, tensors, regions, groups and globals; throws Error.
  // `visit`, when set, is shown the object pickle's root (torch files only).
  // `share`, when set, holds what a scan of these bytes already read
  // (zip_share.h; torch zip files only).
  virtual Checkpoint read(const ByteSource& src, const RootVisitor& visit, ZipShare* share) const = 0;
  Checkpoint read(const ByteSource& src) const { return read(src, RootVisitor{}, nullptr); }
};

std::unique_ptr<Reader> make_zip_reader();          // torch.save zip and TorchScript
std::unique_ptr<Reader> make_safetensors_reader();
std::unique_ptr<Reader> make_legacy_reader();

// Picks the reader, reads, and classifies roles. Errors name `path`.
Checkpoint read_checkpoint(const ByteSource& src, const std::string& path,
                           const RootVisitor& visit = {}, ZipShare* share = nullptr);
// load_checkpoint (ptscope/load.h), showing `visit` the object pickle's root.
Checkpoint load_checkpoint(const std::string& path, const RootVisitor& visit);

}  // namespace ptscope
