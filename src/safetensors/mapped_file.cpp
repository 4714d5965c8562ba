// mapped_file.cpp — read-only memory map of an input file (platform/mapped_memory.hpp),
// with readahead and page release hints.
#include "safetensors/mapped_file.hpp"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <utility>

#include "core/error.hpp"
#include "platform/mapped_memory.hpp"

namespace qfp8 {
namespace {

using platform::page_size;

uint64_t round_down(uint64_t value, uint64_t unit) { return value / unit * unit; }
uint64_t round_up(uint64_t value, uint64_t unit) { return round_down(value + unit - 1, unit); }

// Where the kernel publishes the PMD size; 2 MiB (x86-64, arm64 with 4 KiB pages) when
// it does not say.
constexpr const char* kPmdSizePath = "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size";
constexpr uint64_t kDefaultFaultGranule = uint64_t{2} << 20;

}  // namespace

uint64_t MappedFile::fault_granule() {
  static const uint64_t granule = [] {
    uint64_t pmd_size = 0;
    std::ifstream in(kPmdSizePath);  // absent off Linux: the default
    if (!(in >> pmd_size) || pmd_size == 0) pmd_size = kDefaultFaultGranule;
    return std::max(pmd_size, page_size());
  }();
  return granule;
}

MappedFile::MappedFile(const std::string& path) : path_(path) {
  const platform::FileMapping mapping = platform::map_file_read_only(path);
  using Failure = platform::FileMapping::Failure;
  switch (mapping.failure) {
    case Failure::none:
      break;
    case Failure::open:
      throw Error(ErrorCode::OpenFailed, path, "", with_error("cannot open '" + path + "'", mapping.error));
    case Failure::stat:
      throw Error(ErrorCode::ReadFailed, path, "", with_error("cannot stat '" + path + "'", mapping.error));
    case Failure::directory:
      throw Error(ErrorCode::OpenFailed, path, "", with_errno("cannot open '" + path + "'", EISDIR));
    case Failure::not_regular:
      throw Error(ErrorCode::OpenFailed, path, "", "cannot open '" + path + "': not a regular file");
    case Failure::map:
      throw Error(ErrorCode::ReadFailed, path, "", with_error("cannot map '" + path + "'", mapping.error));
  }
  data_ = mapping.data;
  size_ = mapping.size;
}

MappedFile::~MappedFile() {
  platform::unmap_file(data_, size_);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    platform::unmap_file(data_, size_);
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
  platform::prefetch_pages(data_ + start, end - start);
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
  platform::release_pages(data_ + start, end - start);
}

void MappedFile::release_around(uint64_t offset, uint64_t length) const {
  if (data_ == nullptr || offset >= size_ || length == 0) return;
  const uint64_t granule = fault_granule();
  const uint64_t mapped_end = round_up(size_, page_size());
  const uint64_t start = round_down(offset, granule);
  const uint64_t end = std::min(round_up(offset + std::min(length, size_ - offset), granule),
                                mapped_end);
  platform::release_pages(data_ + start, end - start);
}

}  // namespace qfp8
