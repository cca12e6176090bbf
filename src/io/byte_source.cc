#include "byte_source.h"

#include <algorithm>
#include <mutex>
#include <vector>

#include "little_endian.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ptscope/error.h"

namespace ptscope {

void ByteSource::check_range(uint64_t pos, uint64_t n, const char* what) const {
  uint64_t total = size();
  if (pos > total || n > total - pos)
    throw Error(std::string(what) + ": " + std::to_string(n) +
                    " bytes run past the end of the data (" + std::to_string(total) +
                    " bytes)",
                pos);
}

std::string ByteSource::read_string(uint64_t pos, uint64_t n, const char* what) const {
  check_range(pos, n, what);
  std::string s(static_cast<size_t>(n), '\0');
  if (n) read(pos, s.data(), static_cast<size_t>(n), what);
  return s;
}

namespace {
template <typename T>
T read_le(const ByteSource& src, uint64_t pos, const char* what) {
  unsigned char b[sizeof(T)];
  src.read(pos, b, sizeof(T), what);
  return load_le<T>(b);
}

class FileSource : public ByteSource {
 public:
  FileSource(int fd, uint64_t size) : fd_(fd), size_(size) {}
  ~FileSource() override { ::close(fd_); }
  uint64_t size() const override { return size_; }
  // Small reads come from a window of the file read ahead: a zip's local
  // headers lie one after another, tens of thousands of them in a mixture
  // of experts, and a system call each would be most of the reading. The
  // window is a full one only for a read within a page of the last one's
  // end: past a record of more than that, the next header is read with a
  // page, where a full window per header copied 64 KiB for every tensor.
  void read(uint64_t pos, void* buf, size_t n, const char* what) const override {
    check_range(pos, n, what);
    if (n > kWindow / 4) return pread_all(pos, static_cast<char*>(buf), n, what);
    std::lock_guard<std::mutex> lock(mutex_);
    if (pos < window_at_ || pos + n > window_at_ + window_.size()) {
      bool near = pos >= window_at_ && pos - window_at_ < window_.size() + kPage;
      size_t want = std::max(near ? kWindow : kPage, n);
      size_t len = static_cast<size_t>(std::min<uint64_t>(want, size_ - pos));
      window_.resize(len);
      window_at_ = pos;
      try {
        pread_all(pos, window_.data(), len, what);
      } catch (...) {
        window_.clear();
        throw;
      }
    }
    if (n) std::memcpy(buf, window_.data() + (pos - window_at_), n);
  }

 private:
  static constexpr size_t kWindow = 64 * 1024, kPage = 4096;
  void pread_all(uint64_t pos, char* out, size_t n, const char* what) const {
    while (n > 0) {
      ssize_t got = ::pread(fd_, out, n, static_cast<off_t>(pos));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0)
        throw Error(std::string(what) + ": read failed: " +
                        (got < 0 ? std::strerror(errno) : "unexpected end of file"),
                    pos);
      out += got;
      pos += static_cast<uint64_t>(got);
      n -= static_cast<size_t>(got);
    }
  }
  int fd_;
  uint64_t size_;
  mutable std::mutex mutex_;
  mutable std::vector<char> window_;
  mutable uint64_t window_at_ = 0;
};
}  // namespace

uint16_t ByteSource::read_u16(uint64_t pos, const char* what) const {
  return read_le<uint16_t>(*this, pos, what);
}
uint32_t ByteSource::read_u32(uint64_t pos, const char* what) const {
  return read_le<uint32_t>(*this, pos, what);
}
uint64_t ByteSource::read_u64(uint64_t pos, const char* what) const {
  return read_le<uint64_t>(*this, pos, what);
}

// stat before open: opening a FIFO for reading blocks until a writer comes,
// and a device may act on being opened. O_NONBLOCK as well, for the race
// where the path is swapped for a FIFO between the two calls; the fstat
// after open is the check that counts.
std::unique_ptr<ByteSource> open_file(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    throw Error(std::string("cannot open: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw Error("not a regular file");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw Error(std::string("cannot open: ") + std::strerror(errno));
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error("not a regular file");
  }
  return std::make_unique<FileSource>(fd, static_cast<uint64_t>(st.st_size));
}

void MemorySource::read(uint64_t pos, void* buf, size_t n, const char* what) const {
  check_range(pos, n, what);
  if (n) std::memcpy(buf, bytes_.data() + pos, n);
}

std::optional<std::string> read_small_file(const std::string& path, uint64_t limit) {
  std::unique_ptr<ByteSource> src = open_file(path);
  if (src->size() > limit) return std::nullopt;
  return src->read_string(0, src->size(), "the file");
}

void SliceSource::read(uint64_t pos, void* buf, size_t n, const char* what) const {
  check_range(pos, n, what);
  base_.read(offset_ + pos, buf, n, what);
}

}  // namespace ptscope
