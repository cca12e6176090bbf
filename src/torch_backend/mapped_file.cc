#include "mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>

#include "commands.h"

namespace ptscope::torch_backend {

MappedFile::MappedFile(const std::string& path, Mode mode) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw BackendError("cannot open " + path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw BackendError("cannot stat " + path);
  }
  size_ = static_cast<size_t>(st.st_size);
  int prot = mode == Mode::CopyOnWrite ? PROT_READ | PROT_WRITE : PROT_READ;
  void* data = size_ ? ::mmap(nullptr, size_, prot, MAP_PRIVATE, fd, 0) : nullptr;
  ::close(fd);
  if (data == MAP_FAILED) throw BackendError("cannot map " + path);
  data_ = static_cast<char*>(data);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(data_, size_);
}

void MappedFile::drop(const void* begin, size_t bytes) const {
  uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  uintptr_t b = reinterpret_cast<uintptr_t>(begin) & ~(page - 1);
  ::madvise(reinterpret_cast<void*>(b), bytes + (reinterpret_cast<uintptr_t>(begin) - b), MADV_DONTNEED);
}

}  // namespace ptscope::torch_backend
