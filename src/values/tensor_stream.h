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
  // `window_bytes`: the most of a strided view's storage read at once
  // (TensorCursor); tests make it small to take the slab path.
  explicit TensorFile(const Checkpoint& c, size_t window_bytes = kWindowBytes);
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
  static constexpr size_t kWindowBytes = 64 << 20;

 private:
  friend class TensorCursor;
  const Checkpoint& c_;
  std::unique_ptr<ByteSource> src_;
  std::vector<uint64_t> deflated_offsets_;  // sorted data offsets of deflated storage records
  bool big_endian_ = false;
  size_t window_bytes_;
};

// Pull-style reading of one tensor's elements, for walking two tensors side
// by side: next() fills `out` with up to `max` elements in logical order.
// A strided view whose extent fits the file's window (64 MiB) is read in one
// go and walked like an odometer. A larger one with a unit-stride dimension
// d (a transposed weight: stride (1, rows)) is read in slabs: the dimensions
// before d fixed, a tile of d's indices, every dimension after it; each
// slab is whole rows of the logical order, gathered by one read per
// combination of the later indices, about kChunkBytes in all. Any other
// view is walked through kChunkBytes windows of its storage (bounded
// memory; slow only for views nobody saves).
class TensorCursor {
 public:
  TensorCursor(const TensorFile& f, const Tensor& t);  // `t` must be readable
  size_t next(uint8_t* out, size_t max);               // 0 at the end

 private:
  void read(uint64_t at, uint8_t* out, uint64_t n);    // bytes from the view's base
  void fill_slab();
  const TensorFile& f_;
  const Tensor& t_;
  uint64_t esize_, base_, avail_, done_ = 0;
  bool contiguous_;
  std::vector<int64_t> index_;
  std::vector<uint8_t> window_;
  uint64_t window_start_ = 0;
  uint64_t window_bytes_ = TensorFile::kChunkBytes;
  // The slab path: unit-stride dimension, tile length, the slab and how
  // much of it was handed out, the next slab's tile start.
  int unit_dim_ = -1;
  uint64_t tile_ = 0, tile_start_ = 0, slab_used_ = 0;
  std::vector<uint8_t> slab_, run_;
};

}  // namespace ptscope
