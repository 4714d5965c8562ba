// mapped_memory.cpp (POSIX) — mmap with MADV_SEQUENTIAL, MADV_WILLNEED and MADV_DONTNEED.
#include "platform/mapped_memory.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/system_error.hpp"

namespace qfp8::platform {
namespace {

// Closes the descriptor on every path out; the mapping outlives it.
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
};

FileMapping failed(FileMapping::Failure failure, std::error_code error = {}) {
  FileMapping mapping;
  mapping.failure = failure;
  mapping.error = error;
  return mapping;
}

}  // namespace

FileMapping map_file_read_only(const std::string& path) {
  // O_NONBLOCK: opening a FIFO by mistake must not hang; it is then rejected as not regular.
  FdGuard guard{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (guard.fd < 0) return failed(FileMapping::Failure::open, last_error());
  struct stat info {};
  if (::fstat(guard.fd, &info) != 0) return failed(FileMapping::Failure::stat, last_error());
  if (S_ISDIR(info.st_mode)) return failed(FileMapping::Failure::directory);
  if (!S_ISREG(info.st_mode)) return failed(FileMapping::Failure::not_regular);
  FileMapping mapping;
  mapping.size = static_cast<uint64_t>(info.st_size);
  if (mapping.size == 0) return mapping;  // mmap of 0 bytes fails; the parser reports it
  void* data = ::mmap(nullptr, mapping.size, PROT_READ, MAP_PRIVATE, guard.fd, 0);
  if (data == MAP_FAILED) return failed(FileMapping::Failure::map, last_error());
  mapping.data = static_cast<const uint8_t*>(data);
  // A hint only: a failure changes speed, not results.
  ::madvise(data, mapping.size, MADV_SEQUENTIAL);
  return mapping;
}

void unmap_file(const uint8_t* data, uint64_t size) noexcept {
  if (data != nullptr) ::munmap(const_cast<uint8_t*>(data), size);
}

uint64_t page_size() {
  static const uint64_t size = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return size;
}

void prefetch_pages(const uint8_t* data, uint64_t length) noexcept {
  ::madvise(const_cast<uint8_t*>(data), length, MADV_WILLNEED);
}

void release_pages(const uint8_t* data, uint64_t length) noexcept {
  // MADV_DONTNEED on a read-only file mapping: the data stays in the page cache.
  ::madvise(const_cast<uint8_t*>(data), length, MADV_DONTNEED);
}

}  // namespace qfp8::platform
