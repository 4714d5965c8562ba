// file_status.cpp (POSIX) — lstat/stat/fstat and access.
#include "platform/file_status.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include "platform/system_error.hpp"

namespace qfp8::platform {
namespace {

bool same_inode(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

FileKind link_kind(const std::string& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) return FileKind::missing;
  const mode_t mode = info.st_mode;
  if (S_ISREG(mode)) return FileKind::regular;
  if (S_ISLNK(mode)) return FileKind::symlink;
  if (S_ISDIR(mode)) return FileKind::directory;
  if (S_ISCHR(mode)) return FileKind::char_device;
  if (S_ISBLK(mode)) return FileKind::block_device;
  if (S_ISFIFO(mode)) return FileKind::fifo;
  if (S_ISSOCK(mode)) return FileKind::socket;
  return FileKind::other;
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat a_stat {};
  struct stat b_stat {};
  return ::stat(a.c_str(), &a_stat) == 0 && ::stat(b.c_str(), &b_stat) == 0 &&
         same_inode(a_stat, b_stat);
}

bool same_file(NativeFile file, const std::string& path) {
  struct stat opened {};
  struct stat named {};
  return ::fstat(static_cast<int>(file), &opened) == 0 && ::lstat(path.c_str(), &named) == 0 &&
         same_inode(opened, named);
}

std::string directory_identity(const std::string& directory, const std::string& fallback) {
  struct stat info {};
  if (::stat(directory.c_str(), &info) != 0) return fallback;
  return std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino);
}

std::error_code check_writable_directory(const std::string& directory) {
  struct stat info {};
  if (::stat(directory.c_str(), &info) != 0) return last_error();
  if (!S_ISDIR(info.st_mode)) return std::make_error_code(std::errc::not_a_directory);
  if (::access(directory.c_str(), W_OK | X_OK) != 0) return last_error();
  return {};
}

}  // namespace qfp8::platform
