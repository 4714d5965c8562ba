// output_file.cpp (POSIX) — O_TMPFILE + linkat through /proc, pwrite, sync_file_range,
// fsync of the file and of its directory, renameat2(RENAME_NOREPLACE) with a link()
// fallback.
#include "platform/output_file.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "platform/system_error.hpp"

namespace qfp8::platform {
namespace {

int fd_of(NativeFile file) { return static_cast<int>(file); }

}  // namespace

std::error_code create_exclusive(const std::string& path, NativeFile& file) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return last_error();
  file = fd;
  return {};
}

bool open_unnamed(const std::string& directory, NativeFile& file, std::string& reach_path) {
  // Refused where the file system lacks it (EOPNOTSUPP: NFS, older overlayfs; EISDIR or
  // EINVAL: kernels before 3.11): then the named file is used, and reports real errors.
  const int fd = ::open(directory.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  const std::string proc_path = "/proc/self/fd/" + std::to_string(fd);
  // Without /proc the file could never be linked into place.
  if (::access(proc_path.c_str(), F_OK) != 0) {
    ::close(fd);
    return false;
  }
  file = fd;
  reach_path = proc_path;
  return true;
}

// Through /proc with AT_SYMLINK_FOLLOW, linkat needs no capability (AT_EMPTY_PATH on the
// descriptor itself needs CAP_DAC_READ_SEARCH on older kernels). Fails with EEXIST rather
// than replace anything.
std::error_code link_unnamed(const std::string& reach_path, const std::string& to) {
  if (::linkat(AT_FDCWD, reach_path.c_str(), AT_FDCWD, to.c_str(), AT_SYMLINK_FOLLOW) != 0) {
    return last_error();
  }
  return {};
}

std::error_code write_all_at(NativeFile file, uint64_t offset, const void* data, uint64_t size) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  while (size > 0) {
    // pwrite moves at most ~2 GiB per call on Linux; loop on short writes and EINTR.
    const ssize_t written = ::pwrite(fd_of(file), bytes, size, static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    if (written == 0) return {EIO, std::generic_category()};
    bytes += written;
    offset += static_cast<uint64_t>(written);
    size -= static_cast<uint64_t>(written);
  }
  return {};
}

void start_writeback(NativeFile file, uint64_t offset, uint64_t length) noexcept {
  ::sync_file_range(fd_of(file), static_cast<off_t>(offset), static_cast<off_t>(length),
                    SYNC_FILE_RANGE_WRITE);
}

std::error_code sync_file(NativeFile file) {
  if (::fsync(fd_of(file)) != 0) return last_error();
  return {};
}

std::error_code close_file(NativeFile file) {
  if (::close(fd_of(file)) != 0) return last_error();
  return {};
}

// Some file systems refuse fsync on a directory (EINVAL): nothing more can be done there,
// and the data itself is already synced.
std::error_code sync_directory(const std::string& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return {};
  const int result = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  if (result != 0 && saved != EINVAL) return {saved, std::generic_category()};
  return {};
}

// renameat2 is atomic; where the file system lacks RENAME_NOREPLACE (EINVAL) or the kernel
// lacks renameat2 (ENOSYS), link() + unlink() gives the same guarantee (link fails with
// EEXIST).
std::error_code rename_no_replace(const std::string& from, const std::string& to,
                                  const char*& step) {
  step = "rename";
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return {};
  if (errno == EEXIST || (errno != EINVAL && errno != ENOSYS)) return last_error();
  step = "link";
  if (::link(from.c_str(), to.c_str()) != 0) return last_error();
  ::unlink(from.c_str());
  return {};
}

std::error_code rename_replace(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return last_error();
  return {};
}

std::error_code remove_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return last_error();
  return {};
}

}  // namespace qfp8::platform
