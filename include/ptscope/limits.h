// Every bound ptscope puts on what a file may ask of it, in one place (the
// README's "Limits" table lists them). A file comes from a stranger: its
// lengths, counts and sharing decide how much work and memory a reader
// does, so each kind of work is charged to a budget, and a file over one
// gets a one-line error, never a hang or an allocation it has not earned.
//
// Budgets that grow with the file are a floor plus so much per byte: a
// small file cannot ask for much, and a large real checkpoint is never
// refused for being large.
#pragma once

#include <cstdint>

namespace ptscope::limits {

// --- zip ---------------------------------------------------------------------
// Deflated bytes inflated in all, per file: this floor plus this many per
// byte of the file. torch.save stores records uncompressed; TorchScript
// deflates code/ text about 5 to 10 times. A deflate bomb reaches ~1000.
constexpr uint64_t kInflateFloor = uint64_t{8} << 20;
constexpr uint64_t kInflatePerFileByte = 16;
// Records held in memory whole, whatever the budget says.
constexpr uint64_t kMaxPickleRecord = uint64_t{1} << 30;
constexpr uint64_t kMaxCodeRecord = uint64_t{64} << 20;

// --- pickle ------------------------------------------------------------------
constexpr uint64_t kMaxPickleStack = uint64_t{1} << 20;  // values on the stack at once
constexpr uint64_t kMaxPickleMemo = uint64_t{1} << 22;   // distinct memo slots
// Memory of the value graph: every value made and every reference a
// container holds, charged at its size in bytes. A real torch pickle
// needs about 8 bytes of graph per byte of pickle.
constexpr uint64_t kPickleGraphFloor = uint64_t{32} << 20;
constexpr uint64_t kPickleGraphPerByte = 16;

// --- torch conventions ---------------------------------------------------------
// Dimensions of one tensor. torch has no hard limit, but no real tensor
// has more than a dozen, and 64 keeps every per-dimension loop short.
constexpr uint64_t kMaxTensorDims = 64;
// Nested _rebuild_from_type_v2 calls (a subclass of a subclass ...).
constexpr int kMaxRebuildNesting = 16;

// --- the state walk (names from the object graph) ------------------------------
constexpr int kMaxWalkDepth = 200;
// Steps of the walk: every container item, module member and attribute
// looked at, however often shared containers bring it back.
constexpr uint64_t kMaxWalkVisits = 20'000'000;
// Tensor entries named: at most one per byte of pickle (a shared container
// names its tensors once per path, but exponentially many paths need far
// fewer bytes), and never more than the cap.
constexpr uint64_t kMaxEntries = uint64_t{1} << 20;
constexpr uint64_t kEntriesPerPickleByte = 1;
// Bytes of the entries' names, which are kept, and of every path built on
// the way (a path per visit, dropped after), which costs time.
constexpr uint64_t kMaxNameBytes = uint64_t{64} << 20;
constexpr uint64_t kMaxPathBytes = uint64_t{1} << 30;

// --- estimate --------------------------------------------------------------------
// No figure wraps: the model state (16 bytes per parameter plus buffers),
// one bound over the activation terms and the FLOPs are checked in 64 bits
// (analysis/sizes.h, checked_product), an overflow is an error.

// --- safetensors -----------------------------------------------------------------
// The safetensors library's MAX_HEADER_SIZE.
constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;
constexpr int kMaxSafetensorsDepth = 16;  // JSON nesting of the header

}  // namespace ptscope::limits
