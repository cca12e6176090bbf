// A tensor's elements read from its file in logical (row-major) order, a
// chunk at a time, without LibTorch: the view's shape, strides and storage
// offset walked over the storage's bytes at Storage::file_offset. Memory is
// bounded by the chunk size whatever the tensor's size.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "byte_source.h"
#include "ptscope/checkpoint.h"

namespace ptscope {

// One checkpoint file opened for reading tensor data.
class TensorFile {
 public:
  // `c` must outlive this. Opens c.path and, for zip archives, notes which
  // storages are deflated records (their offsets hold compressed bytes).
  explicit TensorFile(const Checkpoint& c);
  const Checkpoint& checkpoint() const { return c_; }

  // Why `t`'s elements cannot be streamed from this file, or "" when they
  // can: a sparse or quantized tensor, no data in the file, a deflated
  // record, big-endian data, a view past its storage.
  std::string unreadable(const Tensor& t) const;

  // Calls `chunk(bytes, elements)` with consecutive runs of `t`'s elements
  // in logical order, dtype_size(t.dtype) bytes each, at most
  // `max_chunk_bytes` (rounded up to one element) at a time. `t` must be
  // readable. Throws Error on a failed read.
  using Chunk = std::function<void(const uint8_t*, size_t)>;
  void stream(const Tensor& t, const Chunk& chunk, size_t max_chunk_bytes = kChunkBytes) const;
  static constexpr size_t kChunkBytes = 1 << 20;

 private:
  friend class TensorCursor;
  const Checkpoint& c_;
  std::unique_ptr<ByteSource> src_;
  std::vector<uint64_t> deflated_offsets_;  // sorted data offsets of deflated storage records
  bool big_endian_ = false;
};

// Pull-style reading of one tensor's elements, for walking two tensors side
// by side: next() fills `out` with up to `max` elements in logical order.
// A strided view is walked like an odometer through a window of its storage
// (kChunkBytes), so memory stays one window whatever the view.
class TensorCursor {
 public:
  TensorCursor(const TensorFile& f, const Tensor& t);  // `t` must be readable
  size_t next(uint8_t* out, size_t max);               // 0 at the end

 private:
  void read(uint64_t at, uint8_t* out, uint64_t n);    // bytes from the view's base
  const TensorFile& f_;
  const Tensor& t_;
  uint64_t esize_, base_, avail_, done_ = 0;
  bool contiguous_;
  std::vector<int64_t> index_;
  std::vector<uint8_t> window_;
  uint64_t window_start_ = 0;
};

}  // namespace ptscope
