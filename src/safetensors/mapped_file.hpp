// mapped_file.hpp — a read-only memory map of an input file. Callers release the pages
// they are done with so resident memory stays bounded on 40 GB inputs.
#pragma once

#include <cstdint>
#include <string>

namespace qfp8 {

class MappedFile {
 public:
  /// Maps `path` read-only with MADV_SEQUENTIAL. Throws OpenFailed / ReadFailed.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }

  /// Asks the kernel to read [offset, offset+length) ahead (MADV_WILLNEED).
  void prefetch(uint64_t offset, uint64_t length) const;
  /// Drops the pages fully inside [offset, offset+length) from this process's resident set
  /// (MADV_DONTNEED on a read-only file mapping: the data stays in the page cache).
  void release(uint64_t offset, uint64_t length) const;

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace qfp8
