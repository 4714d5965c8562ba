// output_file.cpp (Windows) — CreateFileW(CREATE_NEW), WriteFile at 64-bit offsets,
// FlushFileBuffers, MoveFileExW (without MOVEFILE_REPLACE_EXISTING: never replaces).
// Windows has no unnamed files: the `.partial` name is always used.
#include "platform/output_file.hpp"

#include <algorithm>

#include "platform/system_error.hpp"
#include "platform/windows/wide_path.hpp"

namespace qfp8::platform {

using windows::api_path;
using windows::handle_of;

std::error_code create_exclusive(const std::string& path, NativeFile& file) {
  // FILE_READ_ATTRIBUTES: same_file() reads the file's identity through this handle.
  const HANDLE handle = CreateFileW(api_path(path).c_str(), GENERIC_WRITE | FILE_READ_ATTRIBUTES,
                                    FILE_SHARE_READ | FILE_SHARE_DELETE, nullptr, CREATE_NEW,
                                    FILE_ATTRIBUTE_NORMAL, nullptr);
  if (handle == INVALID_HANDLE_VALUE) return last_error();
  file = windows::native_of(handle);
  return {};
}

bool open_unnamed(const std::string&, NativeFile&, std::string&) { return false; }

std::error_code link_unnamed(const std::string&, const std::string&) {
  return std::make_error_code(std::errc::function_not_supported);
}

std::error_code write_all_at(NativeFile file, uint64_t offset, const void* data, uint64_t size) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  while (size > 0) {
    // WriteFile takes a 32-bit count: 1 GiB per call; the offset is 64 bits.
    const DWORD chunk = static_cast<DWORD>(std::min<uint64_t>(size, uint64_t{1} << 30));
    OVERLAPPED at{};
    at.Offset = static_cast<DWORD>(offset);
    at.OffsetHigh = static_cast<DWORD>(offset >> 32);
    DWORD written = 0;
    if (!WriteFile(handle_of(file), bytes, chunk, &written, &at)) return last_error();
    if (written == 0) return std::make_error_code(std::errc::io_error);
    bytes += written;
    offset += written;
    size -= written;
  }
  return {};
}

// The cache manager's lazy writer flushes on its own; FlushFileBuffers at commit waits.
void start_writeback(NativeFile, uint64_t, uint64_t) noexcept {}

std::error_code sync_file(NativeFile file) {
  if (!FlushFileBuffers(handle_of(file))) return last_error();
  return {};
}

std::error_code close_file(NativeFile file) {
  if (!CloseHandle(handle_of(file))) return last_error();
  return {};
}

// NTFS journals the rename itself, and MoveFileExW with MOVEFILE_WRITE_THROUGH returns only
// once it is on the disk: there is no directory to sync.
std::error_code sync_directory(const std::string&) { return {}; }

std::error_code rename_no_replace(const std::string& from, const std::string& to,
                                  const char*& step) {
  step = "rename";
  // Fails with ERROR_ALREADY_EXISTS when `to` exists: atomic, never replaces.
  if (!MoveFileExW(api_path(from).c_str(), api_path(to).c_str(), MOVEFILE_WRITE_THROUGH)) {
    return last_error();
  }
  return {};
}

std::error_code rename_replace(const std::string& from, const std::string& to) {
  if (!MoveFileExW(api_path(from).c_str(), api_path(to).c_str(),
                   MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    return last_error();
  }
  return {};
}

std::error_code remove_file(const std::string& path) {
  if (!DeleteFileW(api_path(path).c_str())) return last_error();
  return {};
}

}  // namespace qfp8::platform
