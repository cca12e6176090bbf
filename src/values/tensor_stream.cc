#include "tensor_stream.h"

#include <algorithm>
#include <vector>

#include "ptscope/error.h"
#include "tensor_layout.h"
#include "zip.h"

namespace ptscope {

TensorFile::TensorFile(const Checkpoint& c) : c_(c), src_(open_file(c.path)) {
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
  if (t.storage < 0 || static_cast<size_t>(t.storage) >= c_.storages.size()) return "no data in the file";
  const Storage& s = c_.storages[static_cast<size_t>(t.storage)];
  if (!s.file_offset) return "no data in the file";
  if (big_endian_ && dtype_size(t.dtype) > 1) return "big-endian data";
  if (std::binary_search(deflated_offsets_.begin(), deflated_offsets_.end(), *s.file_offset))
    return "a deflated zip record";
  uint64_t esize = dtype_size(t.dtype);
  TensorLayout l = tensor_layout(t.shape, t.stride, s.nbytes / std::max<uint64_t>(esize, 1) + 1);
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
}

void TensorCursor::read(uint64_t at, uint8_t* out, uint64_t n) {
  if (n > TensorFile::kChunkBytes) {
    f_.src_->read(base_ + at, out, n, "tensor data");
    return;
  }
  if (window_.empty() || at < window_start_ || at + n > window_start_ + window_.size()) {
    window_start_ = at;
    window_.resize(static_cast<size_t>(std::min<uint64_t>(TensorFile::kChunkBytes, avail_ - at)));
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
