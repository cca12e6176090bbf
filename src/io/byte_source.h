// Random access to the bytes of a checkpoint. Readers never see a whole file
// in memory: they ask for the ranges they need, and every request is checked
// against size() before a buffer is allocated for it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace ptscope {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // Reads exactly n bytes at pos; throws Error naming `what` when the range
  // runs past the end or the read fails.
  virtual void read(uint64_t pos, void* buf, size_t n, const char* what) const = 0;

  // Bounds-checked read into a string; the check comes before the allocation.
  std::string read_string(uint64_t pos, uint64_t n, const char* what) const;
  uint16_t read_u16(uint64_t pos, const char* what) const;
  uint32_t read_u32(uint64_t pos, const char* what) const;
  uint64_t read_u64(uint64_t pos, const char* what) const;
  // Throws unless [pos, pos + n) lies inside the source.
  void check_range(uint64_t pos, uint64_t n, const char* what) const;
};

// A file read with pread(2); the file is never mapped or slurped.
std::unique_ptr<ByteSource> open_file(const std::string& path);

// The whole of a small file (a shard index, a config.json): its size is
// checked against `limit` before anything is read. nullopt when larger;
// throws Error when it cannot be opened.
std::optional<std::string> read_small_file(const std::string& path, uint64_t limit);

// A window [offset, offset + size) of another source, read as a source of
// its own: one torch.save archive inside a DCP data file.
class SliceSource : public ByteSource {
 public:
  SliceSource(const ByteSource& base, uint64_t offset, uint64_t size)
      : base_(base), offset_(offset), size_(size) {}
  uint64_t size() const override { return size_; }
  void read(uint64_t pos, void* buf, size_t n, const char* what) const override;

 private:
  const ByteSource& base_;
  uint64_t offset_, size_;
};

// Bytes already in memory: tests, and records that had to be inflated.
class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::string bytes) : bytes_(std::move(bytes)) {}
  uint64_t size() const override { return bytes_.size(); }
  void read(uint64_t pos, void* buf, size_t n, const char* what) const override;
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

}  // namespace ptscope
