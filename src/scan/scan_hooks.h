// The hooks a scan interprets a pickle with. ScanHooks keeps storages and
// allowlisted tensor rebuilds opaque; TeeHooks runs a reader's hooks beside
// them for inspect's shared pass (pickle_scan.h, ReadAlong).
#pragma once

#include <string>
#include <vector>

#include "pickle.h"

namespace ptscope {

// An allowlisted tensor rebuild: the scan keeps the call without its
// arguments (ScanHooks::call).
bool drops_args(const Value* callable);

// A value a call made, as the scan's own hooks make it: an opaque Object,
// or a reader's typed value (ReadAlong) that carries the call that made it.
bool made_by_call(const Value* v);

// Storages are opaque here: a placeholder keeps the interpreter going.
class ScanHooks : public PickleHooks {
 public:
  std::vector<std::string> keys;  // the storage keys persistent ids name
  Value* persistent_load(Pickle& p, Value* pid) override;
  // torch.save: ('storage', storage_type, key, location, numel)
  void note_key(const Value* pid);
  // An allowlisted tensor rebuild is seen by the scanner as it is called;
  // its arguments (storage, shape, stride, hooks) say nothing a later
  // finding needs, so the call is kept without them and they go, as the
  // reader keeps a tensor: otherwise every tensor's arguments are alive at
  // the end of a state_dict (~7 MB of 21k tensors). Findings render it as
  // "torch._utils._rebuild_tensor_v2(...)".
  Value* call(Pickle& p, Value* callable, Value* args) override;
};

// The scan's hooks with a reader's beside them (ReadAlong): the graph is
// the reader's, as its own parse would build it. What the reader's hooks
// make in place of an opaque object remembers the call, and its arguments
// unless the scan's hooks would drop them; where they make nothing, the
// opaque object keeps its arguments, and the renderer leaves out those the
// scan's hooks would have dropped. The scanner sees and renders the same
// calls either way.
class TeeHooks : public PickleHooks {
 public:
  TeeHooks(ScanHooks& scan, PickleHooks& reader) : scan_(scan), reader_(reader) {}
  Value* persistent_load(Pickle& p, Value* pid) override;
  Value* call(Pickle& p, Value* callable, Value* args) override;

 private:
  ScanHooks& scan_;
  PickleHooks& reader_;
};

}  // namespace ptscope
