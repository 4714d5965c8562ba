// mapped_memory.cpp (Windows) — CreateFileW + CreateFileMappingW + MapViewOfFile (a whole
// file of any size: 64-bit sizes throughout), PrefetchVirtualMemory, and VirtualUnlock to
// trim pages from the working set.
#include "platform/mapped_memory.hpp"

#include "platform/system_error.hpp"
#include "platform/windows/wide_path.hpp"

namespace qfp8::platform {
namespace {

struct HandleGuard {
  HANDLE handle;
  ~HandleGuard() {
    if (handle != nullptr && handle != INVALID_HANDLE_VALUE) CloseHandle(handle);
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
  // Every sharing mode, as on POSIX: the output being written is read back before it is
  // published (convert's verification of its own `.partial`), and may be renamed while its
  // view is open. FILE_FLAG_BACKUP_SEMANTICS opens a directory too, so that it is named as one.
  HandleGuard file{CreateFileW(windows::api_path(path).c_str(), GENERIC_READ,
                               FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                               OPEN_EXISTING,
                               FILE_FLAG_SEQUENTIAL_SCAN | FILE_FLAG_BACKUP_SEMANTICS, nullptr)};
  if (file.handle == INVALID_HANDLE_VALUE) return failed(FileMapping::Failure::open, last_error());
  BY_HANDLE_FILE_INFORMATION info{};
  if (!GetFileInformationByHandle(file.handle, &info)) {
    return failed(FileMapping::Failure::stat, last_error());
  }
  if ((info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0) {
    return failed(FileMapping::Failure::directory);
  }
  if (GetFileType(file.handle) != FILE_TYPE_DISK) return failed(FileMapping::Failure::not_regular);
  FileMapping mapping;
  mapping.size = (static_cast<uint64_t>(info.nFileSizeHigh) << 32) | info.nFileSizeLow;
  if (mapping.size == 0) return mapping;  // a mapping of 0 bytes fails; the parser reports it
  HandleGuard section{CreateFileMappingW(file.handle, nullptr, PAGE_READONLY, 0, 0, nullptr)};
  if (section.handle == nullptr) return failed(FileMapping::Failure::map, last_error());
  // The view keeps the section and the file open after both handles are closed.
  void* data = MapViewOfFile(section.handle, FILE_MAP_READ, 0, 0, 0);
  if (data == nullptr) return failed(FileMapping::Failure::map, last_error());
  mapping.data = static_cast<const uint8_t*>(data);
  return mapping;
}

void unmap_file(const uint8_t* data, uint64_t) noexcept {
  if (data != nullptr) UnmapViewOfFile(data);
}

uint64_t page_size() {
  static const uint64_t size = [] {
    SYSTEM_INFO info{};
    GetSystemInfo(&info);
    return static_cast<uint64_t>(info.dwPageSize);
  }();
  return size;
}

void prefetch_pages(const uint8_t* data, uint64_t length) noexcept {
  WIN32_MEMORY_RANGE_ENTRY range{const_cast<uint8_t*>(data), static_cast<SIZE_T>(length)};
  PrefetchVirtualMemory(GetCurrentProcess(), 1, &range, 0);
}

void release_pages(const uint8_t* data, uint64_t length) noexcept {
  // VirtualUnlock on pages that are not locked removes them from the working set (and
  // fails with ERROR_NOT_LOCKED, which is expected); they stay in the standby list, as
  // MADV_DONTNEED leaves them in the page cache.
  VirtualUnlock(const_cast<uint8_t*>(data), static_cast<SIZE_T>(length));
}

}  // namespace qfp8::platform
