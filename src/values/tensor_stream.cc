#include "tensor_stream.h"

#include <algorithm>
#include <vector>

#include "ptscope/error.h"
#include "tensor_layout.h"
#include "zip.h"

namespace ptscope {

TensorFile::TensorFile(const Checkpoint& c, size_t window_bytes)
    : c_(c), src_(open_file(c.path)), window_bytes_(window_bytes) {
  auto bo = c.metadata.find("byteorder");
  big_endian_ = bo != c.metadata.end() && bo->second == "big";
  // Torch stores records uncompressed; another writer may deflate them.
  if ((c.format == Format::TorchZip || c.format == Format::TorchScript) && looks_like_zip(*src_)) {
    for (const ZipEntry& e : read_zip(*src_).entries)
      if (e.method != 0) deflated_offsets_.push_back(e.data_offset);
    std::sort(deflated_offsets_.begin(), deflated_offsets_.end());
  }
}

std::string TensorFile::unreadable(const Tensor& t) const {
  if (t.layout != Layout::Strided) return std::string("a ") + layout_name(t.layout) + " tensor";
  // DCP's tensors are chunks in .distcp files that the model does not point to.
  if (c_.format == Format::DistributedCheckpoint) return "a DCP tensor (its chunks are not streamed yet)";
  if (t.storage < 0 || static_cast<size_t>(t.storage) >= c_.storages.size()) return "no data in the file";
  const Storage& s = c_.storages[static_cast<size_t>(t.storage)];
  if (!s.file_offset) return "no data in the file";
  if (big_endian_ && dtype_size(t.dtype) > 1) return "big-endian data";
  if (std::binary_search(deflated_offsets_.begin(), deflated_offsets_.end(), *s.file_offset))
    return "a deflated zip record";
  uint64_t esize = dtype_size(t.dtype);
  // numel may exceed the storage (an expanded view strides 0); the extent may not.
  TensorLayout l = tensor_layout(t.shape, t.stride, (uint64_t{1} << 62) / std::max<uint64_t>(esize, 1));
  if (l.problem != TensorLayout::Problem::None || t.stride.size() != t.shape.size())
    return "a view its strides do not describe";
  if (l.numel && (t.storage_offset + l.extent) * esize > s.nbytes) return "a view past the end of its storage";
  return "";
}

void TensorFile::stream(const Tensor& t, const Chunk& chunk, size_t max_chunk_bytes) const {
  const size_t esize = dtype_size(t.dtype);
  std::vector<uint8_t> buf(std::max<size_t>(1, max_chunk_bytes / esize) * esize);
  TensorCursor cursor(*this, t);
  while (size_t n = cursor.next(buf.data(), buf.size() / esize)) chunk(buf.data(), n);
}

TensorCursor::TensorCursor(const TensorFile& f, const Tensor& t)
    : f_(f), t_(t), esize_(dtype_size(t.dtype)), index_(t.shape.size(), 0) {
  const Storage& s = f.c_.storages[static_cast<size_t>(t.storage)];
  base_ = *s.file_offset + t.storage_offset * esize_;
  avail_ = s.nbytes - t.storage_offset * esize_;
  contiguous_ = t.stride == contiguous_strides(t.shape);
  if (contiguous_) return;
  uint64_t extent = tensor_layout(t.shape, t.stride, (uint64_t{1} << 62) / esize_).extent * esize_;
  if (extent <= f.window_bytes_) {
    window_bytes_ = std::max<uint64_t>(extent, 1);
    return;
  }
  window_bytes_ = std::min<uint64_t>(TensorFile::kChunkBytes, f.window_bytes_);
  for (size_t d = t.shape.size(); d-- > 0;)
    if (t.stride[d] == 1 && t.shape[d] > 1) {
      unit_dim_ = static_cast<int>(d);
      break;
    }
  if (unit_dim_ < 0) return;
  uint64_t after = 1;  // elements per index of the unit dimension within a slab
  for (size_t d = static_cast<size_t>(unit_dim_) + 1; d < t.shape.size(); ++d) after *= static_cast<uint64_t>(t.shape[d]);
  tile_ = std::max<uint64_t>(1, window_bytes_ / (after * esize_));
}

// The next slab: index_ holds the dimensions before unit_dim_; tile_start_
// the first index of the unit dimension.
void TensorCursor::fill_slab() {
  const size_t u = static_cast<size_t>(unit_dim_), dims = t_.shape.size();
  const uint64_t k = std::min<uint64_t>(tile_, static_cast<uint64_t>(t_.shape[u]) - tile_start_);
  uint64_t after = 1;
  for (size_t d = u + 1; d < dims; ++d) after *= static_cast<uint64_t>(t_.shape[d]);
  int64_t origin = static_cast<int64_t>(tile_start_);
  for (size_t d = 0; d < u; ++d) origin += index_[d] * t_.stride[d];
  slab_.resize(k * after * esize_);
  run_.resize(k * esize_);
  std::vector<int64_t> rest(dims - u - 1, 0);  // odometer over the dimensions after u
  for (uint64_t f = 0; f < after; ++f) {
    int64_t off = origin;
    for (size_t i = 0; i < rest.size(); ++i) off += rest[i] * t_.stride[u + 1 + i];
    f_.src_->read(base_ + static_cast<uint64_t>(off) * esize_, run_.data(), run_.size(), "tensor data");
    for (uint64_t j = 0; j < k; ++j)  // element j of the run is row j of the slab
      std::copy_n(run_.data() + j * esize_, esize_, slab_.data() + (j * after + f) * esize_);
    for (size_t i = rest.size(); i-- > 0;) {
      if (++rest[i] < t_.shape[u + 1 + i]) break;
      rest[i] = 0;
    }
  }
  slab_used_ = 0;
  tile_start_ += k;
  if (tile_start_ == static_cast<uint64_t>(t_.shape[u])) {
    tile_start_ = 0;
    for (size_t d = u; d-- > 0;) {
      if (++index_[d] < t_.shape[d]) break;
      index_[d] = 0;
    }
  }
}

void TensorCursor::read(uint64_t at, uint8_t* out, uint64_t n) {
  if (n > window_bytes_) {
    f_.src_->read(base_ + at, out, n, "tensor data");
    return;
  }
  if (window_.empty() || at < window_start_ || at + n > window_start_ + window_.size()) {
    window_start_ = at;
    window_.resize(static_cast<size_t>(std::min<uint64_t>(window_bytes_, avail_ - at)));
    f_.src_->read(base_ + at, window_.data(), window_.size(), "tensor data");
  }
  std::copy_n(window_.data() + (at - window_start_), n, out);
}

size_t TensorCursor::next(uint8_t* out, size_t max) {
  const uint64_t numel = t_.numel;
  if (done_ >= numel || max == 0) return 0;
  if (contiguous_) {  // one run: read straight into `out`
    size_t n = static_cast<size_t>(std::min<uint64_t>(max, numel - done_));
    f_.src_->read(base_ + done_ * esize_, out, n * esize_, "tensor data");
    done_ += n;
    return n;
  }
  if (unit_dim_ >= 0) {
    size_t n = 0;
    while (n < max && done_ < numel) {
      if (slab_used_ == slab_.size()) fill_slab();
      size_t take = static_cast<size_t>(std::min<uint64_t>(max - n, (slab_.size() - slab_used_) / esize_));
      std::copy_n(slab_.data() + slab_used_, take * esize_, out + n * esize_);
      slab_used_ += take * esize_;
      n += take;
      done_ += take;
    }
    return n;
  }
  // The odometer: index_ is the next element's index; the last dimension
  // moves fastest. Elements are read one at a time through the window.
  size_t n = 0;
  const size_t dims = index_.size();
  while (n < max && done_ < numel) {
    int64_t offset = 0;
    for (size_t d = 0; d < dims; ++d) offset += index_[d] * t_.stride[d];
    read(static_cast<uint64_t>(offset) * esize_, out + n * esize_, esize_);
    ++n;
    ++done_;
    for (size_t d = dims; d-- > 0;) {
      if (++index_[d] < t_.shape[d]) break;
      index_[d] = 0;
    }
  }
  return n;
}

}  // namespace ptscope
