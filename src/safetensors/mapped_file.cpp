// mapped_file.cpp — read-only mmap of an input file, with readahead and page release hints.
#include "safetensors/mapped_file.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <utility>

#include "core/error.hpp"

namespace qfp8 {
namespace {

uint64_t page_size() {
  static const uint64_t size = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return size;
}

uint64_t round_down(uint64_t value, uint64_t unit) { return value / unit * unit; }
uint64_t round_up(uint64_t value, uint64_t unit) { return round_down(value + unit - 1, unit); }

// Closes the descriptor on every path out of the constructor; the mapping outlives it.
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
};

// Where the kernel publishes the PMD size; 2 MiB (x86-64, arm64 with 4 KiB pages) when
// it does not say.
constexpr const char* kPmdSizePath = "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size";
constexpr uint64_t kDefaultFaultGranule = uint64_t{2} << 20;

}  // namespace

uint64_t MappedFile::fault_granule() {
  static const uint64_t granule = [] {
    uint64_t pmd_size = 0;
    std::ifstream in(kPmdSizePath);
    if (!(in >> pmd_size) || pmd_size == 0) pmd_size = kDefaultFaultGranule;
    return std::max(pmd_size, page_size());
  }();
  return granule;
}

MappedFile::MappedFile(const std::string& path) : path_(path) {
  // O_NONBLOCK: opening a FIFO by mistake must not hang; it is then rejected as not regular.
  FdGuard guard{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (guard.fd < 0) {
    throw Error(ErrorCode::OpenFailed, path, "", with_errno("cannot open '" + path + "'", errno));
  }
  struct stat info {};
  if (::fstat(guard.fd, &info) != 0) {
    throw Error(ErrorCode::ReadFailed, path, "", with_errno("cannot stat '" + path + "'", errno));
  }
  if (S_ISDIR(info.st_mode)) {
    throw Error(ErrorCode::OpenFailed, path, "", with_errno("cannot open '" + path + "'", EISDIR));
  }
  if (!S_ISREG(info.st_mode)) {
    throw Error(ErrorCode::OpenFailed, path, "", "cannot open '" + path + "': not a regular file");
  }
  size_ = static_cast<uint64_t>(info.st_size);
  if (size_ == 0) return;  // mmap of 0 bytes fails; the parser reports HeaderTooSmall
  void* mapping = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, guard.fd, 0);
  if (mapping == MAP_FAILED) {
    throw Error(ErrorCode::ReadFailed, path, "", with_errno("cannot map '" + path + "'", errno));
  }
  data_ = static_cast<const uint8_t*>(mapping);
  // A hint only: a failure changes speed, not results.
  ::madvise(mapping, size_, MADV_SEQUENTIAL);
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
    path_ = std::move(other.path_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

// An empty range touches no page: no system call (a file of a million 0-byte tensors
// would make two per tensor).
void MappedFile::prefetch(uint64_t offset, uint64_t length) const {
  if (data_ == nullptr || offset >= size_ || length == 0) return;
  const uint64_t start = round_down(offset, page_size());
  const uint64_t end = length > size_ - offset ? size_ : offset + length;
  ::madvise(const_cast<uint8_t*>(data_) + start, end - start, MADV_WILLNEED);
}

void MappedFile::release(uint64_t offset, uint64_t length) const {
  if (data_ == nullptr || offset >= size_) return;
  // Only whole pages inside the range: a neighbouring tensor may share the edge pages.
  // The tail page past the end of the file belongs to nobody, so a range reaching the end
  // takes it too.
  const uint64_t start = round_up(offset, page_size());
  const bool to_end = length >= size_ - offset;
  const uint64_t end = to_end ? round_up(size_, page_size()) : round_down(offset + length, page_size());
  if (end <= start) return;
  ::madvise(const_cast<uint8_t*>(data_) + start, end - start, MADV_DONTNEED);
}

void MappedFile::release_around(uint64_t offset, uint64_t length) const {
  if (data_ == nullptr || offset >= size_ || length == 0) return;
  const uint64_t granule = fault_granule();
  const uint64_t mapped_end = round_up(size_, page_size());
  const uint64_t start = round_down(offset, granule);
  const uint64_t end = std::min(round_up(offset + std::min(length, size_ - offset), granule),
                                mapped_end);
  ::madvise(const_cast<uint8_t*>(data_) + start, end - start, MADV_DONTNEED);
}

}  // namespace qfp8
