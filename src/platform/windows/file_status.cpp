// file_status.cpp (Windows) — GetFileAttributesW, and a file's identity: its volume serial
// number and file index (GetFileInformationByHandle), Windows' device and inode.
#include "platform/file_status.hpp"

#include <optional>

#include "platform/system_error.hpp"
#include "platform/windows/wide_path.hpp"

namespace qfp8::platform {
namespace {

using windows::api_path;

struct Identity {
  DWORD volume;
  DWORD index_high;
  DWORD index_low;
  bool operator==(const Identity& other) const {
    return volume == other.volume && index_high == other.index_high &&
           index_low == other.index_low;
  }
};

std::optional<Identity> identity_of(HANDLE handle) {
  BY_HANDLE_FILE_INFORMATION info{};
  if (!GetFileInformationByHandle(handle, &info)) return std::nullopt;
  return Identity{info.dwVolumeSerialNumber, info.nFileIndexHigh, info.nFileIndexLow};
}

// `follow`: false names a symbolic link itself (lstat), true its target (stat).
std::optional<Identity> identity_of(const std::string& path, bool follow) {
  DWORD flags = FILE_FLAG_BACKUP_SEMANTICS;  // directories too
  if (!follow) flags |= FILE_FLAG_OPEN_REPARSE_POINT;
  const HANDLE handle = CreateFileW(api_path(path).c_str(), FILE_READ_ATTRIBUTES,
                                    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                    nullptr, OPEN_EXISTING, flags, nullptr);
  if (handle == INVALID_HANDLE_VALUE) return std::nullopt;
  const std::optional<Identity> identity = identity_of(handle);
  CloseHandle(handle);
  return identity;
}

}  // namespace

FileKind link_kind(const std::string& path) {
  const DWORD attributes = GetFileAttributesW(api_path(path).c_str());
  if (attributes == INVALID_FILE_ATTRIBUTES) return FileKind::missing;
  if ((attributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0) return FileKind::symlink;
  if ((attributes & FILE_ATTRIBUTE_DIRECTORY) != 0) return FileKind::directory;
  return FileKind::regular;
}

bool same_file(const std::string& a, const std::string& b) {
  const std::optional<Identity> first = identity_of(a, true);
  const std::optional<Identity> second = identity_of(b, true);
  return first && second && *first == *second;
}

bool same_file(NativeFile file, const std::string& path) {
  const std::optional<Identity> opened = identity_of(windows::handle_of(file));
  const std::optional<Identity> named = identity_of(path, false);
  return opened && named && *opened == *named;
}

std::string directory_identity(const std::string& directory, const std::string& fallback) {
  const std::optional<Identity> identity = identity_of(directory, true);
  if (!identity) return fallback;
  return std::to_string(identity->volume) + ":" +
         std::to_string((static_cast<uint64_t>(identity->index_high) << 32) | identity->index_low);
}

// Whether the directory takes new files is not asked here (Windows access checks need the
// whole security descriptor): creating the `.partial` file reports it.
std::error_code check_writable_directory(const std::string& directory) {
  const DWORD attributes = GetFileAttributesW(api_path(directory).c_str());
  if (attributes == INVALID_FILE_ATTRIBUTES) return last_error();
  if ((attributes & FILE_ATTRIBUTE_DIRECTORY) == 0) {
    return std::make_error_code(std::errc::not_a_directory);
  }
  return {};
}

}  // namespace qfp8::platform
