// A checkpoint file mapped into memory, so tensors are views of its pages
// (read from the page cache, never copied whole). One mapping for both
// plugin paths: --verify maps read-only; a built model maps copy-on-write,
// so --train's optimizer step may update weights in place without touching
// the file. Plain POSIX: no LibTorch here.
#pragma once

#include <cstddef>
#include <string>

namespace ptscope::torch_backend {

class MappedFile {
 public:
  enum class Mode { ReadOnly, CopyOnWrite };
  MappedFile(const std::string& path, Mode mode);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  char* data() const { return data_; }
  size_t size() const { return size_; }
  // Gives back the pages of [begin, begin + bytes) so they stop counting as ours.
  void drop(const void* begin, size_t bytes) const;

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace ptscope::torch_backend
