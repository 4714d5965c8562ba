// file_status.hpp — what a path names (without following a final symbolic link), and
// whether two paths or an open file and a path are the same file.
#pragma once

#include <string>

#include "platform/output_file.hpp"

namespace qfp8::platform {

enum class FileKind {
  missing,  // absent, or unreachable
  regular,
  symlink,
  directory,
  char_device,
  block_device,
  fifo,
  socket,
  other
};

/// lstat() / GetFileAttributesW of `path` (UTF-8).
FileKind link_kind(const std::string& path);

/// Both paths exist and name the same file (device and inode, volume and file index).
bool same_file(const std::string& a, const std::string& b);
/// `path` names the file open as `file` (not following a final symbolic link).
bool same_file(NativeFile file, const std::string& path);

/// A text that names the directory `directory` the same for every spelling of its path
/// ("dev:ino" on POSIX); `fallback` when it cannot be read.
std::string directory_identity(const std::string& directory, const std::string& fallback);

/// Succeeds when `directory` exists, is a directory and takes new files.
std::error_code check_writable_directory(const std::string& directory);

}  // namespace qfp8::platform
