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
  /// Drops [offset, offset+length) and every page that reading it may have mapped along
  /// with it: the range widened to fault_granule() boundaries. Neighbouring data goes too;
  /// reading it again just faults it back in from the page cache.
  void release_around(uint64_t offset, uint64_t length) const;
  /// The most one read fault may map. The kernel maps a whole page-cache folio per fault,
  /// and after read-ahead folios reach the PMD size (2 MiB on x86-64): touching a 3 KiB
  /// bias maps up to 2 MiB of its neighbours. Folios are aligned to their size in the file.
  static uint64_t fault_granule();

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace qfp8
